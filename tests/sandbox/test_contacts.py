"""Sandbox routes for contacts and LIDs, straight over HTTP (every 2xx checked against the document)."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World

Q = {"session": "default"}


def world(sb: Sandbox, name: str = "default") -> World:
    w = sb.sessions[name].world
    assert w is not None
    return w


def with_lid(sb: Sandbox) -> tuple[str, str]:
    """(phone id, LID) of a seeded contact that has a LID."""
    return next((c.id, c.lid) for c in world(sb).contacts.values() if c.lid)


async def test_one_contact_by_both_routes_by_phone_and_by_lid(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    pn, lid = with_lid(sb)
    by_query = (await client.get("/api/contacts", params={**Q, "contactId": pn.split("@")[0]})).json()
    by_path = (await client.get(f"/api/default/contacts/{pn}")).json()
    by_lid = (await client.get(f"/api/default/contacts/{lid}")).json()
    assert by_query == by_path == by_lid and by_path["id"] == pn
    r = await client.get("/api/default/contacts/19999999999@c.us")
    assert r.status_code == 200 and r.content == b""  # NOWEB: unknown contact, empty 200
    r = await client.get("/api/contacts", params={**Q, "contactId": " "})
    assert r.status_code == 400 and r.json()["statusCode"] == 400


async def test_exists_check(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    pn = next(iter(world(sb).contacts))
    digits = pn.split("@")[0]
    ok = (await client.get("/api/contacts/check-exists", params={**Q, "phone": digits})).json()
    assert ok == {"numberExists": True, "chatId": pn}
    stranger = (await client.get("/api/contacts/check-exists", params={**Q, "phone": "4915112345677"})).json()
    assert stranger == {"numberExists": True, "chatId": "4915112345677@c.us"}
    nobody = (await client.get("/api/contacts/check-exists", params={**Q, "phone": "4915112345670"})).json()
    assert nobody == {"numberExists": False}


async def test_about_and_picture_respect_privacy(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    contacts = list(world(sb).contacts.values())
    open_, private = contacts[0], contacts[3]
    about = (await client.get("/api/contacts/about", params={**Q, "contactId": open_.id})).json()
    assert about == {"about": open_.about} and open_.about
    assert (await client.get("/api/contacts/about", params={**Q, "contactId": private.id})).json() == {"about": None}
    pic = (await client.get("/api/contacts/profile-picture", params={**Q, "contactId": open_.id})).json()
    assert pic["profilePictureURL"].startswith("https://pps.whatsapp.net/")
    hidden = await client.get("/api/contacts/profile-picture", params={**Q, "contactId": private.id, "refresh": "true"})
    assert hidden.json() == {"profilePictureURL": None}


async def test_block_unblock_and_save(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    w = world(sb)
    pn = next(iter(w.contacts))
    r = await client.post("/api/contacts/block", json={"session": "default", "contactId": pn})
    assert r.status_code == 201 and w.contacts[pn].blocked
    got = (await client.get(f"/api/default/contacts/{pn}")).json()
    assert got["isBlocked"] is True
    await client.post("/api/contacts/unblock", json={"session": "default", "contactId": pn})
    assert not w.contacts[pn].blocked
    # A number outside the address book can be blocked too.
    await client.post("/api/contacts/block", json={"session": "default", "contactId": "4915112345677"})
    assert w.contacts["4915112345677@c.us"].blocked and not w.contacts["4915112345677@c.us"].is_my_contact
    # The session in the body is the one that acts.
    assert not any(c.blocked for c in world(sb, "business").contacts.values())

    r = await client.put("/api/default/contacts/4915112345677@c.us", json={"firstName": "Zoe", "lastName": "Quinn"})
    assert r.status_code == 200 and r.json() == {"success": True}
    assert w.contacts["4915112345677@c.us"].name == "Zoe Quinn" and w.contacts["4915112345677@c.us"].is_my_contact
    r = await client.put("/api/default/contacts/120363000000000001@g.us", json={"firstName": "A", "lastName": "B"})
    assert r.status_code == 400
    r = await client.put(f"/api/default/contacts/{pn}", json={"firstName": "Only"})
    assert r.status_code == 400  # the document requires lastName


async def test_lid_routes(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    pn, lid = with_lid(sb)
    known = world(sb).lids()
    assert len(known) >= 2
    everything = (await client.get("/api/default/lids")).json()
    assert {item["lid"]: item["pn"] for item in everything} == known
    page = (await client.get("/api/default/lids", params={"limit": 1, "offset": 1})).json()
    assert page == everything[1:2]
    assert (await client.get("/api/default/lids/count")).json() == {"count": len(known)}
    assert (await client.get(f"/api/default/lids/{lid}")).json() == {"lid": lid, "pn": pn}
    bare = lid.split("@")[0]
    assert (await client.get(f"/api/default/lids/{bare}")).json() == {"lid": lid, "pn": pn}
    # Unknown ones keep the field, null (src/api/lids.controller.ts).
    assert (await client.get("/api/default/lids/123@lid")).json() == {"lid": "123@lid", "pn": None}
    assert (await client.get(f"/api/default/lids/pn/{pn}")).json() == {"lid": lid, "pn": pn}
    assert (await client.get("/api/default/lids/pn/4915112345677")).json() == {"lid": None, "pn": "4915112345677@c.us"}
    assert (await client.get("/api/default/lids/pn/123@lid")).json() == {"lid": "123@lid", "pn": None}


async def test_seeded_groups_have_senders_by_lid(sb: Sandbox) -> None:
    w = world(sb)
    senders = {m.sender for gid in w.groups for m in w.chats[gid].messages if not m.from_me}
    lids = {s for s in senders if s.endswith("@lid")}
    assert lids and lids <= set(w.lids())


async def test_stopped_session_is_refused(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    await client.post("/api/sessions/default/stop")
    r = await client.get("/api/default/lids/count")
    assert r.status_code == 404 and "start it first" in r.json()["message"]
