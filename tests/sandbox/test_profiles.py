"""Sandbox profiles: `core-2024.10` plays WAHA Core 2024.10.8 as observed on a real server (BEHAVIOUR.md)."""

from __future__ import annotations

import time

import anyio
import httpx2
import pytest

from waha_mcp.openapi.contract import check_response
from waha_mcp.openapi.spec import DOCUMENT_2024_10, load_spec
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.profiles import CORE_ONLY_DEFAULT, PROFILES, get_profile

FACTOR = 0.02  # 5 s → 0.1 s, 3 s → 0.06 s


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(sessions=2, profile="core-2024.10", time_factor=FACTOR)


def test_profiles_are_named_and_an_unknown_one_is_refused() -> None:
    assert set(PROFILES) == {"current", "core-2024.10"}
    assert get_profile(None).name == "current"
    with pytest.raises(ValueError, match=r"one of current, core-2024\.10"):
        get_profile("2019")


async def test_core_has_one_seeded_session_and_says_its_version(client: httpx2.AsyncClient) -> None:
    sessions = (await client.get("/api/sessions", params={"all": "true"})).json()
    assert [s["name"] for s in sessions] == ["default"]
    # The seeded config validates against 2024.10.8's own document (noweb.markOnline is required there).
    assert sessions[0]["config"]["noweb"]["markOnline"] is True
    version = (await client.get("/api/server/version")).json()
    assert (version["version"], version["tier"]) == ("2024.10.8", "CORE")


async def test_a_route_2024_10_lacks_answers_like_nestjs(client: httpx2.AsyncClient) -> None:
    answer = await client.get("/api/default/chats/overview", params={"limit": 5})
    assert answer.status_code == 404
    assert answer.json() == {
        "statusCode": 404,
        "message": "Cannot GET /api/default/chats/overview?limit=5",
        "error": "Not Found",
    }
    # Moved routes count as missing too: 2024.10 follows a channel by body, not by path.
    moved = await client.post("/api/default/channels/123%40newsletter/follow")
    assert moved.status_code == 404 and moved.json()["message"].startswith("Cannot POST /api/default/channels/")
    assert (await client.get("/api/default/chats", params={"limit": 2})).status_code == 200


async def test_core_refuses_every_session_but_default(client: httpx2.AsyncClient) -> None:
    created = await client.post("/api/sessions", json={"name": "work", "start": False})
    assert created.status_code == 422 and created.json()["message"] == CORE_ONLY_DEFAULT
    # GET asks Core's manager, which knows no other name: its 404, not onlyDefault's 422 (issue 21).
    assert (await client.get("/api/sessions/work")).json() == {"statusCode": 404, "message": "Session not found",
                                                               "error": "Not Found"}  # fmt: skip
    assert (await client.post("/api/sessions/work/start")).status_code == 422


async def test_core_checks_no_api_key_but_current_does() -> None:
    for profile, expected in (("core-2024.10", 200), ("current", 401)):
        sb = Sandbox(api_key="the-key-1", profile=profile)
        from waha_mcp.sandbox import sandbox_transport

        async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as c:
            assert (await c.get("/api/sessions", headers={"X-Api-Key": "wrong"})).status_code == expected
            assert (await c.get("/api/sessions")).status_code == expected


async def test_create_after_delete_answers_an_empty_201_and_creates_nothing(client: httpx2.AsyncClient) -> None:
    assert (await client.delete("/api/sessions/default")).status_code == 200
    again = await client.delete("/api/sessions/default")  # idempotent
    assert again.status_code == 200 and again.content == b""
    created = await client.post("/api/sessions", json={"name": "default", "start": False})
    assert created.status_code == 201 and created.content == b""
    assert (await client.get("/api/sessions/default")).status_code == 404
    # With start it is made (and starts).
    started = await client.post("/api/sessions", json={"name": "default", "start": True})
    assert started.status_code == 201 and started.json()["status"] == "STARTING"


