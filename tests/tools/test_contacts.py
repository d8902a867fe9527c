"""Toolset `contacts` end to end, and `@lid` people resolved to a phone and a name wherever tools show them."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.people import LidCache
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import Contact, World


def world(sandbox: Sandbox, session: str = "default") -> World:
    w = sandbox.sessions[session].world
    assert w is not None
    return w


def with_lid(sandbox: Sandbox) -> Contact:
    return next(c for c in world(sandbox).contacts.values() if c.lid and c.name)


def lid_requests(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.requests if "/lids/" in r.path]


async def test_contacts_list_by_name_with_paging(mcp: Client, sandbox: Sandbox) -> None:
    w = world(sandbox)
    everyone = data(await call(mcp, "waha_get_contacts", {"limit": 100}))
    assert everyone["nextOffset"] is None and len(everyone["contacts"]) == len(w.contacts)
    names = [c.get("name") or c.get("pushName") for c in everyone["contacts"]]
    assert names == sorted(names, key=str)
    stranger = next(c for c in w.contacts.values() if not c.is_my_contact)
    shown = next(c for c in everyone["contacts"] if c["id"] == stranger.id)
    assert shown == {
        "id": stranger.id,
        "pushName": stranger.pushname,
        "phone": "+" + stranger.id.split("@")[0],
        "saved": False,
    }
    page = data(await call(mcp, "waha_get_contacts", {"limit": 2, "offset": 2}))
    assert page["contacts"] == everyone["contacts"][2:4] and page["nextOffset"] == 4
    assert sandbox.requests[-1].query["sortBy"] == ["name"]


async def test_one_contact_and_the_older_route(mcp: Client, sandbox: Sandbox) -> None:
    contact = with_lid(sandbox)
    out = data(await call(mcp, "waha_get_contact", {"contactId": contact.id.split("@")[0]}))
    assert (
        out["contactId"] == contact.id
        and out["name"] == contact.name
        and out["phone"] == "+" + contact.id.split("@")[0]
    )
    assert sandbox.requests[-1].path == f"/api/default/contacts/{contact.id.replace('@', '%40')}"
    # By its LID: the same person, and the number behind it.
    by_lid = data(await call(mcp, "waha_get_contact", {"contactId": contact.lid}))
    assert by_lid["contactId"] == contact.lid and by_lid["name"] == contact.name
    assert by_lid["phone"] == "+" + contact.id.split("@")[0]
    # A WAHA without the session-path route: the query route answers instead.
    sandbox.faults.add(
        "ContactsSessionController_get",
        kind="status",
        status=404,
        times=1,
        body={"statusCode": 404, "message": "Cannot GET /api/default/contacts/x", "error": "Not Found"},
    )
    old = data(await call(mcp, "waha_get_contact", {"contactId": contact.id}))
    assert old == out and sandbox.requests[-1].path == "/api/contacts"
    unknown = data(await call(mcp, "waha_get_contact", {"contactId": "4915112345677"}))
    assert unknown == {"session": "default", "contactId": "4915112345677@c.us", "known": False}


async def test_check_number(mcp: Client, sandbox: Sandbox) -> None:
    contact = next(iter(world(sandbox).contacts.values()))
    digits = contact.id.split("@")[0]
    yes = data(await call(mcp, "waha_check_number", {"phone": f"+{digits}"}))
    assert yes == {"session": "default", "phone": digits, "onWhatsApp": True, "chatId": contact.id}
    no = data(await call(mcp, "waha_check_number", {"phone": "4915112345670"}))
    assert no == {"session": "default", "phone": "4915112345670", "onWhatsApp": False}
    assert sandbox.requests[-1].query["phone"] == ["4915112345670"]


async def test_about_and_picture(mcp: Client, sandbox: Sandbox) -> None:
    contacts = list(world(sandbox).contacts.values())
    open_, private = contacts[0], contacts[3]
    about = data(await call(mcp, "waha_get_contact_about", {"contactId": open_.id}))
    assert about == {"session": "default", "contactId": open_.id, "about": open_.about}
    hidden = data(await call(mcp, "waha_get_contact_about", {"contactId": private.id}))
    assert hidden["about"] is None
    pic = data(await call(mcp, "waha_get_contact_picture", {"contactId": open_.id}))
    assert pic["url"].startswith("https://pps.whatsapp.net/")
    assert all("pps.whatsapp.net" not in r.path for r in sandbox.requests)  # WhatsApp's CDN is never fetched
    none = data(await call(mcp, "waha_get_contact_picture", {"contactId": private.id, "refresh": True}))
    assert none == {"session": "default", "contactId": private.id, "picture": None}
    assert sandbox.requests[-1].query["refresh"] == ["true"]


async def test_picture_served_by_waha_is_an_image(mcp: Client, sandbox: Sandbox) -> None:
    msg = next(m for c in world(sandbox).chats.values() for m in c.messages if m.media)
    msg.media.size = 1500
    msg.media.downloaded_at = 1e18
    url = f"http://sandbox/api/files/default/{msg.id}.jpeg"
    body = {"profilePictureURL": url}
    sandbox.faults.add("ContactsController_getProfilePicture", kind="status", status=200, body=body, times=1)
    contact = next(iter(world(sandbox).contacts))
    result = await call(mcp, "waha_get_contact_picture", {"contactId": contact})
    assert result.content[0].type == "image" and result.content[0].mime_type == "image/jpeg"
    assert result.structured_content == {"session": "default", "contactId": contact, "bytes": 1500}


async def test_block_unblock_and_save(mcp: Client, sandbox: Sandbox) -> None:
    w = world(sandbox)
    contact = next(iter(w.contacts.values()))
    out = data(await call(mcp, "waha_block_contact", {"contactId": contact.id}))
    assert out == {"session": "default", "contactId": contact.id, "blocked": True} and contact.blocked
    assert sandbox.requests[-1].json == {"contactId": contact.id, "session": "default"}
    assert data(await call(mcp, "waha_get_contact", {"contactId": contact.id}))["blocked"] is True
    data(await call(mcp, "waha_block_contact", {"contactId": contact.id, "blocked": False}))
    assert not contact.blocked and sandbox.requests[-1].path == "/api/contacts/unblock"

    saved = data(await call(mcp, "waha_save_contact", {"contactId": "+49 151 12345677", "firstName": " Zoe "}))
    assert saved == {"session": "default", "contactId": "4915112345677@c.us", "name": "Zoe", "saved": True}
    assert sandbox.requests[-1].json == {"firstName": "Zoe", "lastName": ""}
    data(await call(mcp, "waha_save_contact", {"contactId": contact.id, "firstName": "Ana", "lastName": "B."}))
    assert w.contacts[contact.id].name == "Ana B."
    assert data(await call(mcp, "waha_get_contact", {"contactId": contact.id}))["name"] == "Ana B."


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("waha_save_contact", {"contactId": "120363000000000001@g.us", "firstName": "A"}, "not a person"),
        ("waha_save_contact", {"contactId": "4915112345677", "firstName": "  "}, "firstName is empty"),
        ("waha_block_contact", {"contactId": "status@broadcast"}, "not a person"),
        ("waha_find_lid", {"contactId": "120363000000000001@g.us"}, "not a person"),
        ("waha_check_number", {"phone": "abc"}, "digits only"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, str], needle: str
) -> None:
    assert needle in error(await call(mcp, tool, args))
    assert sandbox.requests == []


async def test_lids_list_count_and_lookups(mcp: Client, sandbox: Sandbox) -> None:
    known = world(sandbox).lids()
    out = data(await call(mcp, "waha_get_lids", {}))
    assert {p["lid"]: p["chatId"] for p in out["lids"]} == known
    assert out["total"] == len(known) and out["nextOffset"] is None
    counts = [r for r in sandbox.requests if r.path.endswith("/lids/count")]
    page = data(await call(mcp, "waha_get_lids", {"limit": 1, "offset": 1}))
    assert page["lids"] == out["lids"][1:2] and "total" not in page and page["nextOffset"] == 2
    assert [r for r in sandbox.requests if r.path.endswith("/lids/count")] == counts  # the total: first page only

    contact = with_lid(sandbox)
    assert data(await call(mcp, "waha_find_lid", {"contactId": contact.lid})) == {
        "session": "default",
        "lid": contact.lid,
        "chatId": contact.id,
    }
    by_phone = data(await call(mcp, "waha_find_lid", {"contactId": "+" + contact.id.split("@")[0]}))
    assert by_phone["lid"] == contact.lid and by_phone["chatId"] == contact.id
    assert sandbox.requests[-1].path.startswith("/api/default/lids/pn/")
    unknown = data(await call(mcp, "waha_find_lid", {"contactId": "123456@lid"}))
    assert unknown["lid"] == "123456@lid" and unknown["chatId"] is None
    nobody = data(await call(mcp, "waha_find_lid", {"contactId": "4915112345677"}))
    assert nobody["lid"] is None and nobody["chatId"] == "4915112345677@c.us"


# --- @lid people resolved in other tools ---------------------------------------------------------------


async def test_a_group_message_from_a_lid_shows_the_contacts_name(mcp: Client, sandbox: Sandbox) -> None:
    w = world(sandbox)
    contact = with_lid(sandbox)
    group = next(iter(w.groups))
    msg = w.receive_text(group, "hello from a hidden number", sender=contact.lid)
    stranger = w.receive_text(group, "who am I", sender="987654321@lid")  # a LID nobody can resolve
    out = data(await call(mcp, "waha_get_messages", {"chatId": group, "limit": 30}))
    by_id = {m["id"]: m for m in out["messages"]}
    assert by_id[msg.id]["from"] == contact.name
    assert by_id[stranger.id]["from"] == "987654321@lid"  # left as it is, and the tool did not fail
    assert out["people"][contact.name] == contact.id  # the phone id to reach them, not the LID
    # One lookup per LID, however many messages it wrote.
    lookups = lid_requests(sandbox)
    assert len(lookups) == len(set(lookups)) and f"/api/default/lids/{contact.lid.replace('@', '%40')}" in lookups
    one = data(await call(mcp, "waha_get_message", {"chatId": group, "messageId": msg.id}))
    assert one["from"] == contact.name
    assert lid_requests(sandbox) == lookups  # the cache answered: no second lookup


async def test_one_message_from_a_lid_is_named_and_lid_contacts_show_their_number(
    mcp: Client, sandbox: Sandbox
) -> None:
    w = world(sandbox)
    contact = with_lid(sandbox)
    group = next(iter(w.groups))
    msg = w.receive_text(group, "hello", sender=contact.lid)
    one = data(await call(mcp, "waha_get_message", {"chatId": group, "messageId": msg.id}))
    assert one["from"] == contact.name
    # WhatsApp lists some people by LID only: the list shows the number behind it when the session knows it.
    w.contacts[contact.lid] = Contact(contact.lid, None, pushname="Hidden", is_my_contact=False)
    w.contacts["777@lid"] = Contact("777@lid", None, pushname="Nobody", is_my_contact=False)
    listed = {c["id"]: c for c in data(await call(mcp, "waha_get_contacts", {"limit": 100}))["contacts"]}
    assert listed[contact.lid]["phone"] == "+" + contact.id.split("@")[0]
    assert "phone" not in listed["777@lid"]  # a LID's digits are not a phone number


async def test_a_lid_without_a_name_shows_its_number(mcp: Client, sandbox: Sandbox) -> None:
    w = world(sandbox)
    group = next(iter(w.groups))
    w.contacts["4915112345677@c.us"] = Contact("4915112345677@c.us", None, is_my_contact=False, lid="555000111@lid")
    msg = w.receive_text(group, "hi", sender="555000111@lid")
    out = data(await call(mcp, "waha_get_messages", {"chatId": group, "limit": 5}))
    assert next(m for m in out["messages"] if m["id"] == msg.id)["from"] == "+4915112345677"


async def test_a_failed_lid_lookup_leaves_the_id_and_is_not_repeated(mcp: Client, sandbox: Sandbox) -> None:
    w = world(sandbox)
    contact = with_lid(sandbox)
    group = next(iter(w.groups))
    msg = w.receive_text(group, "hello", sender=contact.lid)
    sandbox.faults.add("LidsController_findPNByLid", kind="status", status=500)
    out = data(await call(mcp, "waha_get_messages", {"chatId": group, "limit": 5}))
    assert next(m for m in out["messages"] if m["id"] == msg.id)["from"] == contact.lid
    failed = len(lid_requests(sandbox))
    assert failed >= 1
    data(await call(mcp, "waha_get_messages", {"chatId": group, "limit": 5}))
    assert len(lid_requests(sandbox)) == failed  # a miss is remembered for a while, not asked again per call


async def test_lid_cache_is_per_session_bounded_and_timed() -> None:
    now = [0.0]
    cache = LidCache(max_entries=2, ttl=100, miss_ttl=10, clock=lambda: now[0])
    asked: list[str] = []

    async def lookup(lid: str) -> str | None:
        asked.append(lid)
        return None if lid.startswith("0") else f"{lid.split('@')[0]}9@c.us"

    assert await cache.phones("a", ["1@lid", "1@lid", "x@c.us"], lookup) == {"1@lid": "19@c.us"}
    assert await cache.phones("a", ["1@lid"], lookup) == {"1@lid": "19@c.us"} and asked == ["1@lid"]
    await cache.phones("b", ["1@lid"], lookup)
    assert asked == ["1@lid", "1@lid"]  # another session asks for itself
    assert await cache.phones("a", ["0@lid"], lookup) == {} and len(cache) == 2  # the oldest entry went
    now[0] = 11
    await cache.phones("a", ["0@lid"], lookup)
    assert asked.count("0@lid") == 2  # a miss expires sooner than an answer
    now[0] = 200
    await cache.phones("a", ["0@lid", "1@lid"], lookup)
    assert asked.count("1@lid") == 3
