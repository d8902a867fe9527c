"""The HTTP core: URL encoding, where the session goes, error mapping, empty bodies, retries."""

from __future__ import annotations

import socket

import httpx2
import pytest

from waha_mcp.client import Binary, WAHAClient, WAHAError
from waha_mcp.sandbox import Sandbox, sandbox_transport


async def test_session_lands_in_path_and_segments_are_percent_encoded(waha: WAHAClient, sandbox: Sandbox) -> None:
    await waha.get_session("default")
    await waha.get_screenshot("default")
    paths = [(r.method, r.path, r.query) for r in sandbox.requests]
    assert paths[0][1] == "/api/sessions/default"
    assert paths[1][1] == "/api/screenshot" and paths[1][2]["session"] == ["default"]
    assert waha.path("/api/{s}/chats/{c}", s="a b", c="123@c.us") == "/api/a%20b/chats/123%40c.us"


async def test_api_key_is_sent_as_x_api_key() -> None:
    sandbox = Sandbox(api_key="k-123")
    client = WAHAClient("http://sandbox", "k-123", transport=sandbox_transport(sandbox))
    assert (await client.get_session("default"))["name"] == "default"
    assert sandbox.requests[-1].headers["x-api-key"] == "k-123"
    await client.aclose()


async def test_wrong_key_is_a_clear_error_without_the_key() -> None:
    sandbox = Sandbox(api_key="right-key")
    client = WAHAClient("http://sandbox", "wrong-key-xyz", transport=sandbox_transport(sandbox))
    with pytest.raises(WAHAError) as info:
        await client.list_sessions()
    assert info.value.status == 401
    assert "WAHA_API_KEY" in str(info.value)
    assert "wrong-key-xyz" not in str(info.value) and "right-key" not in str(info.value)


async def test_nestjs_error_shape_is_mapped(waha: WAHAClient) -> None:
    with pytest.raises(WAHAError) as info:
        await waha.get_session("missing")
    err = info.value
    assert (err.status, err.method, err.path, err.session) == (404, "GET", "/api/sessions/missing", "missing")
    assert err.message == "Session not found"


async def test_status_mismatch_shape_is_mapped(waha: WAHAClient) -> None:
    with pytest.raises(WAHAError) as info:
        await waha.get_qr("default")  # WORKING sessions have no QR
    assert info.value.status == 422
    assert info.value.session_status == "WORKING"
    assert info.value.expected_statuses == ["SCAN_QR_CODE"]


async def test_empty_2xx_body_is_success(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_get", kind="empty")
    assert await waha.get_session("default") is None


async def test_malformed_2xx_body_is_success_with_a_note(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_get", kind="malformed")
    answer = await waha.get_session("default")
    assert answer["ok"] is True and "not JSON" in answer["note"]


async def test_binary_bodies_come_back_as_binary(waha: WAHAClient) -> None:
    shot = await waha.get_screenshot("default")
    assert isinstance(shot, Binary) and shot.mimetype == "image/jpeg" and shot.data[:2] == b"\xff\xd8"


async def test_reads_are_retried_on_503_then_succeed(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_get", kind="status", status=503, times=2)
    assert (await waha.get_session("default"))["name"] == "default"
    assert len([r for r in sandbox.requests if r.path == "/api/sessions/default"]) == 3


async def test_reads_are_retried_a_bounded_number_of_times(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_get", kind="status", status=502)
    with pytest.raises(WAHAError) as info:
        await waha.get_session("default")
    assert info.value.status == 502
    assert len(sandbox.requests) == 3


async def test_writes_are_never_retried(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_restart", kind="status", status=503)
    with pytest.raises(WAHAError):
        await waha.restart_session("default")
    assert len(sandbox.requests) == 1


async def test_dropped_connection_on_a_write_is_not_retried(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_restart", kind="drop")
    with pytest.raises(WAHAError) as info:
        await waha.restart_session("default")
    assert info.value.kind == "connect" and "closed the connection" in info.value.message
    assert len(sandbox.requests) == 1


async def test_timeout_is_a_clear_error() -> None:
    sandbox = Sandbox()
    sandbox.faults.add("SessionsController_get", kind="latency", delay=3)
    client = WAHAClient("http://sandbox", timeout=1, transport=sandbox_transport(sandbox))
    with pytest.raises(WAHAError) as info:
        await client.get_session("default")
    assert info.value.kind == "timeout" and "1 s" in info.value.message
    await client.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_a_clear_error() -> None:
    client = WAHAClient(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(WAHAError) as info:
        await client.list_sessions()
    assert info.value.kind == "connect"
    assert "cannot connect to WAHA" in info.value.message and "WAHA_BASE_URL" in info.value.message
    await client.aclose()


async def test_one_pooled_http_client_is_reused(waha: WAHAClient) -> None:
    await waha.get_session("default")
    first = waha.http
    await waha.get_session("business")
    assert waha.http is first
    assert isinstance(first, httpx2.AsyncClient)
