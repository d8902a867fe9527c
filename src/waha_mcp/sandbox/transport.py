"""In-process transport to a sandbox that behaves like a socket when a fault drops the connection."""

from __future__ import annotations

from typing import Any

import httpx2

from .faults import DropConnection


class SandboxTransport(httpx2.AsyncBaseTransport):
    def __init__(self, app: Any) -> None:
        self._inner = httpx2.ASGITransport(app=app)
        self.sandbox = getattr(app, "sandbox", None)  # the emulator itself, for the `sandbox` toolset

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._inner.handle_async_request(request)
        except DropConnection as exc:
            # What httpx raises when a real server resets or refuses the connection.
            if exc.phase == "connect":
                raise httpx2.ConnectError("[Errno 111] Connection refused (sandbox fault)", request=request) from None
            raise httpx2.ReadError("[Errno 104] Connection reset by peer (sandbox fault)", request=request) from None

    async def aclose(self) -> None:
        await self._inner.aclose()


def sandbox_transport(sandbox_or_app: Any) -> httpx2.AsyncBaseTransport:
    """A transport for `httpx2.AsyncClient(transport=..., base_url="http://sandbox")`."""
    app = getattr(sandbox_or_app, "app", sandbox_or_app)
    return SandboxTransport(app)
