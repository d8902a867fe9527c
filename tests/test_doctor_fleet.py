"""`waha-mcp doctor` on a fleet: each server checked in turn over real sockets, every line naming its server; one
server down or refusing its key never hides the others' results; the exit code says any failed."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.servers import sandbox_on_socket, serving
from waha_mcp.config import load_settings
from waha_mcp.doctor import run_doctor
from waha_mcp.sandbox import Sandbox

KEY = "fleet-doctor-key-0123456789"
WRONG = "not-the-key-of-b-987654321"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def two_sandboxes(a: Sandbox, b: Sandbox) -> AsyncIterator[tuple[str, str]]:
    async with sandbox_on_socket(a) as url_a, sandbox_on_socket(b) as url_b:
        yield url_a, url_b


def lines_of(out: str, server: str) -> list[str]:
    return [row for row in out.splitlines() if f"[{server}] " in row]


async def test_one_down_one_with_a_wrong_key_each_named_and_the_third_fully_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a = Sandbox(api_key=KEY, sessions=2)
    b = Sandbox(api_key=KEY, sessions=1, names=("b1",))
    async with two_sandboxes(a, b) as (url_a, url_b):
        path = tmp_path / "servers.toml"
        path.write_text(
            f'[a]\nurl = "{url_a}"\n\n[b]\nurl = "{url_b}"\napi_key = "{WRONG}"\n\n'
            f'[c]\nurl = "http://127.0.0.1:{_closed_port()}"\n'
        )
        settings = load_settings(WAHA_SERVERS_FILE=str(path), WAHA_API_KEY=KEY, WAHA_SESSION="default")
        code = await run_doctor(settings)
    out = capsys.readouterr().out
    assert code == 1
    assert KEY not in out and WRONG not in out
    # a: every check, and its sessions.
    a_lines = lines_of(out, "a")
    assert not any(row.startswith("FAIL") for row in a_lines), out
    assert {row.split()[1] for row in a_lines} >= {"reachable", "version", "key", "events", "session"}
    assert any("WebSocket /ws opened" in row for row in a_lines)
    # b: reachable, and its key refused, naming where that key is set.
    (b_key,) = [row for row in lines_of(out, "b") if row.split()[1] == "key"]
    assert b_key.startswith("FAIL") and "rejected the API key" in b_key and "api_key of [b]" in b_key
    assert any(row.startswith("ok   reachable") for row in lines_of(out, "b"))
    # c: down, said once, and nothing else claimed about it.
    (c_line,) = lines_of(out, "c")
    assert c_line.startswith("FAIL reachable") and "url of [c] in WAHA_SERVERS_FILE" in c_line
    assert "ok   default    [a] " not in out and "WAHA_SESSION=default (on a)" in out
    summary = next(row for row in out.splitlines() if row.split()[1] == "servers")
    assert summary.startswith("FAIL") and "2 of 3" in summary and "b, c" in summary


async def test_a_session_on_two_servers_is_a_failure_naming_both(capsys: pytest.CaptureFixture[str]) -> None:
    async with two_sandboxes(Sandbox(sessions=1), Sandbox(sessions=1, profile="core-2024.10")) as (url_a, url_b):
        settings = load_settings(WAHA_SERVERS=f"x={url_a},y={url_b}", WAHA_SESSION="default")
        code = await run_doctor(settings)
    out = capsys.readouterr().out
    assert code == 1
    dup = next(row for row in out.splitlines() if row.split()[1] == "duplicate")
    assert dup.startswith("FAIL") and "session default is on servers x and y" in dup
    default = next(row for row in out.splitlines() if row.split()[1] == "default")
    assert default.startswith("FAIL")
    # Core 2024.10 checks no key and its /ws carries only session.status: both said of y, not of x.
    assert any("does not check API keys" in row for row in lines_of(out, "y"))
    assert not any("does not check API keys" in row for row in lines_of(out, "x"))
    summary = next(row for row in out.splitlines() if row.split()[1] == "servers")
    assert summary.startswith("ok") and "all 2 answered" in summary


def no_upgrades(app: Any) -> Any:
    """`app` behind a proxy that passes HTTP but refuses WebSocket upgrades (403 at the handshake)."""

    async def proxy(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        await app(scope, receive, send)

    return proxy


async def test_a_server_whose_ws_cannot_be_opened_fails_its_events_line(capsys: pytest.CaptureFixture[str]) -> None:
    behind = Sandbox(api_key=KEY)
    with serving(no_upgrades(behind.app), lifespan="off") as proxied:
        async with sandbox_on_socket(Sandbox(api_key=KEY)) as direct:
            settings = load_settings(WAHA_SERVERS=f"a={proxied},b={direct}", WAHA_API_KEY=KEY)
            code = await run_doctor(settings)
    out = capsys.readouterr().out
    assert code == 1
    (events,) = [row for row in lines_of(out, "a") if row.split()[1] == "events"]
    assert events.startswith("FAIL") and "refused (403)" in events and "WAHA_MCP_EVENTS=webhook" in events
    assert any(row.startswith("ok   key") for row in lines_of(out, "a"))  # the REST routes took the key
    assert any("WebSocket /ws opened" in row for row in lines_of(out, "b"))
    assert KEY not in out


async def test_a_default_session_on_no_server_fails(capsys: pytest.CaptureFixture[str]) -> None:
    async with two_sandboxes(Sandbox(sessions=1), Sandbox(sessions=1, names=("b1",))) as (url_a, url_b):
        code = await run_doctor(load_settings(WAHA_SERVERS=f"a={url_a},b={url_b}", WAHA_SESSION="ghost"))
    out = capsys.readouterr().out
    default = next(row for row in out.splitlines() if row.split()[1] == "default")
    assert code == 1 and default.startswith("FAIL") and "WAHA_SESSION=ghost exists on no server" in default
