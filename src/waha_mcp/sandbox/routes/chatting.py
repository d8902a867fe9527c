"""📤 Chatting: sending messages (session in the JSON body)."""

from __future__ import annotations

import secrets
from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import is_group
from ._common import normalize_chat_id, refuse_if_timelocked, world_of


@route("ChattingController_getNewMessageId")
async def new_message_id(ctx: Ctx) -> dict[str, str]:
    """A fresh id in the shape WhatsApp Web gives its own messages; nothing is reserved."""
    world_of(await ctx.working_session())
    return {"id": "3EB0" + secrets.token_hex(9).upper()}


@route("ChattingController_sendText")
async def send_text(ctx: Ctx) -> dict[str, Any]:
    session = await ctx.working_session()
    world = world_of(session)
    chat_id = normalize_chat_id(ctx.body["chatId"])
    if is_group(chat_id) and chat_id not in world.groups:
        raise errors.nest(404, f"Group '{chat_id}' not found: the account is not a participant")
    refuse_if_timelocked(ctx, session, chat_id)
    msg = world.send_text(chat_id, ctx.body["text"], ctx.body.get("reply_to"))
    return ctx.render(msg, world.me_id)
