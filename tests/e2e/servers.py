"""Running ASGI apps on a real loopback socket for end-to-end tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
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
