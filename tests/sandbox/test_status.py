"""🟢 Status routes: stories as NOWEB posts them (messages to status@broadcast), batching by id, revokes."""

from __future__ import annotations

import httpx2

from waha_mcp.openapi.contract import check_webhook
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
TEXT = {"text": "Hello", "backgroundColor": "#38b42f", "font": 0}


def world(sb: Sandbox) -> World:
    w = sb.sessions["default"].world
    assert w is not None
    return w


def logged(sb: Sandbox) -> list[tuple[str, object]]:
    found = sb.events()
    for record in found:
        assert check_webhook(record["event"], record) == []
    return [(e["event"], e["payload"]) for e in found]


async def test_text_status_goes_to_every_contact_and_the_poster(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.post("/api/default/status/text", json=TEXT)
    assert r.status_code == 201
    answer = r.json()
    assert answer["key"]["remoteJid"] == "status@broadcast" and answer["key"]["fromMe"] is True
    assert answer["message"]["extendedTextMessage"]["text"] == "Hello" and answer["status"] == "PENDING"
    raw = answer["key"]["id"]
    status = world(sb).statuses[raw]
    assert status.kind == "text" and status.message.id == f"true_status@broadcast_{raw}"
    assert status.audience == {*(c for c in world(sb).contacts if c.endswith("@c.us")), world(sb).me_id}
    assert "status@broadcast" not in world(sb).chats  # stories are not a chat in the overview
    events = logged(sb)
    assert [name for name, _ in events] == ["message.any"]
    payload = events[0][1]
    assert isinstance(payload, dict) and payload["id"] == status.message.id and payload["from"] == "status@broadcast"


async def test_a_pre_generated_id_batches_one_status(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.get("/api/default/status/new-message-id")
    assert r.status_code == 200
    raw = r.json()["id"]
    assert raw.startswith("3EB0") and len(raw) == 20
    a, b, c = [cid for cid in world(sb).contacts if cid.endswith("@c.us")][:3]
    one = await client.post("/api/default/status/text", json={**TEXT, "id": raw, "contacts": [a, b]})
    assert one.status_code == 201 and one.json()["key"]["id"] == raw
    assert world(sb).statuses[raw].audience == {a, b}  # an id of its own: WAHA does not add the poster
    two = await client.post("/api/default/status/text", json={**TEXT, "id": raw, "contacts": [c.split("@")[0]]})
    assert two.json()["key"]["id"] == raw
    assert world(sb).statuses[raw].audience == {a, b, c} and len(world(sb).statuses) == 1
    assert [name for name, _ in logged(sb)] == ["message.any"]  # the second batch is no new message


async def test_media_statuses(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    image = {"file": {"mimetype": "image/png", "filename": "a.png", "data": PNG_B64}, "caption": "Sunset"}
    r = await client.post("/api/default/status/image", json=image)
    assert r.status_code == 201 and r.json()["message"]["imageMessage"]["caption"] == "Sunset"
    voice = {"file": {"mimetype": "audio/mpeg", "url": "https://example.com/a.mp3"}, "convert": True}
    r = await client.post("/api/default/status/voice", json={**voice, "backgroundColor": "#000000"})
    audio = r.json()["message"]["audioMessage"]
    assert audio["mimetype"] == "audio/ogg; codecs=opus" and audio["ptt"] is True
    video = {"file": {"mimetype": "video/quicktime", "filename": "a.mov", "url": "https://example.com/a.mov"}}
    r = await client.post("/api/default/status/video", json={**video, "convert": True})
    assert r.json()["message"]["videoMessage"]["mimetype"] == "video/mp4"
    assert sorted(s.kind for s in world(sb).statuses.values()) == ["image", "video", "voice"]
    bad = await client.post("/api/default/status/image", json={"file": {"mimetype": "image/png", "data": "%%"}})
    assert bad.status_code == 400 and bad.json()["message"] == ["file.data must be base64 encoded"]


async def test_delete_revokes_for_some_or_for_everyone(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    raw = (await client.post("/api/default/status/text", json=TEXT)).json()["key"]["id"]
    someone = next(c for c in world(sb).contacts if c.endswith("@c.us"))
    r = await client.post("/api/default/status/delete", json={"id": raw, "contacts": [someone]})
    assert r.status_code == 201
    revoke = r.json()["message"]["protocolMessage"]
    assert revoke == {"key": {"remoteJid": "status@broadcast", "fromMe": True, "id": raw}, "type": "REVOKE"}
    assert someone not in world(sb).statuses[raw].audience
    r = await client.post("/api/default/status/delete", json={"id": f"true_status@broadcast_{raw}"})
    assert r.status_code == 201 and raw not in world(sb).statuses
    events = logged(sb)
    assert [name for name, _ in events] == ["message.any", "message.revoked", "message.revoked"]
    assert events[-1][1]["revokedMessageId"] == raw  # type: ignore[index]
    # NOWEB revokes without looking the id up: an unknown one is answered alike, and nothing happened.
    r = await client.post("/api/default/status/delete", json={"id": "3EB0000000000000DEAD"})
    assert r.status_code == 201 and r.json()["message"]["protocolMessage"]["key"]["id"] == "3EB0000000000000DEAD"
    assert len(logged(sb)) == 3
    r = await client.post("/api/default/status/delete", json={})
    assert r.status_code == 500 and r.json()["exception"]["name"] == "TypeError"


async def test_status_needs_a_working_session(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.set_status("default", "STOPPED")
    r = await client.post("/api/default/status/text", json=TEXT)
    assert r.status_code == 404 and "Please start it first" in r.json()["message"]
    r = await client.get("/api/default/status/new-message-id")
    assert r.status_code == 404
