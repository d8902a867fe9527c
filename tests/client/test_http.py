"""The HTTP core: requests built from the document, URL encoding, where the session goes, error types,
unusable bodies, retries."""

from __future__ import annotations

import contextlib
import json
import re
import socket
from typing import Any

import httpx2
import pytest

from waha_mcp.client import (
    BadResponse,
    Binary,
    NotFound,
    Redirected,
    SessionNotReady,
    TooLarge,
    Unauthorized,
    Unavailable,
    WAHAClient,
    WAHAError,
)
from waha_mcp.sandbox import Sandbox, sandbox_transport


async def test_session_lands_in_path_and_segments_are_percent_encoded(waha: WAHAClient, sandbox: Sandbox) -> None:
    await waha.call("SessionsController_get", "default")
    await waha.call("ScreenshotController_screenshot", "default", accept="image/jpeg")
    paths = [(r.method, r.path, r.query) for r in sandbox.requests]
    assert paths[0][1] == "/api/sessions/default"
    assert paths[1][1] == "/api/screenshot" and paths[1][2]["session"] == ["default"]


async def test_every_path_value_is_percent_encoded_as_one_segment(waha: WAHAClient, sandbox: Sandbox) -> None:
    with contextlib.suppress(WAHAError):  # the sandbox knows no such message; the path is the point
        await waha.call("ChatsController_deleteMessage", "a b", path={"chatId": "1@c.us", "messageId": "x/../y"})
    assert sandbox.requests[-1].path == "/api/a%20b/chats/1%40c.us/messages/x%2F..%2Fy"


async def test_api_key_is_sent_as_x_api_key() -> None:
    sandbox = Sandbox(api_key="k-123")
    client = WAHAClient("http://sandbox", "k-123", transport=sandbox_transport(sandbox))
    assert (await client.call("SessionsController_get", "default"))["name"] == "default"
    assert sandbox.requests[-1].headers["x-api-key"] == "k-123"
    await client.aclose()


async def test_wrong_key_is_a_clear_error_without_the_key() -> None:
    sandbox = Sandbox(api_key="right-key")
    client = WAHAClient("http://sandbox", "wrong-key-xyz", transport=sandbox_transport(sandbox))
    with pytest.raises(Unauthorized) as info:
        await client.list_sessions()
    assert info.value.status == 401
    assert "WAHA_API_KEY" in str(info.value)
    assert "wrong-key-xyz" not in str(info.value) and "right-key" not in str(info.value)


async def test_nestjs_error_shape_is_mapped(waha: WAHAClient) -> None:
    with pytest.raises(NotFound) as info:
        await waha.call("SessionsController_get", "missing")
    err = info.value
    assert (err.status, err.method, err.path, err.session) == (404, "GET", "/api/sessions/missing", "missing")
    assert err.message == "Session not found"


async def test_status_mismatch_shape_is_mapped(waha: WAHAClient) -> None:
    with pytest.raises(SessionNotReady) as info:
        await waha.call(
            "AuthController_getQR", "default", query={"format": "image"}, accept="image/png"
        )  # WORKING sessions have no QR
    assert info.value.status == 422
    assert info.value.session_status == "WORKING"
    assert info.value.expected_statuses == ["SCAN_QR_CODE"]


async def test_empty_2xx_body_on_a_write_is_success(waha: WAHAClient, sandbox: Sandbox) -> None:
    """WAHA answers many successful writes with an empty body (BEHAVIOUR.md)."""
    sandbox.faults.add("SessionsController_restart", kind="empty")
    assert await waha.call("SessionsController_restart", "default") is None


async def test_empty_2xx_body_where_the_document_promises_json_is_a_bad_response(
    waha: WAHAClient, sandbox: Sandbox
) -> None:
    sandbox.faults.add("SessionsController_get", kind="empty")
    with pytest.raises(BadResponse) as info:
        await waha.call("SessionsController_get", "default")
    assert info.value.accepted is False and info.value.problem == "an empty body"
    assert (info.value.status, info.value.path) == (200, "/api/sessions/default")


async def test_empty_me_is_an_answer_not_a_failure(waha: WAHAClient, sandbox: Sandbox) -> None:
    """`GET /me` of a session that is not logged in answers an empty 200 (BEHAVIOUR.md)."""
    sandbox.faults.add("SessionsController_getMe", kind="empty")
    assert await waha.call("SessionsController_getMe", "default") is None


