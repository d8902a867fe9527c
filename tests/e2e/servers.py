"""Servers on a real loopback socket for end-to-end tests: ASGI apps, the sandbox, and a raw HTTP server that
answers exactly the bytes a test gives it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.runner import make_config


@contextmanager
def serving(app: Any, host: str = "127.0.0.1", **options: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread; yields its base URL; stops on exit. `options` go to uvicorn."""
    # Port 0: the kernel picks a free port at bind time, so parallel test workers never race for one.
    config = {"host": host, "log_level": "error", **options, "port": 0, "lifespan": "on"}
    server = uvicorn.Server(uvicorn.Config(app, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def another_host(body: bytes, mimetype: str) -> Iterator[tuple[str, list[str]]]:
    """A host that is not WAHA, serving `body` at every path: its base URL and the paths it was asked for (a URL
    there that an MCP server refuses must leave the list empty; fetched, it would have worked)."""

    asked: list[str] = []

    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        asked.append(scope["path"])
        headers = [(b"content-type", mimetype.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    with serving(app) as url:
        yield url, asked


@asynccontextmanager
async def sandbox_on_socket(sandbox: Sandbox) -> AsyncIterator[str]:
    """Serve `sandbox` on a loopback socket in the running event loop (uvicorn, with the real connection resets
    of `drop` faults); yields its base URL."""
    server = uvicorn.Server(make_config(sandbox, "127.0.0.1", 0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def ok(body: bytes = b"[]", *extra: str) -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        head.encode(),
        len(body),
        body,
    )


Answerer = Callable[[bytes], Any]  # the request's bytes → bytes to write (or a coroutine for slow answers)


@dataclass
class RawServer:
    """A loopback HTTP server that reads each request whole and writes what `answer` returns, nothing else."""

    answer: Answerer
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    close_after_answer: bool = False
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + (await reader.readexactly(length) if length else b"")
                self.requests.append(request)
                out = self.answer(request)
                if asyncio.iscoroutine(out):
                    out = await out
                if out is None:  # drop without answering
                    writer.transport.abort()
                    return
                writer.write(out)
                try:
                    await writer.drain()
                except ConnectionError:  # the client left mid-answer (an answer over its cap)
                    return
                if self.close_after_answer:
                    writer.close()
                    return
        finally:
            self.open_now -= 1


@asynccontextmanager
async def raw_server(answer: Answerer, **options: Any) -> AsyncIterator[RawServer]:
    state = RawServer(answer, **options)
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield state
    finally:
        server.close()
