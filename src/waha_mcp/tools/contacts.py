"""Toolset `contacts`: the address book, one person, numbers on WhatsApp, about, picture, block, LIDs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.client import EndpointMissing
from waha_mcp.errors import ToolInputError
from waha_mcp.people import is_lid, phone_id
from waha_mcp.tools import _people as people
from waha_mcp.tools._common import ChatId, Limit, Name, Offset, Phone, Rich, Session, image_result
from waha_mcp.tools.chats import fetch_picture
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

LastName = Annotated[str, Field(max_length=100)]


def _person(contact_id: str) -> str:
    if not contact_id.endswith(("@c.us", "@lid")):
        raise ToolInputError(f"{contact_id} is not a person: use a phone number, <phone>@c.us or <id>@lid")
    return contact_id


@tool(
    "List contacts by name.",
    effect=Effect.READ,
    operations=("ContactsController_getAll", people.LIDS),
    default="always",
)
async def get_contacts(
    w: Invocation, session: Session = None, limit: Limit = 50, offset: Offset = 0
) -> view.ContactList:
    query = {"sortBy": "name", "sortOrder": "asc", "limit": limit, "offset": offset}
    items = await w.call("ContactsController_getAll", query=query)
    items = items if isinstance(items, list) else []
    ids = [view.serialized_id(c.get("id")) for c in items if isinstance(c, dict)]
    next_offset = offset + limit if len(items) >= limit else None
    return view.contact_list(items, next_offset, await people.phones(w, ids))


@tool(
    "Get one contact: name, number, saved, blocked.",
    effect=Effect.READ,
    operations=("ContactsSessionController_get", "ContactsController_get", people.LIDS),
    default="always",
)
async def get_contact(w: Invocation, contactId: ChatId, session: Session = None) -> view.ContactDetail:
    contact_id = _person(contactId)
    try:
        raw = await w.call("ContactsSessionController_get", id=contact_id)
    except EndpointMissing:  # WAHA before the session-path route
        raw = await w.call("ContactsController_get", query={"contactId": contact_id})
    return view.contact_detail(contact_id, raw, await people.phones(w, [contact_id]))


@tool(
    "Is this phone number on WhatsApp? Gives the chat id to use.",
    effect=Effect.READ,
    operations=("ContactsController_checkExists",),
    default="always",
)
async def check_number(w: Invocation, phone: Phone, session: Session = None) -> view.NumberCheck:
    found = view.number_check(phone, await w.call("ContactsController_checkExists", query={"phone": phone}))
    if "pn" in found and is_lid(found.get("chatId")):  # WAHA 2026.8.1 says who the @lid is: remember it
        w.app.lids.put(w.session or "", found["chatId"], found["pn"])
    return found


@tool(
    "Get a contact's about (status text).",
    effect=Effect.READ,
    operations=("ContactsController_getAbout",),
)
async def get_contact_about(w: Invocation, contactId: ChatId, session: Session = None) -> view.ContactAbout:
    contact_id = _person(contactId)
    answer = await w.call("ContactsController_getAbout", query={"contactId": contact_id})
    return view.contact_about(contact_id, answer)


@tool(
    "Get a contact's profile picture (image, or its URL).",
    effect=Effect.READ,
    output=view.ContactPicture,
    operations=("ContactsController_getProfilePicture",),
)
async def get_contact_picture(
    w: Invocation, contactId: ChatId, session: Session = None, refresh: bool = False
) -> view.ContactPicture | Rich:
    contact_id = _person(contactId)
    query = {"contactId": contact_id, "refresh": refresh or None}
    answer = await w.call("ContactsController_getProfilePicture", query=query)
    url = answer.get("profilePictureURL") if isinstance(answer, dict) else None
    url = url if isinstance(url, str) and url else None
    image = await fetch_picture(w, w.acting, url) if url else None
    if image is None:
        return view.contact_picture(contact_id, url=url)
    return image_result(image, view.contact_picture(contact_id, image=image.data))


# Blocking notifies nobody, but the other person sees its effects (no more last seen, online, picture updates;
# their messages stop being delivered): VISIBLE, not LOCAL.
@tool(
    "Block a contact, or unblock with blocked=false.",
    effect=Effect.VISIBLE,
    operations=("ContactsController_block", "ContactsController_unblock"),
)
async def block_contact(
    w: Invocation, contactId: ChatId, session: Session = None, blocked: bool = True
) -> view.ContactBlocked:
    contact_id = _person(contactId)
    operation = "ContactsController_block" if blocked else "ContactsController_unblock"
    await w.call(operation, body={"contactId": contact_id})
    return view.contact_blocked(contact_id, blocked)


@tool(
    "Add a contact to the phone's address book, or rename one.",
    effect=Effect.LOCAL,
    operations=("ContactsSessionController_put",),
)
async def save_contact(
    w: Invocation,
    contactId: ChatId,
    firstName: Name,
    lastName: LastName = "",
    session: Session = None,
) -> view.ContactSaved:
    contact_id = _person(contactId)
    first, last = firstName.strip(), lastName.strip()
    body = {"firstName": first, "lastName": last}
    await w.call("ContactsSessionController_put", chatId=contact_id, body=body)
    return view.contact_saved(contact_id, f"{first} {last}".strip())


@tool(
    "List known LIDs (hidden-number ids) with their phone chat ids.",
    effect=Effect.READ,
    operations=("LidsController_getAll", "LidsController_getLidsCount"),
)
async def get_lids(w: Invocation, session: Session = None, limit: Limit = 50, offset: Offset = 0) -> view.LidList:
    items = await w.call("LidsController_getAll", query={"limit": limit, "offset": offset})
    items = items if isinstance(items, list) else []
    total = None
    if offset == 0:  # the total once, with the first page
        counted = await w.call("LidsController_getLidsCount")
        total = counted.get("count") if isinstance(counted, dict) else None
    out = view.lid_list(items, offset + limit if len(items) >= limit else None, total)
    for pair in out["lids"]:
        if pair.get("chatId"):
            w.app.lids.put(w.session or "", pair["lid"], pair["chatId"])  # what later results resolve
    return out


@tool(
    "Phone chat id of a LID (…@lid), or the LID of a phone number.",
    effect=Effect.READ,
    operations=("LidsController_findPNByLid", "LidsController_findLIDByPhoneNumber"),
)
async def find_lid(w: Invocation, contactId: ChatId, session: Session = None) -> view.LidMatch:
    person = _person(contactId)
    if is_lid(person):
        answer = await w.call("LidsController_findPNByLid", lid=person)
        pn = phone_id(answer.get("pn")) if isinstance(answer, dict) else None
        w.app.lids.put(w.session or "", person, pn)
        return view.lid_match(person, pn)
    answer = await w.call("LidsController_findLIDByPhoneNumber", phoneNumber=person)
    lid = answer.get("lid") if isinstance(answer, dict) else None
    lid = lid if is_lid(lid) else None
    if lid:
        w.app.lids.put(w.session or "", lid, person)
    return view.lid_match(lid, person)
