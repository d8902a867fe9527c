"""The stdio transport on the event loop (waha_mcp.stdio) and its fallback to the SDK's when stdin/stdout are
not pipes: both serve the same protocol; only protocol reaches the wire."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio

from tests.e2e.test_stdio import EXE, INIT, _rpc, env_for, waha_url  # noqa: F401 - waha_url is a fixture
from waha_mcp import stdio
from waha_mcp.server import WahaMCP

CALL = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "waha_get_session", "arguments": {}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def _replies(raw: bytes) -> dict[int, dict]:
    out = {}
    for line in raw.splitlines():
        message = json.loads(line)  # every line on stdout is a JSON-RPC message
        assert message["jsonrpc"] == "2.0"
        if "id" in message:
            out[message["id"]] = message
    return out


def test_pipes_are_served_on_the_loop_and_files_are_not(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    regular = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    try:

        async def check() -> tuple[bool, bool, bool]:
            return stdio.usable(read_end, write_end), stdio.usable(regular, write_end), stdio.usable(read_end, regular)

        assert anyio.run(check) == (True, False, False)
        assert stdio.usable(read_end, write_end) is False  # no running event loop
    finally:
        for fd in (read_end, write_end, regular):
            os.close(fd)


def _serve_until(
    wanted: set[int], messages: bytes, url: str, stdout: Any = subprocess.PIPE, out: Path | None = None
) -> dict:
    """Send `messages`, keep stdin open until every id in `wanted` is answered (the SDK's server loop answers
    calls still running at stdin EOF with "Connection closed"), then close it: the server exits 0."""
    proc = subprocess.Popen([EXE], stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.PIPE, env=env_for(url))
    assert proc.stdin is not None
    proc.stdin.write(messages)
    proc.stdin.flush()
    replies: dict[int, dict] = {}
    raw = b""
    deadline = time.monotonic() + 30
    while not wanted <= set(replies) and time.monotonic() < deadline:
        if out is None:
            assert proc.stdout is not None
            raw += proc.stdout.readline()
        else:
            time.sleep(0.05)
            raw = out.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        replies = _replies(complete)
    proc.stdin.close()
    assert proc.wait(timeout=20) == 0, proc.stderr.read().decode() if proc.stderr else ""
    return replies


def test_stdout_as_a_file_falls_back_to_the_sdk_transport(waha_url: str, tmp_path: Path) -> None:  # noqa: F811
    answers = tmp_path / "out.jsonl"
    with answers.open("wb") as stdout:
        replies = _serve_until({1, 2}, _rpc(INIT, INITIALIZED, CALL | {"id": 2}), waha_url, stdout, answers)
    assert replies[1]["result"]["serverInfo"]["name"] == "waha-mcp"
    assert '"session":"default"' in replies[2]["result"]["content"][0]["text"]


def test_stdin_as_a_file_falls_back_to_the_sdk_transport(waha_url: str, tmp_path: Path) -> None:  # noqa: F811
    requests = tmp_path / "in.jsonl"
    requests.write_bytes(_rpc(INIT))
    with requests.open("rb") as stdin:
        proc = subprocess.run([EXE], stdin=stdin, capture_output=True, env=env_for(waha_url), timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    replies = _replies(proc.stdout)
    assert replies[1]["result"]["serverInfo"]["name"] == "waha-mcp"
    # Only the handshake: the SDK's server loop may drop what is still running when the file ends.
    assert set(replies) == {1}


def test_many_calls_in_flight_and_a_long_line_over_pipes(waha_url: str) -> None:  # noqa: F811
    calls = [CALL | {"id": n} for n in range(2, 34)]
    # One line far past asyncio's 64 KiB default line limit: refused by argument checks, but read whole.
    long = {"jsonrpc": "2.0", "id": 99, "method": "tools/call"}
    long["params"] = {"name": "waha_get_session", "arguments": {"session": "x" * 300_000}}
    replies = _serve_until({1, 99, *range(2, 34)}, _rpc(INIT, INITIALIZED, *calls, long), waha_url)
    assert all('"session":"default"' in replies[n]["result"]["content"][0]["text"] for n in range(2, 34))
    assert replies[99]["result"]["isError"] is True
    assert "invalid session name" in replies[99]["result"]["content"][0]["text"]


async def test_the_loop_transport_keeps_stray_output_off_the_wire(server: WahaMCP) -> None:
    """While serving, the fd numbers it was given point elsewhere (stdout → stderr), as the SDK's transport does;
    afterwards they are the wire again."""
    to_server_r, to_server_w = os.pipe()
    from_server_r, from_server_w = os.pipe()
    os.write(to_server_w, _rpc(INIT))
    lowlevel = server._lowlevel_server
    try:
        async with stdio.loop_stdio(to_server_r, from_server_w) as (read_stream, write_stream):
            os.write(from_server_w, b"stray output\n")  # fd number of the wire: now stderr
            async with anyio.create_task_group() as group:
                group.start_soon(lowlevel.run, read_stream, write_stream, lowlevel.create_initialization_options())
                await anyio.sleep(0)
                reply = b""
                with anyio.fail_after(10):
                    while not reply.endswith(b"\n"):
                        await anyio.wait_readable(from_server_r)
                        reply += os.read(from_server_r, 65536)
                os.close(to_server_w)  # EOF: the server loop ends
                to_server_w = -1
        assert json.loads(reply)["id"] == 1  # the reply only, no stray bytes before it
        os.write(from_server_w, b"after\n")  # restored: the number is the wire again
        assert os.read(from_server_r, 100) == b"after\n"
        assert os.get_blocking(from_server_w) and os.get_blocking(to_server_r)
    finally:
        for fd in (to_server_r, to_server_w, from_server_r, from_server_w):
            if fd >= 0:
                os.close(fd)


def test_a_client_that_closes_our_stdout_ends_the_server(waha_url: str) -> None:  # noqa: F811
    proc = subprocess.Popen(
        [EXE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(waha_url)
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(_rpc(INIT))
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["id"] == 1
    proc.stdout.close()
    proc.stdin.write(_rpc(INITIALIZED, CALL | {"id": 2}))
    proc.stdin.flush()
    proc.stdin.close()
    assert proc.wait(timeout=20) is not None
    assert b"Traceback" not in proc.stderr.read()