async def test_garbled_2xx_on_a_read_is_a_bad_response_not_accepted(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_get", kind="malformed")
    with pytest.raises(BadResponse) as info:
        await waha.call("SessionsController_get", "default")
    assert info.value.accepted is False and "not JSON" in info.value.problem
    assert len(sandbox.requests) == 1


async def test_garbled_2xx_on_a_write_is_a_bad_response_that_was_accepted(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("ChattingController_sendText", kind="malformed")
    with pytest.raises(BadResponse) as info:
        await waha.call("ChattingController_sendText", "default", body={"chatId": "14155550123@c.us", "text": "hi"})
    assert info.value.accepted is True and (info.value.method, info.value.path) == ("POST", "/api/sendText")
    assert len(sandbox.requests) == 1


async def test_binary_bodies_come_back_as_binary(waha: WAHAClient) -> None:
    shot = await waha.call("ScreenshotController_screenshot", "default", accept="image/jpeg")
    assert isinstance(shot, Binary) and shot.mimetype == "image/jpeg" and shot.data[:2] == b"\xff\xd8"


async def test_reads_are_retried_on_503_then_succeed(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_get", kind="status", status=503, times=2)
    assert (await waha.call("SessionsController_get", "default"))["name"] == "default"
    assert len([r for r in sandbox.requests if r.path == "/api/sessions/default"]) == 3


async def test_reads_are_retried_a_bounded_number_of_times(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_get", kind="status", status=502)
    with pytest.raises(WAHAError) as info:
        await waha.call("SessionsController_get", "default")
    assert info.value.status == 502
    assert len(sandbox.requests) == 3


async def test_writes_are_never_retried(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_restart", kind="status", status=503)
    with pytest.raises(WAHAError):
        await waha.call("SessionsController_restart", "default")
    assert len(sandbox.requests) == 1


async def test_dropped_connection_on_a_write_is_not_retried(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("SessionsController_restart", kind="drop")
    with pytest.raises(Unavailable) as info:
        await waha.call("SessionsController_restart", "default")
    assert info.value.status == 0 and "closed the connection" in info.value.message
    assert len(sandbox.requests) == 1


async def test_timeout_is_a_clear_error() -> None:
    sandbox = Sandbox()
    sandbox.faults.add("SessionsController_get", kind="latency", delay=3)
    client = WAHAClient("http://sandbox", timeout=1, transport=sandbox_transport(sandbox))
    with pytest.raises(Unavailable) as info:
        await client.call("SessionsController_get", "default")
    assert "did not answer within 1 s" in info.value.message
    await client.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_a_clear_error() -> None:
    client = WAHAClient(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(Unavailable) as info:
        await client.list_sessions()
    assert "cannot connect to WAHA" in info.value.message and "WAHA_BASE_URL" in info.value.message
    await client.aclose()


async def test_one_pooled_http_client_is_reused(waha: WAHAClient) -> None:
    await waha.call("SessionsController_get", "default")
    first = waha.http
    await waha.call("SessionsController_get", "business")
    assert waha.http is first
    assert isinstance(first, httpx2.AsyncClient)


# --- call(): the document decides ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "arguments", "where"),
    [
        ("ChatsController_getChats", {}, "path"),
        ("ContactsController_getAll", {}, "query"),
        ("ChattingController_startTyping", {"body": {"chatId": "14155550123@c.us"}}, "body"),
    ],
)
async def test_call_puts_the_session_where_the_document_says(
    waha: WAHAClient, sandbox: Sandbox, operation: str, arguments: dict[str, Any], where: str
) -> None:
    await waha.call(operation, "business", **arguments)
    sent = sandbox.requests[-1]
    found = {
        "path": sent.path.split("/")[2] == "business",
        "query": sent.query.get("session") == ["business"],
        "body": bool(sent.body) and json.loads(sent.body).get("session") == "business",
    }
    assert [name for name, present in found.items() if present] == [where]


async def test_call_tells_observers_which_operation_was_sent(waha: WAHAClient) -> None:
    seen: list[str] = []
    waha.on_operation.append(seen.append)
    await waha.call("SessionsController_get", "default")
    await waha.call("ChatsController_getChatsOverview", "default")
    assert seen == ["SessionsController_get", "ChatsController_getChatsOverview"]


@pytest.mark.parametrize(
    ("operation", "arguments", "complaint"),
    [
        ("ChatsController_getChats", {"query": {"sort": "name"}}, "no query parameter sort"),
        ("ChatsController_getChats", {"path": {"chatId": "1@c.us"}}, "takes path values []"),
        ("ChatsController_deleteChat", {}, "takes path values ['chatId']"),
        ("ChatsController_deleteChat", {"path": {"chatId": "1@c.us", "extra": "x"}}, "not ['chatId', 'extra']"),
        ("ChatsController_getChats", {"query": {"session": "business"}}, "no query parameter session"),
        ("ChatsController_getAllTheThings", {}, "not an operation of the WAHA OpenAPI document"),
    ],
)
async def test_a_request_the_document_lacks_cannot_be_built(
    waha: WAHAClient, sandbox: Sandbox, operation: str, arguments: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(complaint)):
        await waha.call(operation, "default", **arguments)
    assert sandbox.requests == []


async def test_a_session_scoped_operation_needs_a_session(waha: WAHAClient, sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="needs a session"):
        await waha.call("ChatsController_getChats")
    assert sandbox.requests == []


async def test_a_post_used_as_a_read_is_retried_like_a_get(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("ChatsController_postChatsOverview", kind="status", status=503, times=2)
    assert isinstance(
        await waha.call(
            "ChatsController_postChatsOverview",
            "default",
            body={"pagination": {}, "filter": {"ids": ["14155550123@c.us"]}},
        ),
        list,
    )
    assert len(sandbox.requests) == 3


async def test_a_send_is_never_retried(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add("ChattingController_sendText", kind="drop")
    with pytest.raises(Unavailable):
        await waha.call("ChattingController_sendText", "default", body={"chatId": "14155550123@c.us", "text": "hi"})
    assert len(sandbox.requests) == 1


def _answering(status: int, body: bytes = b"", **headers: str) -> WAHAClient:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body, headers=headers)

    return WAHAClient("http://waha.example:3000", "key-0123456789", transport=httpx2.MockTransport(answer))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_an_error_that_names_the_base_url_not_followed(status: int) -> None:
    seen: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        return httpx2.Response(status, headers={"location": "https://waha.example/api/sendText"})

    client = WAHAClient("http://waha.example:3000", "key-0123456789", transport=httpx2.MockTransport(answer))
    body = {"chatId": "14155550123@c.us", "text": "hi"}
    with pytest.raises(Redirected) as info:
        await client.call("ChattingController_sendText", "default", body=body)
    assert len(seen) == 1
    assert "WAHA_BASE_URL" in info.value.message and "https" in info.value.message
    with pytest.raises(Redirected):
        await client.call("SessionsController_list")
    with pytest.raises(Redirected):
        await client.fetch_file("default", "http://waha.example:3000/api/files/x.jpg", max_bytes=1000)
    assert len(seen) == 3


async def test_304_is_an_error_not_an_empty_success() -> None:
    with pytest.raises(Redirected, match="304"):
        await _answering(304).call("SessionsController_restart", "default")


async def test_empty_2xx_to_a_send_is_accepted_with_an_unknown_result() -> None:
    body = {"chatId": "14155550123@c.us", "text": "hi"}
    with pytest.raises(BadResponse) as info:
        await _answering(201).call("ChattingController_sendText", "default", body=body)
    assert info.value.accepted is True and info.value.problem == "an empty body"
    # Marking messages read is not a send: an empty answer stays a success.
    seen = {"chatId": "14155550123@c.us"}
    assert await _answering(201).call("ChattingController_sendSeen", "default", body=seen) is None


class _Endless(httpx2.AsyncByteStream):
    """A body that never ends; counts what was pulled from it."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self):  # type: ignore[override]
        chunk = b"[" + b'{"id":"x"},' * 6000
        while True:
            self.sent += len(chunk)
            yield chunk


async def test_an_answer_over_the_response_cap_is_abandoned_while_it_streams() -> None:
    stream = _Endless()

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, stream=stream, headers={"content-type": "application/json"})

    client = WAHAClient(
        "http://waha.example:3000", transport=httpx2.MockTransport(answer), max_response_bytes=256 * 1024
    )
    with pytest.raises(TooLarge) as info:
        await client.call("SessionsController_list")
    message = str(info.value)
    assert "WAHA_MCP_MAX_RESPONSE_BYTES" in message and "GET /api/sessions" in message and "262144" in message
    assert stream.sent < 256 * 1024 + 2 * 66_000  # stopped at the cap, not read to the end


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    client = _answering(200, b"[]", **{"content-type": "application/json", "content-length": str(10**9)})
    with pytest.raises(TooLarge, match="1000000000 bytes"):
        await client.call("SessionsController_list")
    # A write WAHA accepted: the error says it was probably done.
    body = {"chatId": "14155550123@c.us", "text": "hi"}
    with pytest.raises(TooLarge, match="probably taken effect"):
        await client.call("ChattingController_sendText", "default", body=body)


async def test_an_answer_under_the_cap_is_read_whole() -> None:
    payload = b"[" + b",".join(b'{"name":"s%d"}' % i for i in range(5000)) + b"]"
    client = _answering(200, payload, **{"content-type": "application/json"})
    assert len(await client.call("SessionsController_list")) == 5000


def test_the_one_private_httpx2_hook_still_exists() -> None:
    """The client reaches httpx2's per-URL transport (proxies included) through one private method; when an
    httpx2 upgrade drops it this fails, and calls fall back to `send` (next test) until it is replaced."""
    from waha_mcp.client import _http

    client = httpx2.AsyncClient()
    assert callable(_http._transport_for(client))


async def test_without_the_private_hook_requests_take_the_public_path(
    waha: WAHAClient, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from waha_mcp.client import _http

    monkeypatch.setattr(_http, "_transport_for", lambda client: None)
    answer = await waha.call("SessionsController_get", "default")
    assert answer["name"] == "default" and sandbox.requests[-1].path == "/api/sessions/default"
