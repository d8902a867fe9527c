"""The other CLI commands: call, tools, doctor, coverage, each as a real process."""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.test_stdio import env_for
from waha_mcp.cli import build_parser

EXE = str(Path(sys.executable).with_name("waha-mcp"))


def run(*args: str, url: str = "http://127.0.0.1:9") -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env_for(url), timeout=60)


def test_call_prints_the_result_and_exits_0() -> None:
    proc = run("call", "waha_list_sessions", "{}", "--sandbox")
    assert proc.returncode == 0, proc.stderr
    assert {s["name"] for s in json.loads(proc.stdout)["sessions"]} == {"default", "business"}
    assert "SANDBOX" in proc.stderr
    # A client that starts one process per call loses what the last one did: the banner says so.
    assert "lasts as long as this process" in proc.stderr and "serve --http --sandbox" in proc.stderr


def test_call_exits_non_zero_on_an_error_result() -> None:
    proc = run("call", "waha_get_session", '{"session": "ghost"}', "--sandbox")
    assert proc.returncode == 1
    assert "does not exist" in proc.stdout


def test_call_rejects_arguments_that_are_not_a_json_object() -> None:
    proc = run("call", "waha_get_session", "[1]", "--sandbox")
    assert proc.returncode == 2 and "JSON object" in proc.stderr


def test_tools_lists_what_the_model_sees_with_its_size() -> None:
    proc = run("tools", "--toolsets", "sessions", "--read-only")
    assert proc.returncode == 0
    assert "waha_get_session" in proc.stdout and "waha_delete_session" not in proc.stdout
    assert "bytes in tools/list" in proc.stdout


def test_doctor_on_the_sandbox_gives_a_verdict_per_line() -> None:
    proc = run("doctor", "--sandbox")
    assert proc.returncode == 0, proc.stdout
    assert "warn sandbox" in proc.stdout and "nothing reaches WhatsApp" in proc.stdout
    assert "ok   reachable" in proc.stdout and "session" in proc.stdout


def test_doctor_fails_clearly_when_waha_is_down() -> None:
    proc = run("doctor")
    assert proc.returncode == 1
    assert "FAIL reachable" in proc.stdout and "cannot connect" in proc.stdout


def test_coverage_lists_operations_and_totals() -> None:
    proc = run("coverage")
    assert proc.returncode == 0
    assert "GET /api/sessions" in proc.stdout and "waha_list_sessions" in proc.stdout
    assert "non-deprecated operations covered" in proc.stdout


def test_http_on_a_public_address_without_token_refuses_to_start() -> None:
    proc = run("serve", "--http", "--host", "0.0.0.0", "--port", "0", "--sandbox")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "WAHA_MCP_AUTH_TOKEN" in proc.stderr


def test_the_sandbox_profile_is_chosen_by_flag_or_setting() -> None:
    by_flag = run("call", "waha_get_server_info", "{}", "--sandbox", "--sandbox-profile", "core-2024.10")
    assert by_flag.returncode == 0, by_flag.stderr
    assert json.loads(by_flag.stdout)["version"] == "2024.10.8" and "2024.10.8 CORE" in by_flag.stderr
    env = env_for("http://127.0.0.1:9") | {"WAHA_MCP_SANDBOX": "true", "WAHA_MCP_SANDBOX_PROFILE": "core-2024.10"}
    by_setting = subprocess.run(
        [EXE, "call", "waha_list_sessions", "{}"], capture_output=True, text=True, env=env, timeout=60
    )
    assert [s["name"] for s in json.loads(by_setting.stdout)["sessions"]] == ["default"]
    wrong = run("call", "waha_list_sessions", "{}", "--sandbox", "--sandbox-profile", "2019")
    assert wrong.returncode == 2 and "WAHA_MCP_SANDBOX_PROFILE" in wrong.stderr and "core-2024.10" in wrong.stderr


def test_output_cut_short_by_a_closed_pipe_ends_quietly() -> None:
    """`waha-mcp tools | head -1`: the reader goes away; no BrokenPipe traceback."""
    for args in (["tools", "--toolsets", "all"], ["coverage"]):
        proc = subprocess.Popen(
            [EXE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for("http://127.0.0.1:9")
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # before it writes anything: every write meets a closed pipe
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
        assert "Traceback" not in err and "BrokenPipe" not in err, err
        assert proc.returncode != 0


def test_a_port_in_use_is_one_line_naming_the_setting() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run("serve", "--http", "--sandbox", "--port", str(port))
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("waha-mcp: SANDBOX")]
    assert len(lines) == 1 and f"port {port}" in lines[0] and "--port" in lines[0] and "WAHA_MCP_PORT" in lines[0]
    assert "Streamable HTTP on" not in proc.stderr


def test_every_option_says_what_it_does() -> None:
    parser = build_parser()
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parsers = [parser, *(p for sub in subparsers for p in sub.choices.values())]
    missing = [
        f"{p.prog} {'/'.join(action.option_strings)}"
        for p in parsers
        for action in p._actions
        if action.option_strings and not action.help
    ]
    assert not missing


def test_stdio_in_a_terminal_says_it_waits_for_an_mcp_client() -> None:
    """`waha-mcp --sandbox` typed at a shell: one line on stderr says what it is waiting for."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [EXE, "--sandbox"], stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for("http://x")
    )
    os.close(follower)
    seen = b""
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 20
        while b"MCP client" not in seen and time.monotonic() < deadline:
            if select.select([proc.stderr], [], [], 0.2)[0]:
                chunk = os.read(proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        os.close(leader)
    hint = [line for line in seen.decode().splitlines() if "MCP client" in line]
    assert len(hint) == 1 and "stdin" in hint[0] and "serve --http" in hint[0], seen