async def test_a_wrong_status_waits_5_s_before_the_422(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.set_status("default", "STARTING")  # forced: it never ends, as offline
    began = time.monotonic()
    answer = await client.get("/api/default/auth/qr", params={"format": "raw"})
    waited = time.monotonic() - began
    assert answer.status_code == 422 and answer.json()["status"] == "STARTING"
    assert 5 * FACTOR <= waited < 5 * FACTOR + 1
    assert (await client.get("/api/sessions/default")).json()["status"] == "STARTING"


async def test_starting_lasts_3_s_then_asks_for_the_qr() -> None:
    # Its own, slower clock: 3 s → 0.6 s, room for a loaded machine between two requests.
    slow = Sandbox(sessions=1, profile="core-2024.10", time_factor=0.2)
    async with httpx2.AsyncClient(transport=sandbox_transport(slow), base_url="http://sandbox") as client:
        assert (await client.post("/api/sessions/default/logout")).json()["status"] == "STARTING"
        began = time.monotonic()  # STARTING began before the answer came, so it is over 0.6 s after this
        assert (await client.get("/api/sessions/default")).json()["status"] == "STARTING"
        await anyio.sleep(3 * 0.2 - (time.monotonic() - began) + 0.01)
        assert (await client.get("/api/sessions/default")).json()["status"] == "SCAN_QR_CODE"


async def test_stop_and_restart_take_3_s(client: httpx2.AsyncClient) -> None:
    for action in ("restart", "stop"):
        began = time.monotonic()
        assert (await client.post(f"/api/sessions/default/{action}")).status_code == 201
        assert time.monotonic() - began >= 3 * FACTOR


async def test_the_pairing_code_never_comes_while_starting(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.set_status("default", "STARTING")
    with anyio.move_on_after(20 * FACTOR) as scope:
        await client.post("/api/default/auth/request-code", json={"phoneNumber": "12025550100"})
    assert scope.cancelled_caught


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("STARTING", "The session is starting, please try again after few seconds"),
        ("WORKING", "Can not get screenshot for non chrome based engine."),
        ("FAILED", "Unknown status - FAILED"),
    ],
)
async def test_the_noweb_screenshot_is_the_qr_or_a_422(
    client: httpx2.AsyncClient, sb: Sandbox, status: str, message: str
) -> None:
    # NOWEB's getScreenshot (session.noweb.core.ts): no page, only the QR while SCAN_QR_CODE.
    sb.set_status("default", status)
    answer = await client.get("/api/screenshot", params={"session": "default"})
    assert answer.status_code == 422 and answer.json()["message"] == message
    sb.set_status("default", "SCAN_QR_CODE")
    qr = await client.get("/api/screenshot", params={"session": "default"})
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png" and qr.content[:4] == b"\x89PNG"


def test_core_answers_are_checked_against_2024_10_8() -> None:
    """The 2024 document requires markOnline in a noweb config: without it the check fails."""
    op = load_spec(DOCUMENT_2024_10).by_id["SessionsController_get"]
    body = b'{"name":"default","status":"WORKING","config":{"noweb":{"store":{"enabled":true,"fullSync":false}}}}'
    problems = check_response(op, 200, "application/json", body, DOCUMENT_2024_10)
    assert problems and "markOnline" in problems[0]


async def test_core_lifecycle_calls_answer_the_session_info_with_me_and_engine(
    client: httpx2.AsyncClient, sb: Sandbox
) -> None:
    sb.set_status("default", "WORKING")
    restarted = (await client.post("/api/sessions/default/restart")).json()
    assert restarted["engine"] == {"engine": "NOWEB"} and restarted["name"] == "default" and "timestamps" in restarted
    sb.set_status("default", "WORKING")
    assert (await client.get("/api/sessions/default")).json()["me"]["id"] == sb.sessions["default"].me["id"]
    stopped = (await client.post("/api/sessions/default/stop")).json()
    assert stopped["status"] == "STOPPED" and stopped["engine"] == {} and "config" in stopped
    current = Sandbox(sessions=1)
    async with httpx2.AsyncClient(transport=sandbox_transport(current), base_url="http://sandbox") as http:
        assert "engine" not in (await http.post("/api/sessions/default/stop")).json()  # a SessionDTO there


async def test_core_create_without_start_does_not_start() -> None:
    for profile, expected in (("core-2024.10", "STOPPED"), ("current", "STARTING")):
        empty = Sandbox(sessions=0, profile=profile, time_factor=FACTOR)
        async with httpx2.AsyncClient(transport=sandbox_transport(empty), base_url="http://sandbox") as http:
            created = await http.post("/api/sessions", json={"name": "default"})
            assert created.status_code == 201 and created.json()["status"] == expected


async def test_noweb_refuses_a_pairing_method(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.set_status("default", "SCAN_QR_CODE")
    body = {"phoneNumber": "12025550100", "method": "sms"}
    answer = await client.post("/api/default/auth/request-code", json=body)
    assert answer.status_code == 422
    assert answer.json()["message"] == "NOWEB engine doesn't support any 'method', remove it and try again"
