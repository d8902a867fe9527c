"""👤 Contacts (session in the query string)."""

from __future__ import annotations

from typing import Any

from ..registry import Ctx, route
from ._common import normalize_chat_id, paginate, sort_items, world_of


@route("ContactsController_getAll")
async def get_all(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    contacts = sort_items(
        list(world.contacts.values()), ctx, {"id": lambda c: c.id, "name": lambda c: c.name or c.pushname}
    )
    return [c.to_waha() for c in paginate(contacts, ctx)]


@route("ContactsController_get")
async def get_contact(ctx: Ctx) -> dict[str, Any] | None:
    world = world_of(await ctx.working_session())
    contact = world.contacts.get(normalize_chat_id(ctx.q("contactId") or ""))
    # NOWEB answers a contact it does not know with an empty 200 body.
    return contact.to_waha() if contact else None
