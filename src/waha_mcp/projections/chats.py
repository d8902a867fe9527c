"""Chats: the chat list and what was done to a chat."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import Time, iso, serialized_id, short
from waha_mcp.projections.media import message_media


class Chat(TypedDict):
    id: NotRequired[str]
    name: NotRequired[str]
    kind: str  # person | group | channel | status | broadcast
    unread: NotRequired[int | Literal["marked"]]
    last: NotRequired[str]  # a preview of the last message
    time: NotRequired[Time]
    archived: NotRequired[bool]
    pinned: NotRequired[bool]
    phone: NotRequired[str]  # +<digits>: the number behind a `@lid` chat, when the session knows it


class ChatList(TypedDict):
    chats: list[Chat]
    nextOffset: int | None


class ChatRead(TypedDict):
    chatId: str
    read: int | None
    unread: int


class ChatMarkedUnread(TypedDict):
    chatId: str
    markedUnread: bool


class ChatArchived(TypedDict):
    chatId: str
    archived: bool


class ChatDeleted(TypedDict):
    chatId: str
    deleted: bool


class ChatCleared(TypedDict):
    chatId: str
    cleared: bool


class ChatPicture(TypedDict):
    chatId: str
    picture: NotRequired[None]  # the chat has none
    url: NotRequired[str]  # on another host: not fetched
    bytes: NotRequired[int]  # shown as an image


def chat_kind(chat_id: Any) -> str:
    cid = str(chat_id or "")
    if cid.endswith("@g.us"):
        return "group"
    if cid.endswith("@newsletter"):
        return "channel"
    if cid == "status@broadcast":
        return "status"
    if cid.endswith("@broadcast"):
        return "broadcast"
    return "person"


def chat(item: dict[str, Any], names: Mapping[str, str] | None = None, phones: Mapping[str, str] | None = None) -> Chat:
    """A chat from the overview (`ChatSummary`) or the plain list: id, name, kind, unread, last, time.

    A `@lid` chat (WhatsApp hides the number) gets its number as `phone` from `phones` (LID → phone id) and,
    when WAHA gives it no name, the contact's name from `names` (id → name)."""
    # Built key by key with no empty value (what drop_empty would leave): this runs for every chat of every list.
    raw = item.get("_chat")
    if not isinstance(raw, dict):
        raw = _NONE
    last = item.get("lastMessage")
    if not isinstance(last, dict):
        last = _NONE
    cid = serialized_id(item.get("id"))
    name = item.get("name") or raw.get("name")
    phone = None
    pn = phones.get(cid) if phones and cid else None
    if pn:
        phone = "+" + pn.split("@")[0]
        known = names.get(cid) if names and cid else None
        if not name and known and known != phone:
            name = known
    out: dict[str, Any] = {"id": cid} if cid else {}
    if name not in _EMPTIES:
        out["name"] = name
    out["kind"] = chat_kind(cid)
    unread = item.get("unreadCount", raw.get("unreadCount"))
    if isinstance(unread, int) and not isinstance(unread, bool):
        # WhatsApp's "mark as unread" has no count: NOWEB stores it as -1.
        out["unread"] = unread if unread >= 0 else "marked"
    preview = short(last.get("body"))
    if preview is None and last.get("hasMedia"):
        media = message_media(last)
        preview = f"[{media.get('type') or 'media' if media else 'media'}]"
    if preview is not None:
        out["last"] = f"me: {preview}" if last.get("fromMe") else preview
    stamp = (
        last.get("timestamp")
        or item.get("conversationTimestamp")
        or raw.get("conversationTimestamp")
        or item.get("timestamp")
    )
    when = iso(stamp) if stamp else None
    if when:
        out["time"] = when
    if item.get("archived") or raw.get("archived"):
        out["archived"] = True
    if item.get("pinned") or raw.get("pinned"):
        out["pinned"] = True
    if phone:
        out["phone"] = phone
    return cast(Chat, out)


_NONE: dict[str, Any] = {}
_EMPTIES: tuple[Any, ...] = (None, "", [], {})


def chat_list(
    items: list[Any],
    next_offset: int | None,
    *,
    by_name: bool = False,
    names: dict[str, str] | None = None,
    phones: dict[str, str] | None = None,
) -> ChatList:
    """`names`, `phones`: who the `@lid` chats are (see `chat`)."""
    chats = [chat(c, names, phones) for c in items if isinstance(c, dict)]
    if by_name:
        chats.sort(key=lambda c: str(c.get("name") or c.get("id")).lower())
    return {"chats": chats, "nextOffset": next_offset}


def chat_read(chat_id: str, answer: Any) -> ChatRead:
    read = answer.get("ids") if isinstance(answer, dict) else None
    return {"chatId": chat_id, "read": len(read) if isinstance(read, list) else None, "unread": 0}


def chat_marked_unread(chat_id: str) -> ChatMarkedUnread:
    return {"chatId": chat_id, "markedUnread": True}


def chat_archived(chat_id: str, archived: bool) -> ChatArchived:
    return {"chatId": chat_id, "archived": archived}


def chat_deleted(chat_id: str) -> ChatDeleted:
    return {"chatId": chat_id, "deleted": True}


def chat_cleared(chat_id: str) -> ChatCleared:
    return {"chatId": chat_id, "cleared": True}


def chat_picture(chat_id: str, *, url: str | None = None, image: bytes | None = None) -> ChatPicture:
    """No url: the chat has no picture; an image: it is shown; else the url (another host's) stands in."""
    if image is not None:
        return {"chatId": chat_id, "bytes": len(image)}
    if url:
        return {"chatId": chat_id, "url": url}
    return {"chatId": chat_id, "picture": None}
