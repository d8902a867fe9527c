"""Toolset `chats`: the chat list, messages, read state, archive, pin, edit and delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from waha_mcp import projections as view
from waha_mcp.client import Binary, EndpointMissing, WAHAError
from waha_mcp.errors import ToolInputError
from waha_mcp.people import is_lid
from waha_mcp.projections.common import serialized_id
from waha_mcp.tools import _people as people
from waha_mcp.tools import _transcripts as transcripts
from waha_mcp.tools._common import (
    ChatId,
    Limit,
    MessageId,
    Offset,
    Rich,
    Session,
    Timestamp,
    image_result,
    preview_marker,
)
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

# More ids than this go in a POST body: a long query string can be cut by proxies.
GET_IDS_MAX = 20
PIN_SECONDS = {"24h": 86400, "7d": 604800, "30d": 2592000}
PICTURE_MAX_BYTES = 5 * 1024 * 1024

Ack = Literal["error", "pending", "sent", "delivered", "read", "played"]


def _next_offset(items: list[Any], limit: int, offset: int) -> int | None:
    return offset + limit if len(items) >= limit else None


async def _chat_list(
    w: Invocation, items: list[Any], next_offset: int | None, *, by_name: bool = False
) -> view.ChatList:
    """The chats, with the number (and, for an unnamed one, the contact's name) behind each `@lid` chat."""
    # Only the ids are read here (projecting the whole list twice cost a quarter millisecond a call).
    ids = {serialized_id(c.get("id")): c for c in items if isinstance(c, dict)}
    lids = [cid for cid in ids if is_lid(cid)]
    phones = await people.phones(w, lids)
    unnamed = [cid for cid in phones if not view.chat(ids[cid]).get("name")]
    names = await people.names(w, unnamed) if unnamed else {}
    return view.chat_list(items, next_offset, by_name=by_name, names=names, phones=phones)


def _senders(messages: list[dict[str, Any]]) -> list[str]:
    return [view.sender(m) for m in messages if isinstance(m, dict) and not m.get("fromMe")]


@tool(
    "List chats, latest first: name, kind, unread, last message.",
    effect=Effect.READ,
    operations=(
        "ChatsController_getChatsOverview",
        "ChatsController_postChatsOverview",
        "ChatsController_getChats",
        people.LIDS,
        people.CONTACTS,
    ),
    default="always",
)
async def get_chats(
    w: Invocation,
    session: Session = None,
    ids: list[ChatId] | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
    sort: Literal["recent", "name"] = "recent",
) -> view.ChatList:
    if ids and len(ids) > 100:
        raise ToolInputError(f"{len(ids)} ids: at most 100 at a time")
    if (ids or sort == "recent") and not OVERVIEWS.isdisjoint(w.missing_operations()):
        return await _plain_chats(w, ids, limit, offset)
    try:
        return await _overview(w, ids, limit, offset, sort)
    except EndpointMissing as exc:
        if exc.operation not in OVERVIEWS:
            raise
    # WAHA before the overview route (2024.10 and older): the plain list does the job.
    return await _plain_chats(w, ids, limit, offset)


OVERVIEWS = frozenset({"ChatsController_getChatsOverview", "ChatsController_postChatsOverview"})
# Chats read from the plain list to find given ids on a WAHA without the overview route.
PLAIN_IDS_SCAN = 1000


async def _plain_chats(w: Invocation, ids: list[str] | None, limit: int, offset: int) -> view.ChatList:
    """`GET /api/{session}/chats`, latest first, for a WAHA that has no overview."""
    if ids:
        wanted = set(ids)
        every = await w.call("ChatsController_getChats", query={"limit": PLAIN_IDS_SCAN}) or []
        items = [c for c in every if isinstance(c, dict) and c.get("id") in wanted]
        return await _chat_list(w, items, None)
    items = await w.call("ChatsController_getChats", query={"limit": limit, "offset": offset}) or []
    return await _chat_list(w, items, _next_offset(items, limit, offset))


async def _overview(w: Invocation, ids: list[str] | None, limit: int, offset: int, sort: str) -> view.ChatList:
    if ids:
        wanted = list(dict.fromkeys(ids))
        if len(wanted) > GET_IDS_MAX:
            body = {"pagination": {"limit": len(wanted)}, "filter": {"ids": wanted}}
            items = await w.call("ChatsController_postChatsOverview", body=body)
        else:
            items = await w.call("ChatsController_getChatsOverview", query={"limit": len(wanted), "ids": wanted})
        return await _chat_list(w, items or [], None, by_name=sort == "name")
    if sort == "name":
        # Only the plain list sorts by name; it has no last-message preview on every engine.
        query = {"sortBy": "name", "sortOrder": "asc", "limit": limit, "offset": offset}
        items = await w.call("ChatsController_getChats", query=query)
    else:
        items = await w.call("ChatsController_getChatsOverview", query={"limit": limit, "offset": offset})
    # Sorted by name again: a `@lid` chat WAHA left unnamed may have one now (within this page).
    return await _chat_list(w, items or [], _next_offset(items or [], limit, offset), by_name=sort == "name")


@tool(
    "Read a chat's messages, newest first; since/until: ISO or unix time.",
    effect=Effect.READ,
    operations=("ChatsController_getChatMessages", people.CONTACTS, people.LIDS),
    default="always",
)
async def get_messages(
    w: Invocation,
    chatId: ChatId,
    session: Session = None,
    limit: Limit = 20,
    offset: Offset = 0,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    fromMe: bool | None = None,
    ack: Ack | None = None,
    oldestFirst: bool = False,
    downloadMedia: bool = False,
) -> view.MessageList:
    gte, lte = since, until  # unix seconds, from the Timestamp marker
    if gte is not None and lte is not None and gte > lte:
        raise ToolInputError("since is after until: no message can match")
    query = {
        "limit": limit,
        "offset": offset or None,
        "sortOrder": "asc" if oldestFirst else "desc",
        "downloadMedia": downloadMedia,  # WAHA downloads by default, which is slow: only on request
        "filter.timestamp.gte": gte,
        "filter.timestamp.lte": lte,
        "filter.fromMe": fromMe,
        "filter.ack": view.ACK_FILTER[ack] if ack else None,
    }
    items = [
        m
        for m in await w.call("ChatsController_getChatMessages", chatId=chatId, query=query) or []
        if isinstance(m, dict)
    ]
    group = view.chat_kind(chatId) == "group"
    names = await people.names(w, _senders(items))
    phones = await people.phones(w, _senders(items))  # cached by now: no second lookup
    out = view.message_list(chatId, items, names, _next_offset(items, limit, offset), group, phones)
    await transcripts.annotate_messages(w, chatId, out["messages"])
    return out


@tool(
    "Get one message by id.",
    effect=Effect.READ,
    operations=("ChatsController_getChatMessage", people.CONTACTS, people.LIDS),
    default="always",
)
async def get_message(
    w: Invocation,
    chatId: ChatId,
    messageId: MessageId,
    session: Session = None,
    downloadMedia: bool = False,
) -> view.MessageDetail:
    query = {"downloadMedia": downloadMedia}
    msg = await w.call("ChatsController_getChatMessage", chatId=chatId, messageId=messageId, query=query)
    if not isinstance(msg, dict):
        raise w.no_answer("ChatsController_getChatMessage", "the message", chatId=chatId, messageId=messageId)
    out = view.message_detail(msg, chatId, await people.names(w, _senders([msg])))
    await transcripts.annotate_messages(w, chatId, [out])
    return out


@tool(
    "Mark a chat's unread messages as read.",
    effect=Effect.VISIBLE,
    # Not paced, like waha_mark_seen: read receipts answer what others sent and reach nobody new.
    operations=("ChatsController_readChatMessages",),
    default="always",
)
async def mark_chat_read(w: Invocation, chatId: ChatId, session: Session = None) -> view.ChatRead:
    return view.chat_read(chatId, await w.call("ChatsController_readChatMessages", chatId=chatId))


@tool(
    "Mark a chat as unread.",
    effect=Effect.LOCAL,
    operations=("ChatsController_unreadChat",),
)
async def mark_chat_unread(w: Invocation, chatId: ChatId, session: Session = None) -> view.ChatMarkedUnread:
    await w.call("ChatsController_unreadChat", chatId=chatId)
    return view.chat_marked_unread(chatId)


@tool(
    "Archive a chat, or unarchive it with archived=false.",
    effect=Effect.LOCAL,
    operations=("ChatsController_archiveChat", "ChatsController_unarchiveChat"),
)
async def archive_chat(
    w: Invocation, chatId: ChatId, session: Session = None, archived: bool = True
) -> view.ChatArchived:
    await w.call("ChatsController_archiveChat" if archived else "ChatsController_unarchiveChat", chatId=chatId)
    return view.chat_archived(chatId, archived)


@tool(
    "Pin a message in its chat for 24h, 7d or 30d.",
    effect=Effect.VISIBLE,
    pacing="send",  # every member sees a notice in the chat
    operations=("ChatsController_pinMessage",),
)
async def pin_message(
    w: Invocation,
    chatId: ChatId,
    messageId: MessageId,
    session: Session = None,
    duration: Literal["24h", "7d", "30d"] = "7d",
) -> view.MessagePinned:
    body = {"duration": PIN_SECONDS[duration]}
    await w.call("ChatsController_pinMessage", chatId=chatId, messageId=messageId, body=body)
    return view.message_pinned(chatId, messageId, duration)


@tool(
    "Unpin a pinned message.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChatsController_unpinMessage",),
)
async def unpin_message(
    w: Invocation, chatId: ChatId, messageId: MessageId, session: Session = None
) -> view.MessagePinned:
    await w.call("ChatsController_unpinMessage", chatId=chatId, messageId=messageId)
    return view.message_pinned(chatId, messageId, False)


