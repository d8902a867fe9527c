"""The sandbox playing a fleet as a newcomer meets it: `waha-mcp sandbox --sandbox-servers ...` serves one
emulator per entry on its own real port and prints the WAHA_SERVERS line; `waha-mcp doctor` on that line checks
each; Ctrl-C stops them all."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.e2e.test_sandbox_mode import sandbox_env
from tests.e2e.test_stdio import EXE
from tests.helpers import data

KEY = "fleet-e2e-key-0123456789"


def _get(url: str, key: str | None = KEY) -> object:
    request = urllib.request.Request(url, headers={"X-Api-Key": key} if key else {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_standalone_fleet_prints_its_servers_and_doctor_checks_each() -> None:
    proc = subprocess.Popen(
        [EXE, "sandbox", "--sandbox-servers", "current,core-2024.10:20ms", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sandbox_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        assert line.startswith("WAHA_SERVERS=a=http://127.0.0.1:"), line
        urls = dict(pair.split("=", 1) for pair in line.removeprefix("WAHA_SERVERS=").split(","))
        assert list(urls) == ["a", "b"] and urls["a"] != urls["b"]
        assert [s["name"] for s in _get(f"{urls['a']}/api/sessions")] == ["a1", "a2"]  # type: ignore[index,union-attr]
        assert _get(f"{urls['b']}/api/server/version", None)["version"] == "2024.10.8"  # type: ignore[index]
        doctor = subprocess.run(
            [EXE, "doctor"],
            env=sandbox_env() | {"WAHA_SERVERS": line.removeprefix("WAHA_SERVERS="), "WAHA_API_KEY": KEY},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert (
            "ok   session    [a] a1: WORKING" in doctor.stdout
            and "ok   session    [b] default: WORKING" in doctor.stdout
        )
        assert "all 2 answered" in doctor.stdout and KEY not in doctor.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    assert code == 0 and "Traceback" not in stderr, stderr
    assert "a fleet of 2" in stderr and "b at http://127.0.0.1:" in stderr and "2024.10.8 CORE, 20 ms" in stderr
    assert "stopped" in stderr


def test_doctor_on_the_in_process_fleet_checks_each_emulator() -> None:
    doctor = subprocess.run(
        [EXE, "doctor", "--sandbox", "--sandbox-servers", "current,x=core-2024.10"],
        env=sandbox_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    out = doctor.stdout
    assert "warn target     built-in sandbox playing 2 WAHA servers" in out
    assert "ok   version    [a] 2026.9.1 tier=PLUS" in out and "ok   version    [x] 2024.10.8 tier=CORE" in out
    assert "ok   session    [a] a1: WORKING" in out and "ok   default    WAHA_SESSION=default (on x)" in out
    assert "plays a fleet of 2 WAHA servers" in doctor.stderr and "x (WAHA 2024.10.8 CORE): default" in doctor.stderr


async def test_a_newcomer_sees_the_fleet_at_work_over_stdio() -> None:
    """`waha-mcp --sandbox --sandbox-servers ...`: one process, three emulators; sessions listed with their server,
    a message received on server b wakes a waiter, a bulk read covers every server."""
    args = ["--sandbox", "--sandbox-servers", "current,current:20ms,core-2024.10", "--toolsets", "all"]
    params = StdioServerParameters(command=EXE, args=args, env=sandbox_env())
    chat = "12025550777@c.us"
    async with Client(params, mode="legacy") as client:
        listed = data(await client.call_tool("waha_list_sessions", {}))
        assert [(s["name"], s["server"]) for s in listed["sessions"]] == [
            ("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b"), ("default", "c"),
        ]  # fmt: skip
        async with anyio.create_task_group() as tg:
            waited: dict[str, Any] = {}

            async def wait() -> None:
                arguments = {"session": "b1", "chat": chat, "text": "from b", "timeout": 10}
                waited.update(data(await client.call_tool("waha_wait_for_message", arguments)))

            tg.start_soon(wait)
            await anyio.sleep(0.3)  # the wait is open before the message arrives
            await client.call_tool("waha_sandbox_receive", {"session": "b1", "chatId": chat, "text": "Hi from b"})
        assert waited["matched"] is True and waited["session"] == "b1" and waited["event"]["text"] == "Hi from b"
        bulk = data(
            await client.call_tool(
                "waha_for_sessions", {"tool": "waha_get_chats", "arguments": {"limit": 1}, "sessions": "working"}
            )
        )
        assert bulk["counts"] == {"ok": 5}
        assert {row["session"] for row in bulk["rows"]} == {"a1", "a2", "b1", "b2", "default"}
