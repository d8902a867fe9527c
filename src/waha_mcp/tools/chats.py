"""Toolset `chats`: the chat list, messages, read state, archive, pin, edit and delete."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from waha_mcp import ids as wid
from waha_mcp import projections as view
from waha_mcp.client import Binary, WAHAError
from waha_mcp.errors import ToolInputError
from waha_mcp.tools._common import ChatId, Deps, MessageId, Session, image_result
from waha_mcp.tools.registry import tool

# More ids than this go in a POST body: a long query string can be cut by proxies.
GET_IDS_MAX = 20
PIN_SECONDS = {"24h": 86400, "7d": 604800, "30d": 2592000}
PICTURE_MAX_BYTES = 5 * 1024 * 1024

# Bare types: every schema byte is paid on every turn, so bounds are checked in code.
Ack = Literal["error", "pending", "sent", "delivered", "read", "played"]


def _next_offset(items: list[Any], limit: int, offset: int) -> int | None:
    return offset + limit if len(items) >= limit else None


def _paging(limit: int, offset: int) -> None:
    if not 1 <= limit <= 100:
        raise ToolInputError(f"limit {limit} is out of range: 1-100")
    if offset < 0:
        raise ToolInputError(f"offset {offset} must be 0 or more")


def _unix(value: str | None, field: str) -> int | None:
    """ISO 8601 (a date, or a time with or without offset; UTC when none) or unix seconds/ms → seconds."""
    if value is None or not str(value).strip():
        return None
    raw = str(value).strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", raw):
        number = float(raw)
        return int(number / 1000 if number > 1e11 else number)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ToolInputError(f"{field} {raw[:40]!r} is not an ISO 8601 time or unix seconds") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


async def _names(w: Deps, session: str, messages: list[dict[str, Any]]) -> dict[str, str]:
    """Contact names for the senders, fetched once per call and only when someone else wrote."""
    if all(m.get("fromMe") for m in messages if isinstance(m, dict)):
        return {}
    try:
        contacts = await w.client.get_all_contacts(session)
    except WAHAError:
        return {}  # names are a nicety: ids still identify the senders
    return view.contact_names(contacts)


@tool(
    "waha_get_chats",
    "chats",
    "List chats, latest first: name, kind, unread, last message.",
    read_only=True,
    operations=("ChatsController_getChatsOverview", "ChatsController_postChatsOverview", "ChatsController_getChats"),
)
async def get_chats(
    w: Deps,
    session: Session = None,
    ids: list[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    sort: Literal["recent", "name"] = "recent",
) -> dict[str, Any]:
    _paging(limit, offset)
    if ids:
        if len(ids) > 100:
            raise ToolInputError(f"{len(ids)} ids: at most 100 at a time")
        wanted = list(dict.fromkeys(wid.chat_ids(ids, field="ids")))
        if len(wanted) > GET_IDS_MAX:
            items = await w.client.post_chats_overview(session, limit=len(wanted), ids=wanted)
        else:
            items = await w.client.get_chats_overview(session, limit=len(wanted), ids=wanted)
        chats = [view.chat(c) for c in items if isinstance(c, dict)]
        if sort == "name":
            chats.sort(key=lambda c: str(c.get("name") or c.get("id")).lower())
        return {"chats": chats, "next_offset": None}
    if sort == "name":
        # Only the plain list sorts by name; it has no last-message preview on every engine.
        items = await w.client.get_chats(session, sort_by="name", sort_order="asc", limit=limit, offset=offset)
    else:
        items = await w.client.get_chats_overview(session, limit=limit, offset=offset)
    chats = [view.chat(c) for c in items if isinstance(c, dict)]
    return {"chats": chats, "next_offset": _next_offset(items, limit, offset)}


@tool(
    "waha_get_messages",
    "chats",
    "Read a chat's messages, newest first; since/until: ISO or unix time.",
    read_only=True,
    operations=("ChatsController_getChatMessages", "ContactsController_getAll"),
)
async def get_messages(
    w: Deps,
    chatId: ChatId,
    session: Session = None,
    limit: int = 20,
    offset: int = 0,
    since: str | None = None,
    until: str | None = None,
    from_me: bool | None = None,
    ack: Ack | None = None,
    oldest_first: bool = False,
    download_media: bool = False,
) -> dict[str, Any]:
    chat = wid.chat_id(chatId)
    _paging(limit, offset)
    gte, lte = _unix(since, "since"), _unix(until, "until")
    if gte is not None and lte is not None and gte > lte:
        raise ToolInputError("since is after until: no message can match")
    items = await w.client.get_chat_messages(
        session,
        chat,
        limit=limit,
        offset=offset or None,
        sort_order="asc" if oldest_first else "desc",
        download_media=download_media,
        timestamp_gte=gte,
        timestamp_lte=lte,
        from_me=from_me,
        ack=view.ACK_FILTER[ack] if ack else None,
    )
    items = [m for m in items if isinstance(m, dict)]
    names = await _names(w, session, items)
    out: dict[str, Any] = {
        "chat": chat,
        "messages": [view.message(m, names) for m in items],
        "next_offset": _next_offset(items, limit, offset),
    }
    if view.chat_kind(chat) == "group":
        senders = {view.sender(m, names): view.sender(m) for m in items if not m.get("fromMe")}
        people = {name: who for name, who in senders.items() if name != who}
        if people:
            out["people"] = people
    return out


@tool(
    "waha_get_message",
    "chats",
    "Get one message by id.",
    read_only=True,
    operations=("ChatsController_getChatMessage", "ContactsController_getAll"),
)
async def get_message(
    w: Deps,
    chatId: ChatId,
    messageId: MessageId,
    session: Session = None,
    download_media: bool = False,
) -> dict[str, Any]:
    chat, mid = wid.chat_id(chatId), wid.message_id(messageId)
    msg = await w.client.get_chat_message(session, chat, mid, download_media=download_media)
    if not isinstance(msg, dict):
        raise WAHAError(
            f"WAHA returned no message {mid}", status=404, method="GET", path=f"chats/{chat}/messages", session=session
        )
    return {"chat": chat} | view.message(msg, await _names(w, session, [msg]))


@tool(
    "waha_mark_chat_read",
    "chats",
    "Mark a chat's unread messages as read.",
    read_only=False,
    idempotent=True,
    operations=("ChatsController_readChatMessages",),
)
async def mark_chat_read(w: Deps, chatId: ChatId, session: Session = None) -> dict[str, Any]:
    chat = wid.chat_id(chatId)
    answer = await w.client.read_chat_messages(session, chat)
    read = answer.get("ids") if isinstance(answer, dict) else None
    return {"chat": chat, "read": len(read) if isinstance(read, list) else None, "unread": 0}


@tool(
    "waha_mark_chat_unread",
    "chats",
    "Mark a chat as unread.",
    read_only=False,
    idempotent=True,
    operations=("ChatsController_unreadChat",),
)
async def mark_chat_unread(w: Deps, chatId: ChatId, session: Session = None) -> dict[str, Any]:
    chat = wid.chat_id(chatId)
    await w.client.unread_chat(session, chat)
    return {"chat": chat, "marked_unread": True}


@tool(
    "waha_archive_chat",
    "chats",
    "Archive a chat, or unarchive it with archived=false.",
    read_only=False,
    idempotent=True,
    operations=("ChatsController_archiveChat", "ChatsController_unarchiveChat"),
)
async def archive_chat(w: Deps, chatId: ChatId, session: Session = None, archived: bool = True) -> dict[str, Any]:
    chat = wid.chat_id(chatId)
    await w.client.archive_chat(session, chat, archived)
    return {"chat": chat, "archived": archived}


@tool(
    "waha_pin_message",
    "chats",
    "Pin a message in its chat for 24h, 7d or 30d.",
    read_only=False,
    idempotent=True,
    operations=("ChatsController_pinMessage",),
)
async def pin_message(
    w: Deps,
    chatId: ChatId,
    messageId: MessageId,
    session: Session = None,
    duration: Literal["24h", "7d", "30d"] = "7d",
) -> dict[str, Any]:
    chat, mid = wid.chat_id(chatId), wid.message_id(messageId)
    if duration not in PIN_SECONDS:
        raise ToolInputError(f"duration must be one of {', '.join(PIN_SECONDS)} (WhatsApp allows no other)")
    await w.client.pin_message(session, chat, mid, PIN_SECONDS[duration])
    return {"chat": chat, "message": mid, "pinned": duration}


@tool(
    "waha_unpin_message",
    "chats",
    "Unpin a pinned message.",
    read_only=False,
    idempotent=True,
    operations=("ChatsController_unpinMessage",),
)
async def unpin_message(w: Deps, chatId: ChatId, messageId: MessageId, session: Session = None) -> dict[str, Any]:
    chat, mid = wid.chat_id(chatId), wid.message_id(messageId)
    await w.client.unpin_message(session, chat, mid)
    return {"chat": chat, "message": mid, "pinned": False}


@tool(
    "waha_edit_message",
    "chats",
    "Replace the text of a message you sent.",
    read_only=False,
    idempotent=True,
    operations=("ChatsController_editMessage",),
)
async def edit_message(
    w: Deps, chatId: ChatId, messageId: MessageId, text: str, session: Session = None
) -> dict[str, Any]:
    chat, mid = wid.chat_id(chatId), wid.message_id(messageId)
    if not text or not text.strip():
        raise ToolInputError("text is empty: to remove a message use waha_delete_message")
    if mid.startswith("false_"):
        raise ToolInputError(f"{mid} was received, not sent by you: only your own messages can be edited")
    await w.client.edit_message(session, chat, mid, text)
    return {"chat": chat, "message": mid, "edited": True, "text": view.short(text)}


@tool(
    "waha_delete_message",
    "chats",
    "Delete a message (for everyone when it is yours and recent).",
    read_only=False,
    destructive=True,
    idempotent=True,
    operations=("ChatsController_deleteMessage",),
)
async def delete_message(w: Deps, chatId: ChatId, messageId: MessageId, session: Session = None) -> dict[str, Any]:
    chat, mid = wid.chat_id(chatId), wid.message_id(messageId)
    await w.client.delete_message(session, chat, mid)
    return {"chat": chat, "message": mid, "deleted": True}


@tool(
    "waha_delete_chat",
    "chats",
    "Delete a whole chat from this account.",
    read_only=False,
    destructive=True,
    idempotent=True,
    operations=("ChatsController_deleteChat",),
)
async def delete_chat(w: Deps, chatId: ChatId, session: Session = None) -> dict[str, Any]:
    chat = wid.chat_id(chatId)
    await w.client.delete_chat(session, chat)
    return {"chat": chat, "deleted": True}


@tool(
    "waha_clear_chat",
    "chats",
    "Delete every message in a chat, keeping the chat.",
    read_only=False,
    destructive=True,
    idempotent=True,
    operations=("ChatsController_clearMessages",),
)
async def clear_chat(w: Deps, chatId: ChatId, session: Session = None) -> dict[str, Any]:
    chat = wid.chat_id(chatId)
    await w.client.clear_messages(session, chat)
    return {"chat": chat, "cleared": True}


@tool(
    "waha_get_chat_picture",
    "chats",
    "Get a chat's picture (image, or its URL).",
    read_only=True,
    operations=("ChatsController_getChatPicture",),
)
async def get_chat_picture(w: Deps, chatId: ChatId, session: Session = None, refresh: bool = False) -> Any:
    chat = wid.chat_id(chatId)
    answer = await w.client.get_chat_picture(session, chat, refresh=refresh)
    url = answer.get("url") if isinstance(answer, dict) else None
    if not url:
        return {"chat": chat, "picture": None}
    image = await _picture(w, session, url)
    if image is None:
        return {"chat": chat, "url": url}
    return image_result(image, {"chat": chat, "bytes": len(image.data)})


async def _picture(w: Deps, session: str, url: str) -> Binary | None:
    """The picture's bytes when WAHA serves them; None for another host (WhatsApp's CDN), never fetched."""
    if w.client.local_path(url) is None:
        return None
    try:
        image = await w.client.fetch_file(session, url, max_bytes=min(PICTURE_MAX_BYTES, w.settings.max_media_bytes))
    except WAHAError:
        return None  # the URL still answers the question
    return image if image.mimetype.startswith("image/") else None
