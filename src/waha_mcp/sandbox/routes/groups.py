"""👥 Groups: list (NOWEB: an object keyed by group id), create, get."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..registry import Ctx, route
from ._common import normalize_chat_id, paginate, sort_items, world_of


def _render(group_json: dict[str, Any], exclude: list[str]) -> dict[str, Any]:
    if "participants" in exclude:
        group_json.pop("participants", None)
    return group_json


@route("GroupsController_getGroups")
async def get_groups(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    groups = sort_items(list(world.groups.values()), ctx, {"id": lambda g: g.id, "subject": lambda g: g.subject})
    exclude = ctx.q_list("exclude")
    return {g.id: _render(g.to_waha(), exclude) for g in paginate(groups, ctx)}


@route("GroupsController_createGroup")
async def create_group(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    participants = ctx.body["participants"]
    if not all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in participants):
        raise errors.bad_request(["each value in participants must be an object with a string id"])
    group = world.create_group(str(ctx.body["name"]), [normalize_chat_id(p["id"]) for p in participants])
    return group.to_waha()


@route("GroupsController_getGroup")
async def get_group(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    group = world.groups.get(ctx.params["id"])
    if group is None:
        raise errors.nest(404, f"Group '{ctx.params['id']}' not found")
    return group.to_waha()
