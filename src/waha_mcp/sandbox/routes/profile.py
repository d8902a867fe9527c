"""🆔 Profile: this account's name, about text and picture (WhatsApp sends no webhook for them).

The name is the world's `me_name` and the session's `me.pushName`; a new picture gets a WhatsApp CDN URL
(the sandbox keeps no image: WhatsApp serves profile pictures from its own host).
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..registry import Ctx, route
from ._common import world_of
from .messaging import _file

SUCCESS = {"success": True}


@route("ProfileController_getMyProfile")
async def get_my_profile(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    return {"id": world.me_id, "picture": world.profile.picture, "name": world.me_name}


@route("ProfileController_setProfileName")
async def set_name(ctx: Ctx) -> dict[str, Any]:
    session = await ctx.working_session()
    world = world_of(session)
    name = (ctx.body or {}).get("name")
    if not isinstance(name, str) or not name.strip():
        raise errors.bad_request(["name should not be empty"])
    world.me_name = name
    if session.me is not None:
        session.me = {**session.me, "pushName": name}
    return SUCCESS


@route("ProfileController_setProfileStatus")
async def set_status(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    about = (ctx.body or {}).get("status")
    if not isinstance(about, str):
        raise errors.bad_request(["status must be a string"])
    world.profile.about = about
    return SUCCESS


@route("ProfileController_setProfilePicture")
async def set_picture(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    media, _, _ = _file(ctx)
    if not media.mimetype.startswith("image/"):
        raise errors.bad_request(["file must be an image"])
    tag = f"{world.rng.getrandbits(64):016x}"
    world.profile.picture = f"https://pps.whatsapp.net/v/t61.24694-24/{tag}_n.jpg?ccb=11-4&oh=01_{tag}&oe=6A000000"
    return SUCCESS


@route("ProfileController_deleteProfilePicture")
async def delete_picture(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    world.profile.picture = None
    return SUCCESS
