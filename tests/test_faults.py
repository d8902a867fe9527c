"""WAHA misbehaving, seen through the MCP client: down, slow, 5xx, 429, broken or empty bodies, drops.

Every failure is one `isError` line that names the session ('default') where one applies and says what
to do; reads may be retried, writes never are (counted in the sandbox's request log). Each runs twice: with the
sandbox in process (httpx2 on its ASGI transport) and on a loopback socket (aiohttp, the WAHA client of
client/wire.py, real connection resets).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client

from tests.e2e.servers import sandbox_on_socket
from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import WahaMCP, build_server


@dataclass(frozen=True)
class Target:
    tool: str
    arguments: dict[str, Any]
    operation: str  # the sandbox operationId the fault is put on
    read: bool
    session: str | None  # the session the error must name

    def __str__(self) -> str:
        return self.tool


GET_SESSION = Target("waha_get_session", {}, "SessionsController_get", read=True, session="default")
LIST_SESSIONS = Target("waha_list_sessions", {}, "SessionsController_list", read=True, session=None)
RESTART = Target("waha_restart_session", {}, "SessionsController_restart", read=False, session="default")
SEND = Target(
    "waha_send_message",
    {"chatId": "14155550123", "text": "hello"},
    "ChattingController_sendText",
    read=False,
    session="default",
)
TARGETS = [GET_SESSION, LIST_SESSIONS, RESTART, SEND]
READS = [GET_SESSION, LIST_SESSIONS]
WRITES = [RESTART, SEND]


@pytest.fixture(params=["in-process", "socket"])
def way(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def server(way: str, transport: Any, settings: Settings, sandbox: Sandbox) -> AsyncIterator[WahaMCP]:
    async with _server(way, settings, sandbox, transport) as built:
        yield built


@contextlib.asynccontextmanager
async def _server(way: str, settings: Settings, sandbox: Sandbox, transport: Any = None) -> AsyncIterator[WahaMCP]:
    """The server under test, its WAHA in process or on a socket."""
    if way == "in-process":
        yield build_server(settings, transport=transport or sandbox_transport(sandbox))
        return
    async with sandbox_on_socket(sandbox) as url:
        served = settings.model_copy(update={"waha_base_url": url, "sandbox": False})
        built = build_server(served)
        assert built.new_client().wire() is not None, "the socket run must exercise the aiohttp client"
        yield built


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their count; only the pause between them is shortened."""
    monkeypatch.setattr("waha_mcp.client._http.BACKOFF", 0.001)


def hits(sandbox: Sandbox, target: Target) -> int:
    """How many requests reached the faulted operation."""
    op = sandbox.spec
    return sum(
        1
        for r in sandbox.requests
        if (found := op.match(r.method, r.path)) is not None and found.operation_id == target.operation
    )


def names_session(message: str, target: Target) -> None:
    if target.session:
        assert f"session '{target.session}'" in message, message
    else:
        assert message.startswith("WAHA"), message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- WAHA down ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=str)
async def test_waha_down_is_a_clear_error(target: Target) -> None:
    port = _closed_port()
    settings = load_settings(WAHA_BASE_URL=f"http://127.0.0.1:{port}", WAHA_SESSION="default", WAHA_TOOLSETS="all")
    server = build_server(settings)  # no transport: a real socket to a closed port
    async with Client(server) as client:
        message = error(await call(client, target.tool, target.arguments))
        names_session(message, target)
        assert "cannot connect to WAHA" in message and f"127.0.0.1:{port}" in message, message
        assert "WAHA_BASE_URL" in message
        # The server survives and answers the next call the same way.
        assert error(await call(client, target.tool, target.arguments)) == message


# --- faults injected by the sandbox ---------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=str)
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors(mcp: Client, sandbox: Sandbox, target: Target, status: int) -> None:
    sandbox.faults.add(target.operation, kind="status", status=status)
    message = error(await call(mcp, target.tool, target.arguments))
    names_session(message, target)
    assert f"WAHA failed with {status}" in message, message
    # 502/503 are retried (twice) on reads only; 500 is an answer, not a hiccup; writes go out once.
    expected = 3 if target.read and status in (502, 503) else 1
    assert hits(sandbox, target) == expected


@pytest.mark.parametrize("target", READS, ids=str)
async def test_a_read_recovers_after_a_transient_503(mcp: Client, sandbox: Sandbox, target: Target) -> None:
    sandbox.faults.add(target.operation, kind="status", status=503, times=2)
    result = data(await call(mcp, target.tool, target.arguments))
    assert result
    assert hits(sandbox, target) == 3


@pytest.mark.parametrize("target", TARGETS, ids=str)
async def test_rate_limited(mcp: Client, sandbox: Sandbox, target: Target) -> None:
    sandbox.faults.add(target.operation, kind="status", status=429)
    message = error(await call(mcp, target.tool, target.arguments))
    names_session(message, target)
    assert "rate limiting (429)" in message and "wait" in message, message
    assert hits(sandbox, target) == 1