@tool(
    "Replace the text of a message you sent.",
    effect=Effect.VISIBLE,
    pacing="send",  # an edit goes out to the chat as a message of its own
    operations=("ChatsController_editMessage",),
)
async def edit_message(
    w: Invocation,
    chatId: ChatId,
    messageId: MessageId,
    # WAHA previews a link in the new text (its `linkPreview` defaults to true): the fetch rule applies.
    text: Annotated[str, preview_marker],
    session: Session = None,
) -> view.MessageEdited:
    if not text or not text.strip():
        raise ToolInputError("text is empty: to remove a message use waha_delete_message")
    if messageId.startswith("false_"):
        raise ToolInputError(f"{messageId} was received, not sent by you: only your own messages can be edited")
    await w.call("ChatsController_editMessage", chatId=chatId, messageId=messageId, body={"text": text})
    return view.message_edited(chatId, messageId, text)


@tool(
    "Delete a message (for everyone when it is yours and recent).",
    effect=Effect.DESTRUCTIVE,
    operations=("ChatsController_deleteMessage",),
)
async def delete_message(
    w: Invocation, chatId: ChatId, messageId: MessageId, session: Session = None
) -> view.MessageDeleted:
    await w.call("ChatsController_deleteMessage", chatId=chatId, messageId=messageId)
    return view.message_deleted(chatId, messageId)


