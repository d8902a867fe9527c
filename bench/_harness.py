"""Shared bench plumbing: a minimal line-delimited JSON-RPC client over a child's stdio, the standalone
sandbox in a subprocess, and the commands that start each server.

The client is deliberately tiny (blocking pipe I/O, `json`), so what we time is the server, not an SDK client.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROTOCOL = "2025-06-18"


class ServerError(RuntimeError):
    pass


def waha_mcp_cmd() -> list[str]:
    """The `waha-mcp` console script next to this interpreter (what users run), else `python -m`."""
    script = Path(sys.executable).with_name("waha-mcp")
    if script.exists():
        return [str(script)]
    found = shutil.which("waha-mcp")
    return [found] if found else [sys.executable, "-m", "waha_mcp.cli"]


def bare_cmd(tools: int, *, floor: bool = False) -> list[str]:
    """A bare MCPServer; `floor`: served as waha-mcp serves itself (see bench/bare_server.py)."""
    return [sys.executable, str(BENCH / "bare_server.py"), str(tools), *(["--floor"] if floor else [])]


PYCACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "waha-mcp-bench-pycache"


def child_env() -> dict[str, str]:
    """No `.env` or WAHA_* from the caller's shell leaks into a measured server.

    Bytecode is cached as an installed package's would be, but under PYCACHE rather than in the source tree
    (and even where the caller set PYTHONDONTWRITEBYTECODE, which would make every start recompile waha_mcp).
    Each child gets a SQLite store of its own in a temp dir (removed at exit), never the per-user one: another
    waha-mcp (a newer one, which may have moved its schema on) can be using that. A caller may name another.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHA_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["WAHA_MCP_STORE"] = str(_store_dir() / f"store-{next(_STORES)}.sqlite3")
    return env


_STORES = itertools.count(1)


@functools.cache
def _store_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="waha-mcp-bench-stores-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def cpu_seconds(pid: int) -> float:
    """CPU time process `pid` has used so far, all its threads (schedstat, ns resolution): unlike wall time,
    hardly moved by other load on the machine."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


class StdioServer:
    """One MCP server process spoken to over stdin/stdout, one request at a time."""

    def __init__(self, cmd: list[str], *, stderr: int | None = subprocess.DEVNULL) -> None:
        self.cmd = cmd
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if stderr is None else stderr,
            env=child_env(),
            cwd="/",  # no project `.env` is read
        )
        self._next_id = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self._write({"jsonrpc": "2.0", "method": method} | ({"params": params} if params is not None else {}))

    def request_raw(self, method: str, params: dict[str, Any] | None = None) -> bytes:
        """Send one request and return the raw response line (notifications from the server are skipped)."""
        self._next_id += 1
        wanted = self._next_id
        self._write({"jsonrpc": "2.0", "id": wanted, "method": method} | ({"params": params} if params else {}))
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise ServerError(f"{self.cmd[0]} closed stdout (exit {self.proc.poll()}){self._stderr_tail()}")
            if b'"id":' in line or b'"id" :' in line:
                message = json.loads(line)
                if message.get("id") == wanted:
                    return line

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = json.loads(self.request_raw(method, params))
        if "error" in message:
            raise ServerError(f"{method}: {message['error']}")
        return message["result"]

    def initialize(self) -> dict[str, Any]:
        info = self.request(
            "initialize",
            {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "waha-mcp-bench", "version": "0"}},
        )
        self.notify("notifications/initialized")
        return info

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        out = self.request("tools/call", {"name": name, "arguments": arguments or {}})
        if out.get("isError"):
            text = " ".join(block.get("text", "") for block in out.get("content", []))
            raise ServerError(f"{name} returned isError: {text}")
        return out

    def status_kib(self, field: str) -> int:
        """`VmHWM` (peak RSS), `VmRSS`, ... of the server process, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def _stderr_tail(self) -> str:
        if self.proc.stderr is None or self.proc.poll() is None:
            return ""
        tail = self.proc.stderr.read().decode(errors="replace").strip().splitlines()[-5:]
        return (":\n  " + "\n  ".join(tail)) if tail else ""

    def close(self, timeout: float = 5.0) -> int | None:
        """stdin EOF ends an MCP stdio server; kill it only if it does not go."""
        with contextlib.suppress(OSError):
            if self.proc.stdin:
                self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def __enter__(self) -> StdioServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def standalone_sandbox(timeout: float = 20.0) -> Iterator[str]:
    """`waha-mcp sandbox --port P` in a subprocess on loopback; yields its base URL, stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [*waha_mcp_cmd(), "sandbox", "--host", "127.0.0.1", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        cwd="/",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ServerError(f"the sandbox exited with {proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise ServerError(f"the sandbox did not listen on {port} within {timeout:g} s")
            time.sleep(0.05)
        yield url
    finally:
        stop(proc)


def tool_count(*, sandbox: bool = False) -> int:
    """What `waha-mcp tools --toolsets all` reports (`sandbox`: in sandbox mode, its own toolset included)."""
    done = subprocess.run(
        [*waha_mcp_cmd(), "tools", "--toolsets", "all", *(["--sandbox"] if sandbox else [])],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd="/",
    )
    if done.returncode != 0:
        tail = "\n  ".join(done.stderr.strip().splitlines()[-5:])
        raise ServerError(f"`waha-mcp tools --toolsets all` failed (exit {done.returncode}):\n  {tail}")
    last = done.stdout.strip().splitlines()[-1]  # "N tools, B bytes in tools/list (P per tool)"
    return int(last.split()[0])


def machine() -> dict[str, str]:
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    # The waha_mcp the servers import (PYTHONPATH may point at a snapshot), and its commit.
    src = Path(
        subprocess.run(
            [sys.executable, "-c", "import waha_mcp; print(waha_mcp.__file__)"],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd="/",
        ).stdout.strip()
        or "?"
    ).parent.parent
    # a `git archive` snapshot (see docs/benchmarks.md) carries its commit in a COMMIT file next to src/
    snapshot = src.parent / "COMMIT"
    commit = snapshot.read_text().strip() + " (snapshot)" if snapshot.exists() else "?"
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        ).stdout.strip()
        if dirty:
            commit += f" (+ uncommitted changes in {src})"
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": mem,
        "python": sys.version.split()[0],
        "commit": commit,
        "src": str(src),
        "date": time.strftime("%Y-%m-%d"),
    }


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


class Overtime(RuntimeError):
    pass


def deadline(seconds: int) -> None:
    """Abort the bench (children are stopped on the way out) if it runs longer than `seconds`."""

    def expire(*_: object) -> None:
        raise Overtime(f"the bench ran over its {seconds} s budget")

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


async def timed(n: int, concurrency: int, op: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """(operations per second, client CPU µs per operation) for n calls of op spread over `concurrency` tasks."""
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await op(i)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, cpu / n * 1e6


def stop(proc: subprocess.Popen[Any]) -> None:
    """Ask a child to exit, and kill it if it has not within 5 s."""
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
