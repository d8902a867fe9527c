"""WhatsApp's reach-out timelock (error 463): the control that sets it, `me.reachoutTimelock` in the session (WAHA
2026.7.2; sessions.dto.ts MeInfo), `payload.data.reachoutTimelock` in `session.status`, refused sends."""

from __future__ import annotations

import time

import httpx2

from waha_mcp.openapi.contract import check_webhook
from waha_mcp.sandbox import Sandbox

NEW_PERSON = "15550001234@c.us"  # on WhatsApp (not ending in 0), no conversation yet


async def test_a_timelock_shows_in_the_session_while_it_holds(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    before = (await client.get("/api/sessions/default")).json()
    assert before["me"]["reachoutTimelock"] is None and "data" not in before  # none seen yet: null
    set_it = await client.post("/__sandbox/default/timelock", json={"seconds": 3600, "enforcementType": "DEFAULT"})
    assert set_it.status_code == 201
    lock = (await client.get("/api/sessions/default")).json()["me"]["reachoutTimelock"]
    assert lock["isActive"] is True and lock["enforcementType"] == "DEFAULT"
    assert abs(lock["timeEnforcementEnds"] - (time.time() + 3600)) < 5  # unix seconds
    listed = {s["name"]: s for s in (await client.get("/api/sessions")).json()}
    assert listed["default"]["me"]["reachoutTimelock"]["isActive"] is True
    assert listed["business"]["me"]["reachoutTimelock"] is None
    await client.post("/__sandbox/default/timelock", json={"seconds": None})
    assert (await client.get("/api/sessions/default")).json()["me"]["reachoutTimelock"]["isActive"] is False


async def test_an_expired_timelock_is_inactive_and_a_logout_forgets_it(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.timelock("default", seconds=-1)
    assert (await client.get("/api/sessions/default")).json()["me"]["reachoutTimelock"]["isActive"] is False
    sb.timelock("default", seconds=60)
    await client.post("/api/sessions/default/logout")
    assert sb.sessions["default"].reachout is None


async def test_sends_to_new_contacts_fail_with_error_463_and_existing_chats_still_work(
    client: httpx2.AsyncClient, sb: Sandbox
) -> None:
    world = sb.sessions["default"].world
    assert world is not None
    known = next(iter(world.chats))
    sb.timelock("default", seconds=3600)
    refused = await client.post("/api/sendText", json={"session": "default", "chatId": NEW_PERSON, "text": "hi"})
    assert refused.status_code == 500
    assert refused.json()["exception"]["message"] == "server returned error 463"
    assert NEW_PERSON not in world.chats  # nothing was sent
    image = {"mimetype": "image/png", "url": "https://example.org/a.png"}
    media = await client.post("/api/sendImage", json={"session": "default", "chatId": NEW_PERSON, "file": image})
    assert media.status_code == 500 and "463" in media.json()["exception"]["message"]
    ok = await client.post("/api/sendText", json={"session": "default", "chatId": known, "text": "still here"})
    assert ok.status_code == 201 and world.chats[known].messages[-1].body == "still here"
    other = await client.post("/api/sendText", json={"session": "business", "chatId": NEW_PERSON, "text": "hi"})
    assert other.status_code == 201  # the timelock is the account's, not the server's
    await client.post("/__sandbox/default/timelock", json={"seconds": None})
    lifted = await client.post("/api/sendText", json={"session": "default", "chatId": NEW_PERSON, "text": "hi"})
    assert lifted.status_code == 201


async def test_the_control_needs_a_paired_session(client: httpx2.AsyncClient) -> None:
    await client.post("/api/sessions", json={"name": "fresh"})
    assert (await client.post("/__sandbox/fresh/timelock", json={})).status_code == 409
    assert (await client.post("/__sandbox/ghost/timelock", json={})).status_code == 404


async def test_setting_or_lifting_it_is_a_session_status_event(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.timelock("default", seconds=3600)
    await client.post("/__sandbox/default/timelock", json={"seconds": None})
    set_it, lifted = [r for r in sb.events() if r["event"] == "session.status" and r["session"] == "default"][-2:]
    for record in (set_it, lifted):
        assert check_webhook("session.status", record) == []
        assert record["payload"]["status"] == "WORKING"  # the status itself does not change
    lock = set_it["payload"]["data"]["reachoutTimelock"]
    assert lock["isActive"] is True and abs(lock["timeEnforcementEnds"] - (time.time() + 3600)) < 5
    assert lifted["payload"]["data"]["reachoutTimelock"]["isActive"] is False