@pytest.mark.parametrize("target", TARGETS, ids=str)
async def test_slow_beyond_the_timeout(way: str, sandbox: Sandbox, contract: Any, target: Target) -> None:
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TIMEOUT=1, WAHA_TOOLSETS="all"
    )
    sandbox.faults.add(target.operation, kind="latency", delay=3)
    async with _server(way, settings, sandbox) as server, Client(server) as client:
        started = time.monotonic()
        message = error(await call(client, target.tool, target.arguments))
        elapsed = time.monotonic() - started
    names_session(message, target)
    assert "did not answer within 1 s" in message and "WAHA_TIMEOUT" in message, message
    assert elapsed < 2.5, f"the 1 s deadline was not enforced ({elapsed:.1f} s)"
    # A timed-out write may have been done: it is never sent again, and the message says so.
    assert hits(sandbox, target) == 1
    assert ("check the chat before repeating" in message) is (not target.read), message


@pytest.mark.parametrize("target", TARGETS, ids=str)
async def test_connection_dropped_before_an_answer(mcp: Client, sandbox: Sandbox, target: Target) -> None:
    sandbox.faults.add(target.operation, kind="drop")
    message = error(await call(mcp, target.tool, target.arguments))
    names_session(message, target)
    assert "closed the connection before answering" in message, message
    assert hits(sandbox, target) == (3 if target.read else 1)
    assert ("it may have been sent" in message) is (not target.read), message


@pytest.mark.parametrize("target", WRITES, ids=str)
async def test_write_whose_answer_is_lost_is_not_sent_twice(mcp: Client, sandbox: Sandbox, target: Target) -> None:
    """WAHA did the work, then the connection dropped: a retry would restart or send twice."""
    sandbox.faults.add(target.operation, kind="drop", body="after")
    message = error(await call(mcp, target.tool, target.arguments))
    names_session(message, target)
    assert hits(sandbox, target) == 1
    assert "it may have been sent" in message and "check the chat before repeating" in message, message


async def test_a_write_that_could_not_connect_was_not_sent(way: str, sandbox: Sandbox, mcp: Client) -> None:
    if way == "socket":
        pytest.skip("a refused connection is played in process only (a socket run: test_waha_down_is_a_clear_error)")
    sandbox.faults.add(SEND.operation, kind="drop", body="connect")
    message = error(await call(mcp, SEND.tool, SEND.arguments))
    assert "cannot connect" in message and "may have been sent" not in message, message


@pytest.mark.parametrize("target", READS, ids=str)
async def test_malformed_json_on_a_read_is_an_error(mcp: Client, sandbox: Sandbox, target: Target) -> None:
    sandbox.faults.add(target.operation, kind="malformed")
    message = error(await call(mcp, target.tool, target.arguments))
    names_session(message, target)
    assert "not JSON" in message, message
    assert hits(sandbox, target) == 1


@pytest.mark.parametrize("target", WRITES, ids=str)
async def test_malformed_json_on_a_write_is_reported_not_retried(mcp: Client, sandbox: Sandbox, target: Target) -> None:
    """A 2xx with a broken body: WAHA accepted it. The error says so, and not to repeat it blindly."""
    sandbox.faults.add(target.operation, kind="malformed")
    message = error(await call(mcp, target.tool, target.arguments))
    names_session(message, target)
    assert "WAHA accepted" in message and "not JSON" in message and "check before repeating" in message, message
    assert hits(sandbox, target) == 1


async def test_empty_body_where_data_is_needed_is_an_error(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add(GET_SESSION.operation, kind="empty")
    message = error(await call(mcp, GET_SESSION.tool))
    names_session(message, GET_SESSION)
    assert "empty body" in message and "internal error" not in message, message
    assert hits(sandbox, GET_SESSION) == 1


@pytest.mark.parametrize("target", [RESTART], ids=str)
async def test_empty_body_on_a_write_is_success(mcp: Client, sandbox: Sandbox, target: Target) -> None:
    """WAHA answers some successful calls with an empty 2xx body (see BEHAVIOUR.md); not a send (below)."""
    sandbox.faults.add(target.operation, kind="empty")
    result = data(await call(mcp, target.tool, target.arguments))
    assert result
    assert hits(sandbox, target) == 1


async def test_empty_session_list(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add(LIST_SESSIONS.operation, kind="empty")
    result = await call(mcp, LIST_SESSIONS.tool)
    if result.is_error:
        assert "empty body" in error(result)
    else:
        assert data(result)["sessions"] == []


async def test_the_server_keeps_working_after_every_fault(mcp: Client, sandbox: Sandbox) -> None:
    for kind, extra in [("status", {"status": 500}), ("drop", {}), ("malformed", {}), ("empty", {})]:
        sandbox.faults.add(None, kind=kind, times=1, **extra)  # type: ignore[arg-type]
        await call(mcp, GET_SESSION.tool)
    sandbox.faults.clear()
    assert data(await call(mcp, GET_SESSION.tool))["name"] == "default"


async def test_empty_body_to_a_send_says_the_result_is_unknown(mcp: Client, sandbox: Sandbox) -> None:
    """An empty 2xx to a send: WAHA took it, but whether the message went out is unknown."""
    sandbox.faults.add(SEND.operation, kind="empty")
    message = error(await call(mcp, SEND.tool, SEND.arguments))
    names_session(message, SEND)
    assert "WAHA accepted" in message and "empty body" in message and "check before repeating" in message, message
    assert hits(sandbox, SEND) == 1
