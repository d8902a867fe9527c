"""💬 Chats: list, overview, messages of a chat, one message."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import ACK_NAMES, Chat, Message
from ._common import normalize_chat_id, paginate, sort_items, world_of

_ACK_BY_NAME = {name: ack for ack, name in ACK_NAMES.items()}


@route("ChatsController_getChats")
async def get_chats(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    chats = sort_items(
        list(world.chats.values()),
        ctx,
        {"conversationTimestamp": lambda c: c.timestamp, "id": lambda c: c.id, "name": lambda c: c.name},
        default="conversationTimestamp",
        default_order="desc",
    )
    return [chat.to_waha() for chat in paginate(chats, ctx)]


def _summary(ctx: Ctx, chat: Chat, me_id: str) -> dict[str, Any]:
    last = chat.last_message
    return {
        "id": chat.id,
        "name": chat.name,
        "picture": None,
        "lastMessage": ctx.render(last, me_id, download_media=False) if last else {},
        "_chat": chat.raw(),
    }


async def _overview(ctx: Ctx, ids: list[str], limit: int | None, offset: int | None) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    chats = sorted(world.chats.values(), key=lambda c: c.timestamp, reverse=True)
    if ids:
        wanted = {normalize_chat_id(i) for i in ids}
        chats = [c for c in chats if c.id in wanted]
    start = max(offset or 0, 0)
    end = start + limit if limit and limit > 0 else None
    return [_summary(ctx, chat, world.me_id) for chat in chats[start:end]]


@route("ChatsController_getChatsOverview")
async def get_overview(ctx: Ctx) -> list[dict[str, Any]]:
    return await _overview(ctx, ctx.q_list("ids"), ctx.q_int("limit", 20), ctx.q_int("offset", 0))


@route("ChatsController_postChatsOverview")
async def post_overview(ctx: Ctx) -> list[dict[str, Any]]:
    pagination = ctx.body.get("pagination") or {}
    filters = ctx.body.get("filter") or {}
    ids = filters.get("ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise errors.bad_request(["filter.ids must be an array of strings"])
    return await _overview(ctx, ids, pagination.get("limit", 20), pagination.get("offset", 0))


def _matches(msg: Message, ctx: Ctx) -> bool:
    lte = ctx.q_int("filter.timestamp.lte")
    gte = ctx.q_int("filter.timestamp.gte")
    from_me = ctx.q_bool("filter.fromMe")
    ack = ctx.q_choice("filter.ack", tuple(_ACK_BY_NAME))
    return (
        (lte is None or msg.timestamp <= lte)
        and (gte is None or msg.timestamp >= gte)
        and (from_me is None or msg.from_me == from_me)
        and (ack is None or msg.ack == _ACK_BY_NAME[ack])
    )


@route("ChatsController_getChatMessages")
async def get_messages(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    chat = world.chats.get(normalize_chat_id(ctx.params["chatId"]))
    if chat is None:
        return []  # WAHA answers an unknown chat with no messages
    messages = [m for m in chat.messages if _matches(m, ctx)]
    messages = sort_items(
        messages,
        ctx,
        {"timestamp": lambda m: m.timestamp, "messageTimestamp": lambda m: m.timestamp},
        default="timestamp",
        default_order="desc",
    )
    download = bool(ctx.q_bool("downloadMedia", True))
    return [ctx.render(m, world.me_id, download_media=download) for m in paginate(messages, ctx, default_limit=10)]


@route("ChatsController_getChatMessage")
async def get_message(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    msg = world.find_message(normalize_chat_id(ctx.params["chatId"]), ctx.params["messageId"])
    if msg is None:
        raise errors.nest(404, "Message not found")
    download = bool(ctx.q_bool("downloadMedia", True))
    return ctx.render(msg, world.me_id, download_media=download)
