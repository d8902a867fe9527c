"""The real `waha-mcp` process with orjson, uvloop and httptools unimportable (as on a platform without them,
e.g. Windows or PyPy): every fallback serves the whole path. Standard-library JSON for WAHA's answers and tool
results, asyncio's own loop, h11 as the HTTP transport's parser, httpx2 as the WAHA client, and the SDK's stdio
where stdout is not a pipe. A fallback that imported its fast module anyway, or broke, fails a call here."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.e2e.test_stdio import EXE, INIT, _rpc, env_for, waha_url  # noqa: F401 - waha_url is a fixture
from tests.e2e.test_stdio_transport import CALL, INITIALIZED, _replies

FAST = ("orjson", "uvloop", "httptools")
# `sys.modules[name] = None`: `import name` raises ImportError and `importlib.util.find_spec(name)` is None, as
# when the package is not installed. The child says which fallbacks it took once it has served.
BOOT = f"""
import atexit, importlib.util, signal, sys
for name in {FAST!r}:
    sys.modules[name] = None
    assert importlib.util.find_spec(name) is None
from waha_mcp import cli, http_limits, jsonfast
from waha_mcp.client.wire import lean_wire

def said():
    used = {{
        "json": "orjson" if jsonfast._orjson else "stdlib" if jsonfast._orjson is False else "unused",
        "loop": cli.event_loop_options(),
        "parser": http_limits.protocol_class().__name__,
        "wire": lean_wire("http://127.0.0.1:1", {{}}, 1.0) is not None,
        "loaded": [name for name in {FAST!r} if sys.modules.get(name) is not None],
    }}
    print("FALLBACKS " + repr(used), file=sys.stderr, flush=True)

atexit.register(said)
# uvicorn re-raises the SIGTERM it stopped on, once its own handler is gone: exit through atexit then.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sys.exit(cli.main(sys.argv[1:]))
"""
EXPECTED = {"json": "stdlib", "loop": {}, "parser": "HeadTimeoutProtocol", "wire": False, "loaded": []}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", BOOT, *args]


def _fallbacks(stderr: str) -> dict:
    found = re.findall(r"^FALLBACKS (.*)$", stderr, re.MULTILINE)
    assert found, stderr
    return ast.literal_eval(found[-1])


def test_the_fast_modules_are_installed_so_the_fallbacks_here_are_forced() -> None:
    """The default install carries them (ordinary dependencies): what this module runs is the fallback, not the
    default path (on a platform without uvloop, its half is the default)."""
    import importlib.util

    missing = [name for name in FAST if importlib.util.find_spec(name) is None]
    if sys.platform == "win32" or sys.implementation.name != "cpython":
        pytest.skip("uvloop is not a dependency here")
    assert missing == []


def test_stdio_over_pipes_without_the_fast_modules(waha_url: str) -> None:  # noqa: F811
    wanted = set(range(1, 10))
    proc = subprocess.Popen(
        _command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(waha_url)
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(_rpc(INIT, INITIALIZED, *(CALL | {"id": n} for n in range(2, 10))))
    proc.stdin.flush()
    replies: dict[int, dict] = {}
    deadline = time.monotonic() + 30
    while not wanted <= set(replies) and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        replies |= _replies(line)
    proc.stdin.close()  # only once all are answered: the SDK's loop drops calls still running at stdin EOF
    assert proc.wait(timeout=20) == 0
    stderr = proc.stderr.read().decode()
    assert wanted <= set(replies), stderr
    assert replies[1]["result"]["serverInfo"]["name"] == "waha-mcp"
    for n in range(2, 10):
        result = replies[n]["result"]
        assert result.get("isError") is not True, result
        assert '"session":"default"' in result["content"][0]["text"]
        assert result["structuredContent"]["session"] == "default"
    assert _fallbacks(stderr) == EXPECTED


def test_the_sdk_stdio_without_the_fast_modules(waha_url: str, tmp_path: Path) -> None:  # noqa: F811
    """stdout a file: not the loop's transport but the SDK's (threads), on asyncio's loop."""
    answers = tmp_path / "out.jsonl"
    with answers.open("wb") as stdout:
        proc = subprocess.Popen(
            _command(), stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.PIPE, env=env_for(waha_url)
        )
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(_rpc(INIT, INITIALIZED, CALL | {"id": 2}))
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        replies: dict[int, dict] = {}
        while 2 not in replies and time.monotonic() < deadline:
            time.sleep(0.05)
            raw = answers.read_bytes()
            replies = _replies(raw[: raw.rfind(b"\n") + 1])
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
        stderr = proc.stderr.read().decode()
    assert '"session":"default"' in replies[2]["result"]["content"][0]["text"], stderr
    assert _fallbacks(stderr) == EXPECTED


def test_streamable_http_without_the_fast_modules(waha_url: str) -> None:  # noqa: F811
    proc = subprocess.Popen(
        _command("serve", "--http", "--stateless", "--host", "127.0.0.1", "--port", "0"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env_for(waha_url),
    )
    assert proc.stderr is not None
    try:
        line = proc.stderr.readline().decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+/mcp)", line)
        assert match, line
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "MCP-Protocol-Version": INIT["params"]["protocolVersion"],
        }
        with httpx2.Client(timeout=30) as http:
            base = match.group(1).removesuffix("/mcp")
            for _ in range(200):  # the socket is bound before the line is printed, served a moment later
                try:
                    if http.get(base + "/healthz").status_code == 200:
                        break
                except httpx2.ConnectError:
                    pass
                time.sleep(0.05)
            for n in range(2, 6):  # several on one keep-alive connection: h11's connection reuse too
                response = http.post(match.group(1), json=CALL | {"id": n}, headers=headers)
                assert response.status_code == 200, response.text
                body = response.text
                if body.startswith("event:") or "\ndata:" in body or body.startswith("data:"):
                    body = next(x[5:].strip() for x in body.splitlines() if x.startswith("data:"))
                result = json.loads(body)["result"]
                assert result.get("isError") is not True, result
                assert result["structuredContent"]["session"] == "default"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    stderr = line + proc.stderr.read().decode()
    assert _fallbacks(stderr) == EXPECTED, stderr
    assert "Traceback" not in stderr, stderr


def test_the_child_really_runs_without_them() -> None:
    """The blocker itself: a child told to import orjson fails, so the runs above cannot be the fast path."""
    script = BOOT.split("from waha_mcp")[0] + "import orjson\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, env=dict(os.environ), timeout=30)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr.decode() or "ModuleNotFoundError" in proc.stderr.decode()
