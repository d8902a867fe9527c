"""Which error type a WAHA failure becomes: decided in one place, from the status and WAHA's own words."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from waha_mcp.client.errors import (
    BusinessOnly,
    EndpointMissing,
    NotFound,
    RateLimited,
    SessionNotReady,
    TierLimit,
    Unauthorized,
    Unavailable,
    WAHAError,
    from_response,
    from_transport,
)

MISMATCH = {
    "error": "Session status is not as expected. Try again later or restart the session",
    "session": "default",
    "status": "STARTING",
    "expected": ["WORKING"],
}


def answer(status: int, body: Any, method: str = "GET", path: str = "/api/default/chats") -> WAHAError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return from_response(status, raw, "Reason", method=method, path=path, session="default")


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"message": "Unauthorized"}, Unauthorized),
        (429, {"message": "Too Many Requests"}, RateLimited),
        (500, {"exception": {"message": "boom"}}, Unavailable),
        (500, {"exception": {"message": "[LT01] Only Whatsapp business"}}, BusinessOnly),
        (503, b"<html>Service Unavailable</html>", Unavailable),
        (501, {"message": "Not implemented in NOWEB"}, EndpointMissing),
        (404, {"message": "Cannot GET /api/default/chats", "statusCode": 404}, EndpointMissing),
        (404, {"message": "Session not found"}, NotFound),
        (422, MISMATCH, SessionNotReady),
        (422, {"message": "Available in WAHA Plus only"}, TierLimit),
        (400, {"message": ["chatId should not be empty"]}, WAHAError),
    ],
)
def test_each_failure_gets_its_type(status: int, body: Any, expected: type[WAHAError]) -> None:
    error = answer(status, body)
    assert type(error) is expected
    assert (error.status, error.method, error.path, error.session) == (status, "GET", "/api/default/chats", "default")


def test_a_404_for_another_method_is_still_a_missing_route() -> None:
    assert isinstance(answer(404, {"message": "Cannot POST /api/sendPoll"}, "POST", "/api/sendPoll"), EndpointMissing)


def test_wahas_own_words_are_kept() -> None:
    assert answer(400, {"message": ["a", "b"]}).message == "a; b"
    assert answer(500, {"exception": {"message": "boom"}}).message == "boom"
    assert "status STARTING, expected WORKING" in answer(422, MISMATCH).message
    assert answer(502, b"").message == "HTTP 502 Reason"


def test_a_rejected_key_says_which_setting_to_check() -> None:
    assert answer(401, {"message": "Unauthorized"}).message == "WAHA rejected the API key (401): check WAHA_API_KEY"


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (httpx2.ConnectError("[Errno 111] Connection refused"), "cannot connect to WAHA at http://waha:3000"),
        (httpx2.ConnectError("[Errno -2] Name or service not known"), "cannot resolve the WAHA host"),
        (httpx2.ReadTimeout("timed out"), "did not answer within 5 s (WAHA_TIMEOUT)"),
        (TimeoutError(), "did not answer within 5 s"),
        (httpx2.RemoteProtocolError("closed"), "closed the connection before answering"),
    ],
)
def test_no_answer_is_unavailable_without_a_status(exc: Exception, said: str) -> None:
    error = from_transport(exc, base_url="http://waha:3000", timeout=5, method="GET", path="/ping", session=None)
    assert isinstance(error, Unavailable) and error.status == 0
    assert said in error.message
