"""Api keys, apps, server environment and stop, and new-message-id, as the sandbox answers them."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.routes.server import FAKE_API_KEY, FAKE_SECRETS


async def test_keys_create_list_update_delete(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    made = await client.post("/api/keys", json={"isAdmin": False, "session": "default", "isActive": True})
    assert made.status_code == 201
    key = made.json()
    assert key["id"].startswith("key_id_") and key["key"].startswith("key_") and len(key["key"]) == 36
    assert (key["isAdmin"], key["session"], key["isActive"]) == (False, "default", True)
    admin = (await client.post("/api/keys", json={"isAdmin": True, "session": None, "isActive": True})).json()
    assert admin["key"] != key["key"]
    listed = (await client.get("/api/keys")).json()
    assert [k["id"] for k in listed] == [key["id"], admin["id"]] and listed[0]["key"] == key["key"]
    body = {"isAdmin": False, "session": "business", "isActive": False, "actions": {"read": True}}
    updated = await client.put(f"/api/keys/{key['id']}", json=body)
    assert updated.status_code == 200
    assert updated.json() | {} == key | {"session": "business", "isActive": False, "actions": {"read": True}}
    deleted = await client.delete(f"/api/keys/{key['id']}")
    assert deleted.status_code == 200 and deleted.content == b""
    assert [k["id"] for k in (await client.get("/api/keys")).json()] == [admin["id"]]
    gone = await client.delete(f"/api/keys/{key['id']}")
    assert gone.status_code == 404 and gone.json()["message"] == f"API key '{key['id']}' not found"
    # A key that is not an admin key belongs to a session.
    lone = await client.post("/api/keys", json={"isAdmin": False, "session": None, "isActive": True})
    assert lone.status_code == 400 and lone.json()["message"] == ["session must be set for a non-admin key"]


async def test_scoped_keys_are_created_once_per_session(client: httpx2.AsyncClient) -> None:
    media = (await client.post("/api/keys/media", json={"session": "default"})).json()
    again = (await client.post("/api/keys/media", json={"session": "default"})).json()
    assert media == again and not any(media["actions"].values())
    control = (await client.post("/api/keys/control", json={"session": "default"})).json()
    assert control["key"] != media["key"] and control["actions"]["control"] and not control["actions"]["send"]
    other = (await client.post("/api/keys/media", json={"session": "business"})).json()
    assert other["id"] != media["id"] and other["session"] == "business"
    missing = await client.post("/api/keys/control", json={"session": "nobody"})
    assert missing.status_code == 404 and missing.json()["message"] == "Session not found"
    assert (await client.post("/api/keys/media", json={})).status_code == 400


async def test_apps_crud(client: httpx2.AsyncClient) -> None:
    app = {"id": "calls1", "session": "default", "app": "calls", "config": {"dm": {"reject": True}}}
    made = await client.post("/api/apps", json=app)
    assert made.status_code == 201 and made.json() == app | {"enabled": True}
    assert (await client.post("/api/apps", json=app)).status_code == 422
    assert (await client.get("/api/apps", params={"session": "default"})).json() == [app | {"enabled": True}]
    assert (await client.get("/api/apps", params={"session": "business"})).json() == []
    changed = app | {"enabled": False, "config": {"dm": {"reject": False}}}
    assert (await client.put("/api/apps/calls1", json=changed)).json() == changed
    assert (await client.get("/api/apps/calls1")).json() == changed
    assert (await client.delete("/api/apps/calls1")).status_code == 200
    lost = await client.get("/api/apps/calls1")
    assert lost.status_code == 404 and lost.json()["message"] == "App 'calls1' not found"
    orphan = await client.post("/api/apps", json=app | {"session": "nobody"})
    assert orphan.status_code == 404


async def test_environment_shows_the_key_in_clear_as_waha_does(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    env = (await client.get("/api/server/environment")).json()
    assert env["WAHA_API_KEY"] == FAKE_API_KEY and FAKE_API_KEY in env["WHATSAPP_HOOK_URL"]
    assert all(env[name] == value for name, value in FAKE_SECRETS.items())
    assert "TZ" not in env and "TZ" in (await client.get("/api/server/environment", params={"all": True})).json()
    keyed = Sandbox(api_key="the-real-key-123")
    async with httpx2.AsyncClient(transport=_transport(keyed), base_url="http://sandbox") as other:
        got = (await other.get("/api/server/environment", headers={"X-Api-Key": "the-real-key-123"})).json()
    assert got["WAHA_API_KEY"] == "the-real-key-123"


def _transport(sb: Sandbox) -> httpx2.AsyncBaseTransport:
    from waha_mcp.sandbox import sandbox_transport

    return sandbox_transport(sb)


async def test_stop_is_recorded_and_the_server_comes_back(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.started_ms -= 60_000
    stopped = await client.post("/api/server/stop", json={"force": True})
    assert stopped.status_code == 201 and stopped.json() == {"stopping": True}
    assert [stop["force"] for stop in sb.model.stops] == [True]
    status = (await client.get("/api/server/status")).json()
    assert status["uptime"] < 60_000  # a restarted server
    await client.post("/api/server/stop", json={})
    assert [stop["force"] for stop in sb.model.stops] == [True, False]
    sb.reset()
    assert sb.model.stops == [] and sb.model.keys == {}


async def test_new_message_id(client: httpx2.AsyncClient) -> None:
    first = (await client.get("/api/default/new-message-id")).json()["id"]
    second = (await client.get("/api/default/new-message-id")).json()["id"]
    assert first != second and first.startswith("3EB0") and len(first) == 22
    await client.post("/api/sessions/default/stop")
    assert (await client.get("/api/default/new-message-id")).status_code == 404
