"""What WAHA 2026.7.2–2026.9.1 added, as the sandbox's `current` profile plays it (the supplement document), and
the same routes missing on the profiles of older WAHA."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest

from waha_mcp.openapi.contract import check_webhook
from waha_mcp.sandbox import Sandbox, sandbox_transport

NEW_PERSON = "15550001234@c.us"  # on WhatsApp, no conversation yet
S = {"session": "default"}


def events(sb: Sandbox, name: str) -> list[dict[str, Any]]:
    return [r for r in sb.events() if r["event"] == name and r["session"] == "default"]


def admin_group(sb: Sandbox) -> str:
    world = sb.sessions["default"].world
    assert world is not None
    return next(g.id for g in world.groups.values() if g.is_admin(world.me_id))


async def test_timelock_and_capping_are_read_on_demand(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    lock = (await client.get("/api/sessions/default/timelock")).json()
    assert lock == {"enforcementType": "DEFAULT", "isActive": False, "timeEnforcementEnds": None}
    capping = (await client.get("/api/sessions/default/capping")).json()
    assert capping["cappingStatus"] == "NONE" and capping["totalQuota"] == -1  # no cap: -1 (sessions.dto.ts)
    sb.timelock("default", seconds=600)
    sb.capping("default", "FIRST_WARNING", seconds=3600, used=640, total=1000)
    lock = (await client.get("/api/sessions/default/timelock")).json()
    assert lock["isActive"] is True and abs(lock["timeEnforcementEnds"] - (time.time() + 600)) < 5
    capping = (await client.get("/api/sessions/default/capping")).json()
    assert (capping["cappingStatus"], capping["usedQuota"], capping["totalQuota"]) == ("FIRST_WARNING", 640, 1000)
    assert abs(capping["cycleEnd"] - (time.time() + 3600)) < 5


async def test_capping_shows_in_me_and_in_a_session_status_event(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    assert (await client.get("/api/sessions/default")).json()["me"]["messageCapping"] is None  # not fetched yet
    response = await client.post("/__sandbox/default/capping", json={"status": "CAPPED", "seconds": 3600})
    assert response.status_code == 201
    me = (await client.get("/api/sessions/default")).json()["me"]
    assert me["messageCapping"]["cappingStatus"] == "CAPPED"
    record = events(sb, "session.status")[-1]
    assert check_webhook("session.status", record) == []
    assert record["payload"]["status"] == "WORKING" and record["me"]["messageCapping"]["cappingStatus"] == "CAPPED"


async def test_a_capped_account_fails_new_chats_with_error_475(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    world = sb.sessions["default"].world
    assert world is not None
    known = next(iter(world.chats))
    sb.capping("default", "CAPPED", seconds=3600)
    refused = await client.post("/api/sendText", json={**S, "chatId": NEW_PERSON, "text": "hi"})
    assert refused.status_code == 500
    assert refused.json()["exception"]["message"] == "server returned error 475"
    assert NEW_PERSON not in world.chats
    ok = await client.post("/api/sendText", json={**S, "chatId": known, "text": "still here"})
    assert ok.status_code == 201  # existing chats still work (WAHA docs)
    sb.capping("default", "NONE", seconds=3600)
    assert (await client.post("/api/sendText", json={**S, "chatId": NEW_PERSON, "text": "hi"})).status_code == 201


async def test_a_sticker_is_sent_as_a_sticker_message(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    file = {"mimetype": "image/webp", "url": "https://www.gstatic.com/webp/gallery/1.webp"}
    sent = await client.post("/api/sendSticker", json={**S, "chatId": NEW_PERSON, "file": file})
    assert sent.status_code == 201
    content = sent.json()["message"]
    assert "stickerMessage" in content and content["stickerMessage"]["mimetype"] == "image/webp"
    world = sb.sessions["default"].world
    assert world is not None and world.chats[NEW_PERSON].messages[-1].media is not None


async def test_join_requests_listed_approved_and_rejected(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    group = admin_group(sb)
    base = f"/api/default/groups/{group.replace('@', '%40')}"
    for person in ("4915100000001@c.us", "4915100000002@c.us", "4915100000003@c.us"):
        asked = await client.post("/__sandbox/default/join-request", json={"groupId": group, "from": person})
        assert asked.status_code == 201
    created = events(sb, "group.v2.participants.join-request")
    assert [e["payload"]["action"] for e in created] == ["created"] * 3
    assert all(check_webhook("group.v2.participants.join-request", e) == [] for e in created)
    listed = (await client.get(f"{base}/participants/join-requests")).json()
    assert [r["requesterId"] for r in listed] == ["4915100000001@c.us", "4915100000002@c.us", "4915100000003@c.us"]
    assert listed[0]["requestMethod"] == "invite_link" and listed[0]["addedById"] is None
    approve = {"participants": [{"id": "4915100000001@c.us"}, {"id": "4915199999999@c.us"}]}
    answer = (await client.post(f"{base}/participants/join-requests/approve", json=approve)).json()
    assert answer == [
        {"requesterId": "4915100000001@c.us", "success": True},
        {"requesterId": "4915199999999@c.us", "success": False, "error": 404},
    ]
    joined = events(sb, "group.v2.participants")[-1]["payload"]  # no `accepted` action: the user joins
    assert joined["type"] == "join" and joined["participants"][0]["id"] == "4915100000001@c.us"
    reject = {"participants": [{"id": "4915100000002@c.us"}]}
    assert (await client.post(f"{base}/participants/join-requests/reject", json=reject)).status_code == 201
    assert events(sb, "group.v2.participants.join-request")[-1]["payload"]["action"] == "rejected"
    withdrawn = {"groupId": group, "from": "4915100000003@c.us", "action": "revoked"}
    assert (await client.post("/__sandbox/default/join-request", json=withdrawn)).status_code == 201
    assert events(sb, "group.v2.participants.join-request")[-1]["payload"]["action"] == "revoked"
    assert (await client.get(f"{base}/participants/join-requests")).json() == []


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("member-add-mode", "membersCanAddNewMember"),
        ("membership-approval", "newMembersApprovalRequired"),
        ("member-share-history-mode", "membersCanShareHistory"),
    ],
)
async def test_the_new_group_security_settings(client: httpx2.AsyncClient, sb: Sandbox, path: str, key: str) -> None:
    group = admin_group(sb)
    url = f"/api/default/groups/{group.replace('@', '%40')}/settings/security/{path}"
    assert (await client.get(url)).json() == {key: False}
    put = await client.put(url, json={key: True})
    assert put.status_code == 200 and put.json() is True
    assert (await client.get(url)).json() == {key: True}
    assert (await client.put(url, json={})).status_code == 400  # the setting is required


@pytest.mark.parametrize("profile", ["plus-2026.7", "core-2024.10"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/sessions/default/timelock"),
        ("GET", "/api/sessions/default/capping"),
        ("POST", "/api/sendSticker"),
        ("GET", "/api/default/groups/x%40g.us/participants/join-requests"),
        ("GET", "/api/default/groups/x%40g.us/settings/security/member-share-history-mode"),
    ],
)
async def test_older_waha_has_none_of_it(profile: str, method: str, path: str) -> None:
    sb = Sandbox(sessions=1, profile=profile, time_factor=0.01)
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as client:
        answer = await client.request(method, path, json={} if method == "POST" else None)
        assert answer.status_code == 404 and answer.json()["message"] == f"Cannot {method} {path.split('?')[0]}"
        exists = await client.get("/api/contacts/check-exists", params={"session": "default", "phone": "4915112345677"})
        assert "pn" not in exists.json()  # 2026.8.1 added it


@pytest.mark.parametrize(("profile", "resolved"), [("current", True), ("plus-2026.7", False)])
async def test_an_unknown_lid_is_resolved_by_waha_from_2026_8_1(profile: str, resolved: bool) -> None:
    sb = Sandbox(sessions=1, profile=profile, time_factor=0.01)
    world = sb.sessions["default"].world
    assert world is not None
    owner = next(p for g in world.outside.values() for p in g.participants if p.id.endswith("@lid"))
    assert owner.pn and world.pn_of(owner.id) is None  # not in this account's records
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as client:
        found = (await client.get(f"/api/default/lids/{owner.id.replace('@', '%40')}")).json()
    # Unknown before 2026.8.1: `pn: null` (WAHA's src/api/lids.controller.ts: `result.pn = result.pn || null`).
    assert found == {"lid": owner.id, "pn": owner.pn if resolved else None}
