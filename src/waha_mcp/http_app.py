"""The HTTP app is a router: `/mcp` (the SDK's Streamable HTTP app) behind the bearer token, `/healthz`
open; a webhook route with its own authentication (HMAC) gets its own entry here."""

from __future__ import annotations

import hmac

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from waha_mcp.config import ConfigError, Settings, is_loopback
from waha_mcp.server import WahaMCP


class BearerAuth:
    """Rejects HTTP requests without `Authorization: Bearer <token>` (constant-time compare)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token.strip():
            raise ValueError("BearerAuth needs a non-empty token")
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"authorization", b"")
            scheme, _, given = header.partition(b" ")
            given = given.strip()
            if scheme.lower() != b"bearer" or not given or not hmac.compare_digest(given, self._token):
                await _reply(send, 401, b'{"error":"unauthorized: send Authorization: Bearer <WAHA_MCP_AUTH_TOKEN>"}')
                return
        await self.app(scope, receive, send)


async def _reply(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def check_http_settings(settings: Settings) -> None:
    """A non-loopback bind without a token is refused before anything listens."""
    if not is_loopback(settings.http_host) and settings.auth_token is None:
        raise ConfigError(
            f"refusing to listen on {settings.http_host} without WAHA_MCP_AUTH_TOKEN: set a token or bind 127.0.0.1"
        )


def security_settings(settings: Settings) -> TransportSecuritySettings:
    host = settings.http_host
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if not is_loopback(host) and host not in ("0.0.0.0", "::"):
        hosts.append(f"{host}:*")
        origins += [f"http://{host}:*", f"https://{host}:*"]
    hosts += settings.allowed_hosts
    origins += settings.allowed_origins
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


async def health(_: Request) -> JSONResponse:
    """Liveness for load balancers; says nothing about WAHA (that is `waha-mcp doctor`)."""
    return JSONResponse({"ok": True})


def build_http_app(server: WahaMCP, settings: Settings) -> Starlette:
    check_http_settings(settings)
    mcp_app = server.streamable_http_app(
        stateless_http=settings.http_stateless,
        transport_security=security_settings(settings),
        host=settings.http_host,
    )
    protected: ASGIApp = mcp_app
    if settings.auth_token is not None:
        protected = BearerAuth(mcp_app, settings.auth_token.get_secret_value())
    routes = [Route("/healthz", health, methods=["GET"]), Mount("/", app=protected)]
    # The SDK app's lifespan runs the session manager; a mounted app's lifespan would not run by itself.
    return Starlette(routes=routes, lifespan=mcp_app.router.lifespan_context)
