"""Error bodies and statuses exactly as BEHAVIOUR.md describes real WAHA."""

from __future__ import annotations

import time

import httpx2
import pytest

from waha_mcp.sandbox import Sandbox, sandbox_transport

NOT_STARTED = (
    "We didn't find a session with name '{0}'. Please start it first by using POST /api/sessions/{0}/start request"
)


async def test_unknown_session_on_session_routes(client: httpx2.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/sessions/ghost"),
        ("POST", "/api/sessions/ghost/start"),
        ("DELETE", "/api/sessions/ghost"),
        ("POST", "/api/sessions/ghost/logout"),
    ]:
        r = await client.request(method, path)
        assert r.status_code == 404, path
        assert r.json() == {"statusCode": 404, "message": "Session not found", "error": "Not Found"}


@pytest.mark.parametrize("name", ["ghost", "default"])
async def test_stopped_or_unknown_session_on_working_routes(client: httpx2.AsyncClient, name: str) -> None:
    if name == "default":
        await client.post("/api/sessions/default/stop")
    calls = [
        ("GET", f"/api/sessions/{name}/me", None, None),
        ("POST", "/api/sendText", None, {"session": name, "chatId": "1@c.us", "text": "hi"}),
        ("GET", f"/api/{name}/chats", None, None),
        ("GET", f"/api/{name}/auth/qr", {"format": "raw"}, None),
        ("GET", "/api/contacts/all", {"session": name}, None),
    ]
    for method, path, params, body in calls:
        r = await client.request(method, path, params=params, json=body)
        assert r.status_code == 404, path
        assert r.json() == {"statusCode": 404, "message": NOT_STARTED.format(name), "error": "Not Found"}


@pytest.mark.parametrize("status", ["STARTING", "FAILED", "SCAN_QR_CODE"])
async def test_status_mismatch_when_working_is_needed(client: httpx2.AsyncClient, sb: Sandbox, status: str) -> None:
    sb.set_status("default", status)
    r = await client.get("/api/default/chats")
    assert r.status_code == 422
    assert r.json() == {
        "error": "Session status is not as expected. Try again later or restart the session",
        "session": "default",
        "status": status,
        "expected": ["WORKING"],
    }


async def test_status_mismatch_waits_status_wait_seconds() -> None:
    sb = Sandbox(status_wait=0.3)
    sb.set_status("default", "STARTING")
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as c:
        started = time.monotonic()
        r = await c.get("/api/default/chats")
        assert r.status_code == 422
        assert time.monotonic() - started >= 0.3


async def test_qr_when_not_waiting_for_scan(client: httpx2.AsyncClient) -> None:
    r = await client.get("/api/default/auth/qr", params={"format": "image"})
    assert r.status_code == 422
    body = r.json()
    assert (body["status"], body["expected"]) == ("WORKING", ["SCAN_QR_CODE"])
    assert "statusCode" not in body


async def test_start_started_and_create_existing(client: httpx2.AsyncClient) -> None:
    r = await client.post("/api/sessions/default/start")
    assert r.status_code == 422
    assert r.json() == {
        "statusCode": 422,
        "message": "Session 'default' is already started.",
        "error": "Unprocessable Entity",
    }
    r = await client.post("/api/sessions", json={"name": "default"})
    assert r.status_code == 422
    assert r.json()["message"] == "Session 'default' already exists. Use PUT to update it."


async def test_body_failing_required_fields_is_400(client: httpx2.AsyncClient) -> None:
    r = await client.post("/api/sendText", json={"session": "default", "text": "hi"})
    assert r.status_code == 400
    assert r.json() == {"statusCode": 400, "message": ["chatId should not be empty"], "error": "Bad Request"}
    r = await client.post("/api/sendText", json={"session": "default", "chatId": 5, "text": "hi"})
    assert r.status_code == 400 and r.json()["message"] == ["chatId must be a string"]
    r = await client.post("/api/sendText", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "Bad Request"


async def test_body_not_utf8_is_read_as_express_reads_it(client: httpx2.AsyncClient) -> None:
    # Express's body parser decodes the body as UTF-8 with U+FFFD for bytes that are not (raw-body, iconv-lite);
    # JSON.parse then reads it. The sandbox answered 500 (an AttributeError on UnicodeDecodeError).
    body = b'{"session": "default", "chatId": "12025550101@c.us", "text": "caf\xe9"}'
    r = await client.post("/api/sendText", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["body"] == "caf\ufffd"
    broken = b'{"session": "default", "chatId": \xff'
    r = await client.post("/api/sendText", content=broken, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "Bad Request"


async def test_unknown_route_and_not_emulated_route(client: httpx2.AsyncClient) -> None:
    r = await client.get("/api/nothing/here/at/all")
    assert r.status_code == 404
    assert r.json() == {"statusCode": 404, "message": "Cannot GET /api/nothing/here/at/all", "error": "Not Found"}
    r = await client.get("/api/server/debug/cpu")
    assert r.status_code == 501
    assert "ServerDebugController_cpuProfile" in r.json()["message"] and r.json()["statusCode"] == 501


async def test_api_key_required_except_ping() -> None:
    sb = Sandbox(api_key="s3cret")
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as c:
        assert (await c.get("/ping")).json() == {"message": "pong"}
        for headers in ({}, {"X-Api-Key": "wrong"}):
            r = await c.get("/api/sessions", headers=headers)
            assert r.status_code == 401
            assert r.json() == {"statusCode": 401, "message": "Unauthorized"}
            assert "s3cret" not in r.text
        assert (await c.get("/api/sessions", headers={"X-Api-Key": "s3cret"})).status_code == 200
        assert (await c.get("/__sandbox/state")).status_code == 401  # control endpoints too
        assert (await c.get("/api/server/environment")).status_code == 401
        # Like WAHA, the environment shows its key in clear, but only to a caller that has it.
        env = (await c.get("/api/server/environment", headers={"X-Api-Key": "s3cret"})).json()
        assert env["WAHA_API_KEY"] == "s3cret"
