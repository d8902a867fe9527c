"""Real replicas for end-to-end tests: `waha-mcp serve --http` processes on one PostgreSQL schema, all pointed at
one sandbox served on a real loopback socket (the runner's uvicorn config) in a thread of its own, so every replica
sees the same WAHA world, the test reads what that WAHA received and emitted, and the arrival times it records are
not held up by the test's own client work. Events are injected through the sandbox's control endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.events.test_kill import EXE, free_port
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.app import RecordedRequest
from waha_mcp.sandbox.events_ws import streams
from waha_mcp.sandbox.runner import make_config

ROOT = Path(__file__).resolve().parents[2]
STATE_KEY = "replicas-e2e-state-key-0123456789abcdef"


@dataclass
class Replica:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def client(self, http: httpx2.AsyncClient, mode: str = "auto", handler: Any = None) -> Client:
        return Client(streamable_http_client(f"{self.url}/mcp", http_client=http), mode=mode, message_handler=handler)


@dataclass
class World:
    """One sandbox (the shared WAHA) and the replicas started against it."""

    sandbox: Sandbox | None  # None: in a process of its own (`timed_world`)
    waha: str
    dsn: str
    tmp: Path
    replicas: list[Replica] = field(default_factory=list)

    def start(self, *, stateless: bool = True, **env: str) -> Replica:
        port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("WAHA_")}
        env = (
            base
            | {
                "WAHA_BASE_URL": self.waha,
                "WAHA_SESSION": "default",
                "WAHA_TOOLSETS": "all",
                "WAHA_MCP_STORE": self.dsn,
                "WAHA_MCP_STATE_KEY": STATE_KEY,
                "WAHA_MCP_PORT": str(port),
            }
            | env
        )
        log = self.tmp / f"replica-{len(self.replicas)}.log"
        argv = [EXE, "serve", "--http", *(["--stateless"] if stateless else [])]
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, env=env, stderr=out, stdout=subprocess.DEVNULL)
        replica = Replica(proc, f"http://127.0.0.1:{port}", log)
        self.replicas.append(replica)
        return replica

    async def ready(self, *replicas: Replica, streams_open: int = 0) -> None:
        """Each replica answers /healthz 200, and the sandbox has `streams_open` /ws streams (the ws consumers)."""
        deadline = time.monotonic() + 30
        async with httpx2.AsyncClient(timeout=5) as http:
            for replica in replicas:
                await healthy(http, replica.url, deadline, replica)
        while streams_open and self.sandbox is not None and len(streams(self.sandbox).open) < streams_open:
            assert time.monotonic() < deadline, "the replicas' /ws consumers did not connect"
            await asyncio.sleep(0.05)

    def sent(self, path: str = "/api/sendText") -> Callable[[], list[tuple[RecordedRequest, float]]]:
        """Each request to `path` as WAHA received it, with its arrival time (monotonic)."""
        seen: list[tuple[RecordedRequest, float]] = []

        def hook(request: RecordedRequest) -> None:
            if request.path == path:
                seen.append((request, time.monotonic()))

        assert self.sandbox is not None
        self.sandbox.on_request.append(hook)
        return lambda: seen

    def stop(self) -> None:
        for replica in self.replicas:
            if replica.proc.poll() is None:
                replica.proc.kill()
            replica.proc.wait(10)

    async def inbound(self, http: httpx2.AsyncClient, text: str, chat: str, session: str = "default") -> None:
        answer = await http.post(f"{self.waha}/__sandbox/{session}/inbound", json={"chatId": chat, "text": text})
        assert answer.status_code == 201, answer.text

    async def stored_ids(self) -> list[str]:
        """Every event id in the shared inbox (PostgreSQL, read directly), gap markers included."""
        import asyncpg

        db = await asyncpg.connect(self.dsn)
        try:
            return [row["id"] for row in await db.fetch("SELECT id FROM inbox_events ORDER BY seq")]
        finally:
            await db.close()


@contextmanager
def sandbox_thread(sandbox: Sandbox) -> Iterator[str]:
    """The sandbox under the runner's uvicorn config, in a thread (its own event loop); yields its base URL."""
    server = uvicorn.Server(make_config(sandbox, "127.0.0.1", 0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the sandbox did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def world(dsn: str, tmp: Path, sessions: int = 2) -> AsyncIterator[World]:
    sandbox = Sandbox(sessions=sessions)
    with sandbox_thread(sandbox) as waha:
        found = World(sandbox, waha, dsn, tmp)
        try:
            yield found
        finally:
            found.stop()


@asynccontextmanager
async def timed_world(dsn: str, tmp: Path) -> AsyncIterator[tuple[World, Callable[[], list[dict[str, Any]]]]]:
    """A world whose sandbox runs in a process of its own (tests/e2e/sandbox_proc.py), so the arrival times of
    the sends it logs are not held up by this process's clients; yields it and a reader of that log."""
    port, log = free_port(), tmp / "sends.jsonl"
    argv = [sys.executable, "-m", "tests.e2e.sandbox_proc", str(port), str(log)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waha = f"http://127.0.0.1:{port}"
    found = World(None, waha, dsn, tmp)
    try:
        async with httpx2.AsyncClient(timeout=5) as http:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
                with contextlib.suppress(httpx2.TransportError):
                    if (await http.get(f"{waha}/ping")).status_code == 200:
                        break
                await asyncio.sleep(0.05)

        def sends() -> list[dict[str, Any]]:
            return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

        yield found, sends
    finally:
        found.stop()
        proc.terminate()
        proc.wait(10)


async def healthy(http: httpx2.AsyncClient, url: str, deadline: float, replica: Replica | None = None) -> None:
    """Wait until `url`'s /healthz answers 200 (failing with the replica's log if its process died)."""
    while True:
        if replica is not None:
            assert replica.proc.poll() is None, replica.log.read_text()[-2000:]
        try:
            if (await http.get(f"{url}/healthz")).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not start"
        await asyncio.sleep(0.05)
