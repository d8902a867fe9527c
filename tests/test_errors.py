"""Error enrichment: every WAHA failure becomes one line naming the session, its status and the next step."""

from __future__ import annotations

import pytest

from waha_mcp.client import (
    BadResponse,
    EndpointMissing,
    NotFound,
    RateLimited,
    SessionNotReady,
    TierLimit,
    Unavailable,
    WAHAClient,
)
from waha_mcp.errors import explain


def mismatch(status: str, expected: str = "WORKING") -> SessionNotReady:
    body = {
        "error": "Session status is not as expected. Try again later or restart the session",
        "session": "default",
        "status": status,
        "expected": [expected],
    }
    return SessionNotReady(
        "Session status is not as expected",
        status=422,
        method="GET",
        path="/api/default/chats",
        session="default",
        body=body,
    )


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("SCAN_QR_CODE", "waha_get_qr_code"),
        ("STARTING", "wait a few seconds"),
        ("FAILED", "waha_restart_session"),
        ("STOPPED", "waha_start_session"),
    ],
)
async def test_status_mismatch_names_status_and_next_step(waha: WAHAClient, status: str, advice: str) -> None:
    message = await explain(mismatch(status), waha)
    assert f"session 'default' is {status}" in message and advice in message
    assert "\n" not in message


async def test_stopped_404_is_recognised_from_the_session_listing(waha: WAHAClient, sandbox: object) -> None:
    sandbox.set_status("business", "STOPPED")  # type: ignore[attr-defined]
    err = NotFound(
        "We didn't find a session with name 'business'. Please start it first by using POST "
        "/api/sessions/business/start request",
        status=404,
        method="GET",
        path="/api/business/chats",
        session="business",
    )
    assert "'business' is STOPPED: start it with waha_start_session" in await explain(err, waha)


async def test_resource_404_on_a_working_session_keeps_wahas_message(waha: WAHAClient) -> None:
    err = NotFound(
        "Message not found", status=404, method="GET", path="/api/default/chats/1/messages/x", session="default"
    )
    message = await explain(err, waha)
    assert "Message not found" in message and "'default'" in message


async def test_plus_only_features_say_so(waha: WAHAClient) -> None:
    err = TierLimit("Available in WAHA Plus only", status=422, method="POST", path="/api/sendImage", session="default")
    assert "This needs WAHA Plus" in await explain(err, waha)


async def test_rate_limit_and_server_errors_are_explained(waha: WAHAClient) -> None:
    limited = RateLimited("Too Many Requests", status=429, method="POST", path="/api/sendText", session="default")
    assert "rate limiting" in await explain(limited, waha)
    broken = Unavailable("boom", status=500, method="GET", path="/api/sessions/default", session="default")
    assert "failed with 500" in await explain(broken, waha)


async def test_a_missing_route_is_about_this_waha_not_the_session(waha: WAHAClient) -> None:
    """NestJS's `Cannot GET /api/default/...` names the session, but the route is what is missing."""
    err = EndpointMissing(
        "Cannot GET /api/default/chats/overview",
        status=404,
        method="GET",
        path="/api/default/chats/overview",
        session="default",
    )
    message = await explain(err, waha)
    # The sandbox plays the newest WAHA, which has the route: the request went somewhere else.
    assert message.startswith("session 'default': this WAHA (2026.9.1 PLUS) answered that it has no GET /api/")
    assert "WAHA_BASE_URL" in message
    assert "waha_start_session" not in message and "does not exist" not in message


async def test_an_unusable_answer_names_the_route_and_suggests_a_retry(waha: WAHAClient) -> None:
    err = BadResponse(
        "with a body that is not JSON where data was expected",
        problem="a body that is not JSON",
        accepted=False,
        status=200,
        method="GET",
        path="/api/sessions/default",
        session="default",
    )
    message = await explain(err, waha)
    assert "WAHA answered GET /api/sessions/default (200) with a body that is not JSON" in message
    assert "retry" in message


async def test_no_answer_at_all_is_said_in_the_clients_words(waha: WAHAClient) -> None:
    err = Unavailable("cannot connect to WAHA at http://x: is it running?", method="GET", path="/api/sessions")
    assert await explain(err, waha) == "WAHA: cannot connect to WAHA at http://x: is it running?"