@tool(
    "Delete a whole chat from this account.",
    effect=Effect.DESTRUCTIVE,
    operations=("ChatsController_deleteChat",),
)
async def delete_chat(w: Invocation, chatId: ChatId, session: Session = None) -> view.ChatDeleted:
    await w.call("ChatsController_deleteChat", chatId=chatId)
    return view.chat_deleted(chatId)


@tool(
    "Delete every message in a chat, keeping the chat.",
    effect=Effect.DESTRUCTIVE,
    operations=("ChatsController_clearMessages",),
)
async def clear_chat(w: Invocation, chatId: ChatId, session: Session = None) -> view.ChatCleared:
    await w.call("ChatsController_clearMessages", chatId=chatId)
    return view.chat_cleared(chatId)


@tool(
    "Get a chat's picture (image, or its URL).",
    effect=Effect.READ,
    output=view.ChatPicture,
    operations=("ChatsController_getChatPicture",),
)
async def get_chat_picture(
    w: Invocation, chatId: ChatId, session: Session = None, refresh: bool = False
) -> view.ChatPicture | Rich:
    answer = await w.call("ChatsController_getChatPicture", chatId=chatId, query={"refresh": refresh or None})
    url = answer.get("url") if isinstance(answer, dict) else None
    image = await fetch_picture(w, w.acting, url) if url else None
    if image is None:
        return view.chat_picture(chatId, url=url)
    return image_result(image, view.chat_picture(chatId, image=image.data))


async def fetch_picture(w: Invocation, session: str, url: str) -> Binary | None:
    """The picture's bytes when WAHA serves them; None for another host (WhatsApp's CDN), never fetched."""
    try:
        image = await w.fetch_file(url, max_bytes=min(PICTURE_MAX_BYTES, w.settings.max_media_bytes))
    except WAHAError:  # NotOnFileServer (WhatsApp's CDN: nothing sent), or WAHA failed
        return None  # the URL still answers the question
    return image if image.mimetype.startswith("image/") else None
