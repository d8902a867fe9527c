"""Toolset `presence`: your online/typing state, and other people's."""

from __future__ import annotations

from typing import Any, Literal

from waha_mcp import ids as wid
from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.tools._common import Deps, Session
from waha_mcp.tools.registry import tool

GLOBAL = ("online", "offline")


@tool(
    "waha_set_presence",
    "presence",
    "Set online/offline, or typing/recording/paused in chatId.",
    read_only=False,
    idempotent=True,
    operations=("PresenceController_setPresence",),
)
async def set_presence(
    w: Deps,
    presence: Literal["online", "offline", "typing", "recording", "paused"],
    session: Session = None,
    chatId: str | None = None,
) -> dict[str, Any]:
    if presence in GLOBAL:
        if chatId:
            raise ToolInputError(f"'{presence}' is account-wide: leave chatId out")
        chat = None
    else:
        if not chatId:
            raise ToolInputError(f"'{presence}' is shown in one chat: give chatId")
        chat = wid.chat_id(chatId)
    await w.client.set_presence(session, presence, chat)
    return {"presence": presence} | ({"chat": chat} if chat else {})


@tool(
    "waha_get_presence",
    "presence",
    "Presence of chatId (subscribes to it), or of all subscribed chats.",
    read_only=True,
    idempotent=True,
    operations=("PresenceController_getPresence", "PresenceController_getPresenceAll"),
)
async def get_presence(w: Deps, session: Session = None, chatId: str | None = None) -> dict[str, Any]:
    if chatId:
        chat = wid.chat_id(chatId)
        return view.presence(await w.client.get_presence(session, chat)) or {"chat": chat, "people": []}
    items = await w.client.get_presences(session)
    return {"chats": [p for p in (view.presence(i) for i in items) if p]}


@tool(
    "waha_subscribe_presence",
    "presence",
    "Subscribe to a chat's presence.update events.",
    read_only=False,
    idempotent=True,
    operations=("PresenceController_subscribe",),
)
async def subscribe_presence(w: Deps, chatId: str, session: Session = None) -> dict[str, Any]:
    chat = wid.chat_id(chatId)
    await w.client.subscribe_presence(session, chat)
    return {"chat": chat, "subscribed": True}
