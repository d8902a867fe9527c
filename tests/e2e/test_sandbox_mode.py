"""`waha-mcp --sandbox` as a newcomer meets it: one process over real stdio, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.e2e.test_stdio import EXE, INIT, _rpc, env_for
from tests.helpers import data


def sandbox_env() -> dict[str, str]:
    env = env_for("http://127.0.0.1:9")
    env.pop("WAHA_BASE_URL")
    env.pop("WAHA_SESSION")
    return env


async def test_the_guide_walk_create_qr_pair_send_over_stdio() -> None:
    params = StdioServerParameters(command=EXE, args=["--sandbox"], env=sandbox_env())
    async with Client(params, mode="legacy") as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert {"waha_create_session", "waha_get_qr_code", "waha_sandbox_pair", "waha_send_message"} <= listed
        created = data(await client.call_tool("waha_create_session", {"name": "customer_support", "start": True}))
        assert created["name"] == "customer_support" and "waha_get_qr_code" in created["next"]
        qr = await client.call_tool("waha_get_qr_code", {"session": "customer_support"})
        assert not qr.is_error and qr.content[0].type == "image" and qr.content[0].mime_type == "image/png"
        me = data(await client.call_tool("waha_get_session_me", {"session": "customer_support"}))
        assert me["me"] is None and "waha_get_qr_code" in me["next"]
        paired = data(await client.call_tool("waha_sandbox_pair", {"session": "customer_support"}))
        assert paired["status"] == "WORKING"
        me = data(await client.call_tool("waha_get_session_me", {"session": "customer_support"}))
        assert me["me"]["id"] == paired["me"]
        sent = data(
            await client.call_tool(
                "waha_send_message",
                {"session": "customer_support", "chatId": "1234567890@c.us", "text": "Hello! How can I help you?"},
            )
        )
        assert sent["session"] == "customer_support" and sent["messageId"]


async def test_a_message_the_sandbox_receives_wakes_a_waiter_over_stdio() -> None:
    """The embedded sandbox feeds the inbox (no WebSocket in one process): wait, receive, list."""
    params = StdioServerParameters(command=EXE, args=["--sandbox", "--toolsets", "events,sandbox"], env=sandbox_env())
    chat = "12025550777@c.us"
    async with Client(params, mode="legacy") as client:
        async with anyio.create_task_group() as tg:
            waited: dict[str, Any] = {}

            async def wait() -> None:
                args = {"chat": chat, "text": "on my way", "timeout": 10}
                waited.update(data(await client.call_tool("waha_wait_for_message", args)))

            tg.start_soon(wait)
            await anyio.sleep(0.3)  # the wait is open before the message arrives
            sent = data(await client.call_tool("waha_sandbox_receive", {"chatId": chat, "text": "On my way!"}))
        assert waited["matched"] is True and waited["session"] == "default"
        assert waited["event"]["text"] == "On my way!" and waited["event"]["messageId"] == sent["messageId"]
        listed = data(await client.call_tool("waha_get_events", {"chat": chat, "types": ["message"]}))
        assert [(e["session"], e["text"]) for e in listed["events"]] == [("default", "On my way!")]


def _interrupted(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=15)
    assert proc.stderr is not None
    return code, proc.stderr.read().decode()


def test_ctrl_c_stops_the_stdio_sandbox_cleanly() -> None:
    proc = subprocess.Popen(
        [EXE, "--sandbox"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=sandbox_env()
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(_rpc(INIT))
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["id"] == 1
    code, stderr = _interrupted(proc)
    assert code in (0, 130) and "Traceback" not in stderr, stderr
    assert "SANDBOX" in stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ctrl_c_stops_the_standalone_sandbox_cleanly() -> None:
    """Also the one real-time check of core-2024.10's timing: stopping a running session takes 3 s."""
    port = _free_port()
    proc = subprocess.Popen(
        [EXE, "sandbox", "--port", str(port), "--profile", "core-2024.10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sandbox_env(),
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    began = time.monotonic()
    stop = urllib.request.Request(f"http://127.0.0.1:{port}/api/sessions/default/stop", method="POST")
    with urllib.request.urlopen(stop, timeout=10) as answer:
        assert answer.status == 201 and json.loads(answer.read())["status"] == "STOPPED"
    assert 3 <= time.monotonic() - began < 6
    code, stderr = _interrupted(proc)
    assert code in (0, 130) and "Traceback" not in stderr, stderr
    assert "2024.10.8 CORE" in stderr


assert Path(EXE).name == "waha-mcp"
