"""Toolset `presence`: your online/typing state, and other people's."""

from __future__ import annotations

from typing import Literal

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.tools._common import ChatId, Session
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

GLOBAL = ("online", "offline")
TYPING = {"typing": "ChattingController_startTyping", "paused": "ChattingController_stopTyping"}


@tool(
    "Set online/offline, or typing/recording/paused in chatId.",
    effect=Effect.VISIBLE,
    operations=(
        "PresenceController_setPresence",
        "ChattingController_startTyping",
        "ChattingController_stopTyping",
    ),
)
async def set_presence(
    w: Invocation,
    presence: Literal["online", "offline", "typing", "recording", "paused"],
    session: Session = None,
    chatId: ChatId | None = None,
) -> view.PresenceSet:
    if presence in GLOBAL and chatId:
        raise ToolInputError(f"'{presence}' is account-wide: leave chatId out")
    if presence not in GLOBAL and not chatId:
        raise ToolInputError(f"'{presence}' is shown in one chat: give chatId")
    # Typing has its own routes, which every engine implements; the rest goes through presence.
    if presence in TYPING:
        await w.call(TYPING[presence], body={"chatId": chatId})
    else:
        # WAHA refuses a chatId with online/offline (it tests `if (chatId)`), while the document marks
        # chatId required: an empty string satisfies both.
        await w.call("PresenceController_setPresence", body={"chatId": chatId or "", "presence": presence})
    return view.presence_set(presence, chatId)


@tool(
    "Presence of chatId (subscribes to it), or of all subscribed chats.",
    effect=Effect.LOCAL,
    operations=("PresenceController_getPresence", "PresenceController_getPresenceAll"),
)
async def get_presence(w: Invocation, session: Session = None, chatId: ChatId | None = None) -> view.Presences:
    if chatId:
        return view.chat_presence(await w.call("PresenceController_getPresence", chatId=chatId), chatId)
    return view.presences(await w.call("PresenceController_getPresenceAll") or [])


@tool(
    "Subscribe to a chat's presence.update events.",
    effect=Effect.LOCAL,
    operations=("PresenceController_subscribe",),
)
async def subscribe_presence(w: Invocation, chatId: ChatId, session: Session = None) -> view.PresenceSubscribed:
    await w.call("PresenceController_subscribe", chatId=chatId)
    return view.presence_subscribed(chatId)
