"""Session lifecycle: real transitions, list filtering, config replacement."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox


async def status_of(client: httpx2.AsyncClient, name: str) -> str:
    r = await client.get(f"/api/sessions/{name}")
    assert r.status_code == 200
    return r.json()["status"]


async def test_seeded_sessions_are_paired_and_say_they_are_a_sandbox(client: httpx2.AsyncClient) -> None:
    r = await client.get("/api/sessions")
    assert r.status_code == 200
    sessions = r.json()
    assert [s["name"] for s in sessions] == ["default", "business"]
    for s in sessions:
        assert s["status"] == "WORKING"
        assert s["me"]["id"].endswith("@c.us")
        assert "not WhatsApp" in s["me"]["pushName"]
        assert set(s) >= {"name", "status", "presence", "timestamps", "config", "me"}
    assert sessions[0]["me"]["id"] != sessions[1]["me"]["id"]


async def test_create_goes_starting_then_scan_then_working(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.post("/api/sessions", json={"name": "new-one", "config": {"metadata": {"k": "v"}}})
    assert r.status_code == 201
    assert r.json() == {"name": "new-one", "status": "STARTING", "config": {"metadata": {"k": "v"}}}
    assert await status_of(client, "new-one") == "SCAN_QR_CODE"
    info = (await client.get("/api/sessions/new-one")).json()
    assert info["me"] is None
    me = await client.get("/api/sessions/new-one/me")
    assert me.status_code == 200 and me.content == b""  # not logged in: empty body

    sb.scan("new-one")
    assert await status_of(client, "new-one") == "WORKING"
    me = await client.get("/api/sessions/new-one/me")
    assert me.json()["id"].endswith("@c.us") and me.json()["pushName"] == "Sandbox Bot (not WhatsApp)"


async def test_create_without_name_generates_one_and_start_false_stays_stopped(client: httpx2.AsyncClient) -> None:
    r = await client.post("/api/sessions", json={"start": False})
    assert r.status_code == 201
    name = r.json()["name"]
    assert name.startswith("session_") and r.json()["status"] == "STOPPED"
    listed = [s["name"] for s in (await client.get("/api/sessions")).json()]
    assert name not in listed  # only running sessions unless all=true
    listed_all = [s["name"] for s in (await client.get("/api/sessions", params={"all": "true"})).json()]
    assert name in listed_all


async def test_stop_start_keeps_pairing_logout_needs_new_qr(client: httpx2.AsyncClient) -> None:
    r = await client.post("/api/sessions/default/stop")
    assert (r.status_code, r.json()["status"]) == (201, "STOPPED")
    assert await status_of(client, "default") == "STOPPED"

    r = await client.post("/api/sessions/default/start")
    assert (r.status_code, r.json()["status"]) == (201, "STARTING")
    assert await status_of(client, "default") == "WORKING"  # still paired: no QR needed

    r = await client.post("/api/sessions/default/logout")
    assert r.status_code == 201
    assert await status_of(client, "default") == "SCAN_QR_CODE"
    assert (await client.get("/api/sessions/default/me")).content == b""


async def test_restart_and_update_replace_config_and_restart(client: httpx2.AsyncClient) -> None:
    r = await client.put("/api/sessions/business", json={"config": {"debug": True}})
    assert r.status_code == 200
    assert r.json() == {"name": "business", "status": "STARTING", "config": {"debug": True}}
    info = (await client.get("/api/sessions/business")).json()
    # the whole config was replaced: the seeded webhooks/noweb settings are gone
    assert info["config"] == {"debug": True} and info["status"] == "WORKING"

    r = await client.post("/api/sessions/business/restart")
    assert (r.status_code, r.json()["status"]) == (201, "STARTING")


async def test_delete_removes_with_empty_body(client: httpx2.AsyncClient) -> None:
    r = await client.delete("/api/sessions/business")
    assert (r.status_code, r.content) == (200, b"")
    assert (await client.get("/api/sessions/business")).status_code == 404
    # stopping a removed session succeeds with an empty body, as WAHA does
    r = await client.post("/api/sessions/business/stop")
    assert (r.status_code, r.content) == (201, b"")


async def test_session_names_are_validated(client: httpx2.AsyncClient) -> None:
    r = await client.post("/api/sessions", json={"name": "bad name!"})
    assert r.status_code == 400
    assert r.json()["error"] == "Bad Request"


async def test_forced_status_is_held_and_reset_restores(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.set_status("default", "FAILED")
    assert await status_of(client, "default") == "FAILED"
    r = await client.post("/__sandbox/reset")
    assert r.status_code == 201
    assert await status_of(client, "default") == "WORKING"
