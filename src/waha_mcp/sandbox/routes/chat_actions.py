"""💬 Chats, the writes: read/unread, archive, pin, edit, delete, clear, and the chat picture.

What these change is what `routes/chats.py` renders: unread counts and `archived` in the list and
overview, edited bodies (with NOWEB's `editedMessage` in `_data`), messages and chats gone.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import Chat, Message, World
from ._common import normalize_chat_id, world_of

PIN_DURATIONS = (86400, 604800, 2592000)


async def _chat(ctx: Ctx, *, must_exist: bool = True) -> tuple[World, Chat | None]:
    world = world_of(await ctx.working_session())
    chat = world.chats.get(normalize_chat_id(ctx.params["chatId"]))
    if chat is None and must_exist:
        raise errors.nest(404, f"Chat '{ctx.params['chatId']}' not found")
    return world, chat


async def _message(ctx: Ctx) -> tuple[World, Chat, Message]:
    world, chat = await _chat(ctx)
    assert chat is not None
    msg = world.find_message(chat.id, ctx.params["messageId"])
    if msg is None:
        raise errors.nest(404, "Message not found")
    return world, chat, msg


@route("ChatsController_readChatMessages")
async def read_messages(ctx: Ctx) -> dict[str, Any]:
    _, chat = await _chat(ctx, must_exist=False)
    limit = ctx.q_int("messages")
    days = ctx.q_int("days", 7) or 7
    if chat is None:
        return {"ids": []}
    since = int(time.time()) - days * 86400
    received = [m for m in chat.messages if not m.from_me and not m.stub]
    # The last `unread_count` received messages are the unread ones; a chat marked unread by hand (-1)
    # has none to report, but its mark is cleared all the same.
    unread = received[-chat.unread_count :] if chat.unread_count > 0 else []
    unread = [m for m in unread if m.timestamp >= since]
    if limit is not None and limit > 0:
        unread = unread[-limit:]
    chat.unread_count = 0
    return {"ids": [m.id for m in unread]}


@route("ChatsController_unreadChat")
async def unread_chat(ctx: Ctx) -> dict[str, Any]:
    _, chat = await _chat(ctx)
    assert chat is not None
    if chat.unread_count <= 0:
        chat.unread_count = -1  # WhatsApp's "marked as unread": a dot, no count (NOWEB stores -1)
    return {}


@route("ChatsController_archiveChat")
async def archive(ctx: Ctx) -> dict[str, Any]:
    world, chat = await _chat(ctx)
    assert chat is not None
    _set_archived(world, chat, True)
    return {}


def _set_archived(world: World, chat: Chat, archived: bool) -> None:
    if chat.archived != archived:
        chat.archived = archived
        world.announce("chat.archive", {"id": chat.id, "archived": archived, "timestamp": world.now()})


@route("ChatsController_unarchiveChat")
async def unarchive(ctx: Ctx) -> dict[str, Any]:
    world, chat = await _chat(ctx)
    assert chat is not None
    _set_archived(world, chat, False)
    return {}


@route("ChatsController_deleteChat")
async def delete_chat(ctx: Ctx) -> None:
    world, chat = await _chat(ctx)
    assert chat is not None
    del world.chats[chat.id]


@route("ChatsController_clearMessages")
async def clear_messages(ctx: Ctx) -> None:
    _, chat = await _chat(ctx)
    assert chat is not None
    chat.messages.clear()
    chat.unread_count = 0


@route("ChatsController_deleteMessage")
async def delete_message(ctx: Ctx) -> None:
    world, chat, msg = await _message(ctx)
    chat.messages.remove(msg)
    # `after` is the revoke notice itself, `before` the message as it was (WAMessageRevokedBody); both are
    # rendered as the engine sends messages in events.
    after = world.revoke_notice(msg)
    world.announce("message.revoked", {"revokedMessageId": msg.raw_id, "after": after, "before": msg, "_data": {}})


@route("ChatsController_editMessage")
async def edit_message(ctx: Ctx) -> dict[str, Any]:
    world, _, msg = await _message(ctx)
    text = (ctx.body or {}).get("text")
    if not isinstance(text, str) or not text.strip():
        raise errors.bad_request(["text should not be empty"])
    if not msg.from_me or msg.stub:
        raise errors.nest(400, "You can edit only your own messages")
    msg.body = text
    msg.edited_at = world.now()
    rendered = ctx.render(msg, world.me_id, download_media=False)
    world.announce("message.edited", {**rendered, "editedMessageId": msg.raw_id})
    return rendered


@route("ChatsController_pinMessage")
async def pin_message(ctx: Ctx) -> None:
    _, _, msg = await _message(ctx)
    duration = (ctx.body or {}).get("duration")
    if duration not in PIN_DURATIONS:
        allowed = ", ".join(str(d) for d in PIN_DURATIONS)
        raise errors.bad_request([f"duration must be one of the following values: {allowed}"])
    msg.pinned_until = int(time.time()) + int(duration)


@route("ChatsController_unpinMessage")
async def unpin_message(ctx: Ctx) -> None:
    _, _, msg = await _message(ctx)
    msg.pinned_until = None


@route("ChatsController_getChatPicture")
async def chat_picture(ctx: Ctx) -> dict[str, Any]:
    """WhatsApp's CDN URL, as WAHA returns it (the sandbox gives every chat a picture)."""
    world = world_of(await ctx.working_session())
    chat_id = normalize_chat_id(ctx.params["chatId"])
    ctx.q_bool("refresh", False)
    digest = hashlib.sha256(f"{world.me_id}:{chat_id}".encode()).hexdigest()
    return {"url": f"https://pps.whatsapp.net/v/t61.24694-24/{int(digest[2:14], 16)}_n.jpg?oh={digest[14:46]}"}
