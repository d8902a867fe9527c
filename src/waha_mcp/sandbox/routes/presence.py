"""✅ Presence: set your own, get one chat's (which subscribes to it), get all subscribed, subscribe.

Other people's presence is deterministic per (account, person): some are online, the rest offline
with a last-seen time. Your own presence and subscriptions are the world's `OwnPresence`, so a
re-paired (new) world or a reset starts afresh.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import World, is_group
from ._common import normalize_chat_id, world_of

PRESENCES = ("offline", "online", "typing", "recording", "paused")
GLOBAL = ("online", "offline")


def _person(world: World, person: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"{world.me_id}:{person}".encode()).digest()
    if digest[0] % 3 == 0:
        return {"participant": person, "lastKnownPresence": "online"}
    last_seen = int(time.time()) - 60 * (5 + int.from_bytes(digest[1:3], "big") % 2000)
    return {"participant": person, "lastKnownPresence": "offline", "lastSeen": last_seen}


def chat_presences(world: World, chat_id: str) -> dict[str, Any]:
    if is_group(chat_id):
        group = world.groups.get(chat_id)
        people = [p.id for p in group.participants if p.id != world.me_id] if group else []
    else:
        people = [chat_id]
    return {"id": chat_id, "presences": [_person(world, p) for p in people]}


@route("PresenceController_setPresence")
async def set_presence(ctx: Ctx) -> None:
    session = await ctx.working_session()
    world = world_of(session)
    body = ctx.body or {}
    presence, chat_id = body.get("presence"), body.get("chatId")
    if presence not in PRESENCES:
        raise errors.bad_request([f"presence must be one of the following values: {', '.join(PRESENCES)}"])
    # WAHA checks truthiness, and answers with a bare {detail} body.
    if presence in GLOBAL and chat_id:
        detail = f"'{presence}' presence works on the global scope and doesn't require 'chatId' field."
        raise errors.WahaError(400, {"detail": detail})
    if presence not in GLOBAL and not chat_id:
        raise errors.WahaError(400, {"detail": f"'{presence}' presence requires 'chatId' field."})
    state = world.presence
    if presence in GLOBAL:
        state.mine = presence
        if presence == "offline":
            state.in_chat.clear()
    else:
        state.mine = "online"  # typing shows you online too
        state.in_chat[normalize_chat_id(str(chat_id))] = presence


@route("PresenceController_getPresenceAll")
async def get_all(ctx: Ctx) -> list[dict[str, Any]]:
    session = await ctx.working_session()
    world = world_of(session)
    state = world.presence
    return [chat_presences(world, chat_id) for chat_id in state.subscribed]


@route("PresenceController_getPresence")
async def get_one(ctx: Ctx) -> dict[str, Any]:
    session = await ctx.working_session()
    world = world_of(session)
    chat_id = normalize_chat_id(ctx.params["chatId"])
    _subscribe(world, chat_id)
    return chat_presences(world, chat_id)


def _subscribe(world: World, chat_id: str) -> None:
    """Watch a chat's presence; WhatsApp answers a new subscription with the current presence."""
    if chat_id not in world.presence.subscribed:
        world.presence.subscribed.append(chat_id)
        world.announce("presence.update", chat_presences(world, chat_id))


@route("PresenceController_subscribe")
async def subscribe(ctx: Ctx) -> None:
    session = await ctx.working_session()
    world = world_of(session)
    chat_id = normalize_chat_id(ctx.params["chatId"])
    _subscribe(world, chat_id)
