"""Run the sandbox under uvicorn, with real connection resets for `drop` faults."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import Sandbox

if TYPE_CHECKING:
    from waha_mcp.servers import SandboxEntry

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

FLEET_BANNER = (
    "waha-mcp sandbox: a fleet of {count} WAHA HTTP API emulators on {host}, one port each — NOT WhatsApp. "
    "No messages leave this process; sessions, chats and contacts are fake."
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


class _Quiet(uvicorn.Server):
    """One server of a fleet: the fleet runner owns SIGINT/SIGTERM and stops them all together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listen_fleet(host: str, port: int, count: int) -> list[socket.socket]:
    """Sockets for `count` servers: `port`, `port + 1`, ... (each its own ephemeral port when `port` is 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound: list[socket.socket] = []
    try:
        for n in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port + n if port else 0))
            sock.listen(2048)  # connections wait in the backlog from now on: the printed line is usable at once
    except OSError:
        for sock in bound:
            sock.close()
        raise
    return bound


def fleet_line(names: list[str], host: str, sockets: list[socket.socket]) -> str:
    """The `WAHA_SERVERS=...` setting that points waha-mcp at this fleet."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    return "WAHA_SERVERS=" + ",".join(
        f"{name}=http://{shown}:{sock.getsockname()[1]}" for name, sock in zip(names, sockets, strict=True)
    )


def serve_fleet(
    entries: Sequence[SandboxEntry],
    host: str = "127.0.0.1",
    port: int = 3000,
    api_key: str | None = None,
    sessions: int = 2,
    *,
    time_factor: float = 1.0,
) -> None:
    """Run one sandbox per entry, each on its own port, until interrupted; print the WAHA_SERVERS line to use."""
    from .fleet import build_fleet, describe

    fleet = build_fleet(entries, api_key=api_key, sessions=sessions, time_factor=time_factor)
    sockets = listen_fleet(host, port, len(fleet))
    print(FLEET_BANNER.format(count=len(fleet), host=host), file=sys.stderr)
    line = fleet_line(list(fleet), host, sockets)
    urls = [pair.partition("=")[2] for pair in line.removeprefix("WAHA_SERVERS=").split(",")]
    for (name, sandbox), url in zip(fleet.items(), urls, strict=True):
        print(f"waha-mcp sandbox: {describe(name, sandbox, url)}", file=sys.stderr)
    if api_key:
        print("waha-mcp sandbox: X-Api-Key required (except by Core 2024.10, which checks none)", file=sys.stderr)
    # The line to copy (stdout, so a script can take it): every server then shares WAHA_API_KEY.
    print(line, flush=True)
    sys.stderr.flush()
    servers = [_Quiet(make_config(sandbox, host, 0, log_level="warning")) for sandbox in fleet.values()]

    async def run() -> None:
        loop = asyncio.get_running_loop()

        def stop() -> None:
            for server in servers:
                server.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in zip(servers, sockets, strict=True)))

    try:
        asyncio.run(run())
    finally:
        for sock in sockets:
            sock.close()
    print("waha-mcp sandbox: stopped", file=sys.stderr, flush=True)
