"""Toolset `profile`: your own name, about text and picture (what your contacts see)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.tools._common import Session, visible
from waha_mcp.tools._media import DataArg, FileArg, media_input
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

NAME_MAX = 25  # WhatsApp's limit for a profile name
ProfileName = Annotated[str, Field(min_length=1, max_length=NAME_MAX), visible]
ABOUT_MAX = 139  # and for the about text
_PICTURE_MIMES = ("image/jpeg", "image/png")


@tool(
    "Your own profile: id, name, picture URL.",
    effect=Effect.READ,
    operations=("ProfileController_getMyProfile",),
)
async def get_my_profile(w: Invocation, session: Session = None) -> view.MyProfile:
    return view.my_profile(await w.call("ProfileController_getMyProfile"))


@tool(
    "Set your profile name.",
    effect=Effect.VISIBLE,
    operations=("ProfileController_setProfileName",),
    target="name",
)
async def set_my_profile_name(w: Invocation, name: ProfileName, session: Session = None) -> view.ProfileUpdated:
    answer = await w.call("ProfileController_setProfileName", body={"name": name.strip()})
    return view.profile_updated(answer, name=name.strip())


@tool(
    'Set your "About" text.',
    effect=Effect.VISIBLE,
    operations=("ProfileController_setProfileStatus",),
)
async def set_my_profile_status(
    w: Invocation, about: Annotated[str, Field(max_length=ABOUT_MAX)], session: Session = None
) -> view.ProfileUpdated:
    answer = await w.call("ProfileController_setProfileStatus", body={"status": about})
    return view.profile_updated(answer, about=about)


@tool(
    "Set your profile picture (JPEG or PNG).",
    effect=Effect.VISIBLE,
    operations=("ProfileController_setProfilePicture",),
)
async def set_my_profile_picture(
    w: Invocation, file: FileArg = None, data: DataArg = None, session: Session = None
) -> view.ProfileUpdated:
    media = media_input(w.settings, file, data, None, None, default_mime="image/jpeg", default_name="picture")
    if media.base_type not in _PICTURE_MIMES:
        raise ToolInputError(f"a profile picture is a JPEG or PNG image, not {media.base_type}")
    answer = await w.call("ProfileController_setProfilePicture", body={"file": media.waha()})
    return view.profile_updated(answer, picture=True)


@tool(
    "Remove your profile picture.",
    effect=Effect.DESTRUCTIVE,
    operations=("ProfileController_deleteProfilePicture",),
)
async def delete_my_profile_picture(w: Invocation, session: Session = None) -> view.ProfileUpdated:
    answer = await w.call("ProfileController_deleteProfilePicture")
    return view.profile_updated(answer, picture=False)
