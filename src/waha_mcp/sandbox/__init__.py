"""waha-mcp sandbox: a faithful WAHA 2026.x emulator (not WhatsApp) for trying and testing waha-mcp.

from waha_mcp.sandbox import Sandbox, sandbox_transport
sb = Sandbox(api_key="k")
client = httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox")
"""

from __future__ import annotations

from typing import Any

from .app import RecordedRequest, Sandbox, SandboxApp, SandboxStateError
from .faults import DropConnection, FaultRule, Faults
from .transport import sandbox_transport


def create_app(**kwargs: Any) -> SandboxApp:
    """`Sandbox(**kwargs).app` (the sandbox is at `app.state.sandbox`)."""
    return Sandbox(**kwargs).app


def serve(*args: Any, **kwargs: Any) -> None:
    """`runner.serve`: run a sandbox on a socket until interrupted (uvicorn is imported only then)."""
    from .runner import serve as run

    run(*args, **kwargs)


__all__ = [
    "DropConnection",
    "FaultRule",
    "Faults",
    "RecordedRequest",
    "Sandbox",
    "SandboxApp",
    "SandboxStateError",
    "create_app",
    "sandbox_transport",
    "serve",
]
