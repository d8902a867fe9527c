"""Run the sandbox under uvicorn, with real connection resets for `drop` faults."""

from __future__ import annotations

import asyncio
import contextvars
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import Sandbox

# The connection a request arrived on; request tasks copy the context at creation, so the app can
# find its own socket to reset it.
_TRANSPORT: contextvars.ContextVar[asyncio.Transport | None] = contextvars.ContextVar(
    "waha_sandbox_transport", default=None
)

BANNER = (
    "waha-mcp sandbox: a WAHA HTTP API emulator on http://{host}:{port} — NOT WhatsApp. "
    "No messages leave this process; sessions, chats and contacts are fake. "
    "Pair a session with POST /__sandbox/<session>/scan."
)


def current_transport() -> asyncio.Transport | None:
    return _TRANSPORT.get()


class DroppableH11Protocol(H11Protocol):
    def data_received(self, data: bytes) -> None:
        token = _TRANSPORT.set(self.transport)
        try:
            super().data_received(data)
        finally:
            _TRANSPORT.reset(token)


def make_config(sandbox: Sandbox, host: str, port: int, **kwargs: Any) -> uvicorn.Config:
    return uvicorn.Config(sandbox.app, host=host, port=port, http=DroppableH11Protocol, lifespan="off", **kwargs)


def serve(
    host: str = "127.0.0.1",
    port: int = 3000,
    api_key: str | None = None,
    sessions: int = 2,
    *,
    profile: str = "current",
    time_factor: float = 1.0,
) -> None:
    """Run a sandbox until interrupted (used by `waha-mcp sandbox` and `python -m waha_mcp.sandbox`)."""
    sandbox = Sandbox(api_key=api_key, sessions=sessions, profile=profile, time_factor=time_factor)
    print(BANNER.format(host=host, port=port), file=sys.stderr, flush=True)
    timing = "" if time_factor == 1 else f" (waits x{time_factor:g})"
    print(f"waha-mcp sandbox: plays {sandbox.profile.summary}{timing}", file=sys.stderr, flush=True)
    if api_key and sandbox.keyed:
        print("waha-mcp sandbox: X-Api-Key required on every route except GET /ping", file=sys.stderr, flush=True)
    elif api_key:
        print("waha-mcp sandbox: this WAHA checks no API key (Core before 2026.6)", file=sys.stderr, flush=True)
    try:
        uvicorn.Server(make_config(sandbox, host, port, log_level="warning")).run()
    except KeyboardInterrupt:
        pass  # Ctrl-C: uvicorn has shut down; a traceback would only alarm the newcomer
    print("waha-mcp sandbox: stopped", file=sys.stderr, flush=True)
