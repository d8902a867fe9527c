"""The stdio-mode webhook listener (WAHA_MCP_WEBHOOK_PORT) over a real loopback socket: only when webhooks are the
event source (issue 18 item 1), with the HTTP transport's head deadline, head cap, connection cap and body cap
(item 7), and the same authentication rules as the HTTP route."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import httpx2
import pytest

from tests.events.test_stdio_listener import free_port
from waha_mcp.config import load_settings
from waha_mcp.events.background import running
from waha_mcp.events.webhook import PATH
from waha_mcp.http_limits import MAX_HEAD_BYTES
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import WahaMCP, build_server

SECRET = "stdio-path-secret-0123456789abc"
T = TypeVar("T")


@asynccontextmanager
async def listening(sandbox: Sandbox, **extra: str) -> AsyncIterator[tuple[WahaMCP, int, dict[str, Any]]]:
    port = free_port()
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_MCP_WEBHOOK_PORT=str(port), **extra)
    server = build_server(settings, transport=sandbox_transport(sandbox))
    try:
        async with running(server, listener=True) as started:
            listener = started.get("webhook")
            deadline = time.monotonic() + 10
            while listener is not None and not listener.started:
                assert time.monotonic() < deadline, "the listener never started"
                await anyio.sleep(0.02)
            yield server, port, started
    finally:
        server.close()


async def blocking(fn: Callable[[], T]) -> T:
    """A blocking socket probe, off the event loop that serves the listener."""
    return await anyio.to_thread.run_sync(fn)


def envelope(eid: str) -> bytes:
    payload = {"id": f"false_1@c.us_{eid}", "from": "1@c.us", "body": "forged"}
    stamp = int(time.time() * 1000)
    body = {"id": eid, "timestamp": stamp, "session": "default", "event": "message", "payload": payload}
    return json.dumps(body).encode()


async def test_no_listener_unless_webhooks_are_the_event_source(sandbox: Sandbox) -> None:
    async with listening(sandbox) as (server, port, started):  # WAHA_MCP_EVENTS defaults to ws
        assert "webhook" not in started

        def post() -> None:
            with pytest.raises(httpx2.ConnectError):
                httpx2.post(f"http://127.0.0.1:{port}{PATH}", content=envelope("evt_x"),
                            headers={"Content-Type": "application/json"})  # fmt: skip

        await blocking(post)
        assert await server.events().inbox.count() == 0


async def test_the_listener_refuses_browser_shaped_and_takes_the_secret_path(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # as with WAHA_MCP_LOG_LEVEL=DEBUG: still no line names the path
    async with listening(sandbox, WAHA_MCP_EVENTS="webhook", WAHA_MCP_WEBHOOK_SECRET=SECRET) as (server, port, _):
        base = f"http://127.0.0.1:{port}{PATH}"

        def probe() -> list[int]:
            json_type = {"Content-Type": "application/json"}
            browser = json_type | {"Origin": "https://evil.example"}
            return [
                httpx2.post(base, content=envelope("evt_bare"), headers=json_type).status_code,
                httpx2.post(f"{base}/{SECRET}", content=envelope("evt_path"), headers=json_type).status_code,
                httpx2.post(f"{base}/{SECRET}", content=envelope("evt_o"), headers=browser).status_code,
            ]

        assert await blocking(probe) == [401, 200, 403]
        assert [r.summary.event for r in await server.events().inbox.query(_all())] == ["message"]
    # The listener's side only (this test's own client, playing WAHA, logs the URL it posts to).
    assert not [r for r in caplog.records if not r.name.startswith("httpx") and SECRET in r.getMessage()]


async def test_the_listener_refuses_a_foreign_host_when_unsigned(sandbox: Sandbox) -> None:
    async with listening(sandbox, WAHA_MCP_EVENTS="webhook") as (server, port, _):

        def probe() -> list[int]:
            url = f"http://127.0.0.1:{port}{PATH}"
            json_type = {"Content-Type": "application/json"}
            rebound = json_type | {"Host": "evil.example"}
            return [
                httpx2.post(url, content=envelope("evt_rebound"), headers=rebound).status_code,
                httpx2.post(url, content=envelope("evt_plain"), headers={"Content-Type": "text/plain"}).status_code,
                httpx2.post(url, content=envelope("evt_ok"), headers=json_type).status_code,
            ]

        assert await blocking(probe) == [403, 415, 200]
        assert await server.events().inbox.count() == 1


async def test_a_head_sent_too_slowly_is_cut_off(sandbox: Sandbox) -> None:
    async with listening(sandbox, WAHA_MCP_EVENTS="webhook", WAHA_MCP_HTTP_HEADER_TIMEOUT="1") as (_, port, _):

        def slowloris() -> float:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                started = time.monotonic()
                sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
                while time.monotonic() - started < 8:  # a header line every 0.3 s: never idle, never finished
                    try:
                        sock.sendall(b"X-Slow: 1\r\n")
                        sock.settimeout(0.3)
                        if sock.recv(1024) == b"":
                            break
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                return time.monotonic() - started

        assert await blocking(slowloris) < 4


@pytest.mark.parametrize("complete", [False, True], ids=["unfinished", "whole"])
async def test_an_oversized_head_is_refused(sandbox: Sandbox, complete: bool) -> None:
    async with listening(sandbox, WAHA_MCP_EVENTS="webhook") as (_, port, _):

        def big_head() -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".encode() + b"a" * (MAX_HEAD_BYTES + 1024)
                try:
                    sock.sendall(head + (b"\r\n\r\n" if complete else b""))
                except OSError:
                    pass
                return sock.recv(1024)

        assert (await blocking(big_head)).startswith(b"HTTP/1.1 400")


async def test_connections_over_the_cap_get_503(sandbox: Sandbox) -> None:
    async with listening(sandbox, WAHA_MCP_EVENTS="webhook", WAHA_MCP_HTTP_MAX_CONNECTIONS="3") as (_, port, _):

        def over_the_cap() -> tuple[bytes, int]:
            idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
            try:
                time.sleep(0.2)
                with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                    sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
                    answer = sock.recv(1024)
            finally:
                for conn in idle:
                    conn.close()
            deadline = time.monotonic() + 10  # the closed ones free their slots once the listener sees them go
            while True:
                after = httpx2.post(f"http://127.0.0.1:{port}{PATH}", content=envelope("evt_after"),
                                    headers={"Content-Type": "application/json"})  # fmt: skip
                if after.status_code != 503 or time.monotonic() > deadline:
                    return answer, after.status_code
                time.sleep(0.1)

        answer, after = await blocking(over_the_cap)
        assert answer.startswith(b"HTTP/1.1 503") and after == 200


async def test_a_body_over_the_cap_is_413(sandbox: Sandbox) -> None:
    async with listening(sandbox, WAHA_MCP_EVENTS="webhook", WAHA_MCP_WEBHOOK_MAX_BYTES="2048") as (server, port, _):

        def big_body() -> int:
            body = b'{"id":"evt_big","pad":"' + b"x" * 8192 + b'"}'
            return httpx2.post(f"http://127.0.0.1:{port}{PATH}", content=body,
                               headers={"Content-Type": "application/json"}).status_code  # fmt: skip

        assert await blocking(big_body) == 413
        assert await server.events().inbox.count() == 0


def _all() -> Any:
    from waha_mcp.events import Query

    return Query()
