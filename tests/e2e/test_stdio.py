"""The real `waha-mcp` process over real stdio, talking to the sandbox over a real socket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.e2e.servers import serving
from tests.helpers import data, error
from waha_mcp.sandbox import Sandbox

EXE = str(Path(sys.executable).with_name("waha-mcp"))


@pytest.fixture
def waha_url(sandbox: Sandbox) -> Iterator[str]:
    with serving(sandbox.app) as url:
        yield url


def env_for(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHA_")}
    return env | {"WAHA_BASE_URL": url, "WAHA_SESSION": "default"} | extra


async def test_tools_list_and_calls_over_stdio(waha_url: str, sandbox: Sandbox) -> None:
    params = StdioServerParameters(command=EXE, args=[], env=env_for(waha_url))
    async with Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        assert "waha_list_sessions" in {tool.name for tool in tools}
        listed = data(await client.call_tool("waha_list_sessions", {}))
        assert {s["name"] for s in listed["sessions"]} == {"default", "business"}
        assert "does not exist" in error(await client.call_tool("waha_get_session", {"session": "ghost"}))
    assert any(r.path == "/api/sessions" for r in sandbox.requests)


def _rpc(*messages: dict) -> bytes:
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def test_stdout_carries_only_protocol_and_stdin_eof_exits_cleanly(waha_url: str) -> None:
    messages = _rpc(
        INIT,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "waha_get_session", "arguments": {}}},
    )
    proc = subprocess.run(
        [EXE], input=messages, capture_output=True, env=env_for(waha_url, WAHA_MCP_LOG_LEVEL="DEBUG"), timeout=30
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    replies = [json.loads(line) for line in lines]
    assert all(reply.get("jsonrpc") == "2.0" for reply in replies)
    assert {reply.get("id") for reply in replies} >= {1, 2}


def test_sigterm_exits_cleanly(waha_url: str) -> None:
    proc = subprocess.Popen(
        [EXE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(waha_url)
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(_rpc(INIT))
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["id"] == 1
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_invalid_configuration_is_one_stderr_line_exit_2_and_no_stdout() -> None:
    env = env_for("not-a-url")
    proc = subprocess.run([EXE], input=b"", capture_output=True, env=env, timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == b""
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "WAHA_BASE_URL" in lines[0]


def test_unknown_toolset_fails_at_start_with_the_valid_ones(waha_url: str) -> None:
    proc = subprocess.run(
        [EXE, "--toolsets", "sessions,bogus"], input=b"", capture_output=True, env=env_for(waha_url), timeout=30
    )
    assert proc.returncode == 2 and proc.stdout == b""
    assert "bogus" in proc.stderr.decode() and "valid: all, sessions" in proc.stderr.decode()


def test_non_loopback_waha_without_key_warns_on_stderr() -> None:
    proc = subprocess.run(
        [EXE, "--base-url", "http://192.0.2.10:3000"],
        input=b"",
        capture_output=True,
        env=env_for("http://192.0.2.10:3000"),
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stdout == b""
    assert "WAHA_API_KEY is unset" in proc.stderr.decode()
