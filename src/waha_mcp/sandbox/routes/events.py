"""📅 Events: event messages (session in the path; the body has no `session`)."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import is_group
from ._common import normalize_chat_id, world_of
from .messaging import add_sent

_EVENT_FIELDS = ("name", "description", "startTime", "endTime", "location", "extraGuestsAllowed")


@route("EventsController_sendEvent")
async def send_event(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    chat_id = normalize_chat_id(str(ctx.body["chatId"]))
    if is_group(chat_id) and chat_id not in world.groups:
        raise errors.nest(404, f"Group '{chat_id}' not found: the account is not a participant")
    event = ctx.body["event"]
    if not isinstance(event, dict):
        raise errors.bad_request(["event must be an object"])
    problems = []
    if not isinstance(event.get("name"), str) or not event["name"].strip():
        problems.append("event.name should not be empty")
    start, end = event.get("startTime"), event.get("endTime")
    if not isinstance(start, int | float) or isinstance(start, bool):
        problems.append("event.startTime must be a number conforming to the specified constraints")
    elif end is not None and (not isinstance(end, int | float) or end <= start):
        problems.append("event.endTime must be a number after event.startTime")
    location = event.get("location")
    if location is not None and not (isinstance(location, dict) and isinstance(location.get("name"), str)):
        problems.append("event.location.name must be a string")
    if problems:
        raise errors.bad_request(problems)
    kept = {key: event[key] for key in _EVENT_FIELDS if event.get(key) is not None}
    msg = add_sent(world, chat_id, body=event["name"], kind="event", reply_to=ctx.body.get("reply_to"), event=kept)
    return ctx.render(msg, world.me_id)
