"""👤 Contacts (session in the query string or the body) and LIDs (session in the path)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import Contact, World
from ._common import normalize_chat_id, paginate, sort_items, world_of


def _contact_id(value: str | None) -> str:
    """WAHA takes `123`, `+123`, `123@c.us` or `123@lid`."""
    if not value or not value.strip():
        raise errors.bad_request(["contactId should not be empty"])
    return normalize_chat_id(value)


def _lid(value: str) -> str:
    value = value.strip()
    return value if "@" in value else f"{value}@lid"


def _picture_url(world: World, contact_id: str) -> str:
    digest = hashlib.sha256(f"{world.me_id}:{contact_id}".encode()).hexdigest()
    return f"https://pps.whatsapp.net/v/t61.24694-24/{int(digest[2:14], 16)}_n.jpg?oh={digest[14:46]}"


@route("ContactsController_getAll")
async def get_all(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    contacts = sort_items(
        list(world.contacts.values()), ctx, {"id": lambda c: c.id, "name": lambda c: c.name or c.pushname}
    )
    return [c.to_waha() for c in paginate(contacts, ctx)]


async def _one(ctx: Ctx, contact_id: str) -> dict[str, Any] | None:
    world = world_of(await ctx.working_session())
    contact = world.contact(_contact_id(contact_id))
    # NOWEB answers a contact it does not know with an empty 200 body.
    return contact.to_waha() if contact else None


@route("ContactsController_get")
async def get_contact(ctx: Ctx) -> dict[str, Any] | None:
    return await _one(ctx, ctx.q("contactId") or "")


@route("ContactsSessionController_get")
async def get_session_contact(ctx: Ctx) -> dict[str, Any] | None:
    return await _one(ctx, ctx.params["id"])


@route("ContactsController_checkExists")
async def check_exists(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    digits = re.sub(r"[\s+\-()]", "", ctx.q("phone") or "").removesuffix("@c.us")
    if not digits.isdigit() or not world.on_whatsapp(digits):
        return {"numberExists": False}
    return {"numberExists": True, "chatId": f"{digits}@c.us"}


@route("ContactsController_getAbout")
async def get_about(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    contact = world.contact(_contact_id(ctx.q("contactId")))
    # Hidden by privacy settings, or a number the account has never seen: null.
    return {"about": contact.about if contact else None}


@route("ContactsController_getProfilePicture")
async def get_profile_picture(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    contact_id = _contact_id(ctx.q("contactId"))
    ctx.q_bool("refresh", False)
    contact = world.contact(contact_id)
    if contact is None or not contact.picture:
        return {"profilePictureURL": None}
    return {"profilePictureURL": _picture_url(world, contact.id)}


async def _set_blocked(ctx: Ctx, blocked: bool) -> None:
    body = ctx.body or {}
    world = world_of(await ctx.working_session())
    contact_id = _contact_id(body.get("contactId"))
    contact = world.contact(contact_id)
    if contact is None:  # WhatsApp blocks any number; it then knows it as a contact outside the address book
        contact = world.contacts[contact_id] = Contact(contact_id, None, is_my_contact=False)
    contact.blocked = blocked


@route("ContactsController_block")
async def block(ctx: Ctx) -> None:
    await _set_blocked(ctx, True)


@route("ContactsController_unblock")
async def unblock(ctx: Ctx) -> None:
    await _set_blocked(ctx, False)


@route("ContactsSessionController_put")
async def put_contact(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    contact_id = normalize_chat_id(ctx.params["chatId"])
    if not contact_id.endswith(("@c.us", "@lid")):
        raise errors.bad_request(["chatId must be a person's id (<phone>@c.us)"])
    body = ctx.body or {}
    name = " ".join(part.strip() for part in (body.get("firstName"), body.get("lastName")) if part and part.strip())
    contact = world.contact(contact_id)
    if contact is None:
        contact = world.contacts[contact_id] = Contact(contact_id, None)
    contact.name = name or contact.name
    contact.is_my_contact = True
    chat = world.chats.get(contact.id)
    if chat is not None:
        chat.name = world.name_of(contact.id)
    return {"success": True}


@route("LidsController_getAll")
async def get_lids(ctx: Ctx) -> list[dict[str, str]]:
    world = world_of(await ctx.working_session())
    pairs = [{"lid": lid, "pn": pn} for lid, pn in world.lids().items()]
    return paginate(pairs, ctx, default_limit=100)


@route("LidsController_getLidsCount")
async def count_lids(ctx: Ctx) -> dict[str, int]:
    world = world_of(await ctx.working_session())
    return {"count": len(world.lids())}


@route("LidsController_findPNByLid")
async def pn_by_lid(ctx: Ctx) -> dict[str, str | None]:
    world = world_of(await ctx.working_session())
    lid = _lid(ctx.params["lid"])
    # Unknown: 200 with `pn: null` (src/api/lids.controller.ts: `result.pn = result.pn || null`).
    return {"lid": lid, "pn": world.pn_of(lid) or None}


@route("LidsController_findLIDByPhoneNumber")
async def lid_by_pn(ctx: Ctx) -> dict[str, str | None]:
    world = world_of(await ctx.working_session())
    raw = ctx.params["phoneNumber"]
    if raw.endswith("@lid"):
        return {"lid": raw, "pn": None}  # a LID asked as a number: WAHA answers it back, pn null
    pn = normalize_chat_id(raw)
    return {"lid": world.lid_of(pn) or None, "pn": pn}  # unknown: `lid: null`
