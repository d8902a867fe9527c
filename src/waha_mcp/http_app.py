"""The HTTP app is a router: `/mcp` (the SDK's Streamable HTTP app) behind the bearer token, `/healthz`
open; the webhook route (only with WAHA_MCP_EVENTS=webhook) has its own authentication (events/webhook.py)."""

from __future__ import annotations

import hmac
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from waha_mcp.config import ConfigError, Settings, is_loopback
from waha_mcp.events.background import running
from waha_mcp.events.webhook import PATH as WEBHOOK_PATH
from waha_mcp.events.webhook import WebhookReceiver, handles, receiver_for
from waha_mcp.http_limits import server_limits
from waha_mcp.server import WahaMCP
from waha_mcp.store import is_postgres


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
    if settings.http_stateless and is_postgres(settings.store) and settings.state_key is None:
        # Stateless on a shared store means replicas behind a balancer: a confirmation sealed with one process's
        # own key would be refused by every other replica it reaches.
        raise ConfigError(
            "stateless HTTP on a PostgreSQL store (replicas) needs WAHA_MCP_STATE_KEY, the same on every replica, so"
            " a confirmation asked by one can be answered through another: python -c 'import secrets;"
            " print(secrets.token_urlsafe(32))'"
        )


WILDCARD_BINDS = frozenset({"0.0.0.0", "::", "[::]"})


def security_settings(settings: Settings) -> TransportSecuritySettings:
    """The `Host` and `Origin` values accepted (DNS-rebinding protection): loopback names, the bound address,
    and, on a wildcard bind (0.0.0.0, ::), this machine's names; a reverse proxy's public name is the operator's
    to add (WAHA_MCP_ALLOWED_HOSTS), as nothing here can know it."""
    host = settings.http_host
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if host in WILDCARD_BINDS:
        names = machine_names()
    elif not is_loopback(host):
        names = [f"[{host}]" if ":" in host and not host.startswith("[") else host]
    else:
        names = []
    for name in names:
        hosts += [name, f"{name}:*"]
        origins += [f"{scheme}://{name}{port}" for scheme in ("http", "https") for port in ("", ":*")]
    hosts += settings.allowed_hosts
    origins += settings.allowed_origins
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def machine_names() -> list[str]:
    """This machine's host name and fully qualified name (as given and in lower case), without loopback names."""
    found: list[str] = []
    for lookup in (socket.gethostname, socket.getfqdn):
        try:
            name = lookup().strip().rstrip(".")
        except OSError:
            continue
        for spelling in (name, name.lower()):
            if spelling and spelling.lower() != "localhost" and not is_loopback(spelling):
                found.append(spelling)
    return list(dict.fromkeys(found))


SDK_BODY_LIMIT = 4 * 1024 * 1024
MCP_PATH = "/mcp"  # the SDK app's endpoint (its default `streamable_http_path`)


def request_body_limit(settings: Settings) -> int:
    """Room for the largest media a tool accepts as base64 (4/3 of WAHA_MCP_MAX_MEDIA_BYTES) plus the rest of
    the call; never below the SDK's own 4 MiB."""
    return max(SDK_BODY_LIMIT, -(-settings.max_media_bytes * 4 // 3) + 64 * 1024)


def health_for(server: WahaMCP) -> Any:
    async def health(_: Request) -> JSONResponse:
        """Readiness for load balancers: the store answers (a replica whose PostgreSQL is gone says so, 503, and
        is taken out of rotation until it is back). Says nothing about WAHA (that is `waha-mcp doctor`)."""
        problem = await server.store().ready()
        if problem is not None:
            return JSONResponse({"ok": False, "store": problem}, status_code=503)
        return JSONResponse({"ok": True})

    return health


NO_OAUTH = {"error": "this server does not do OAuth: send Authorization: Bearer <WAHA_MCP_AUTH_TOKEN>"}


async def no_oauth(_: Request) -> JSONResponse:
    """OAuth discovery (RFC 9728, RFC 8414, OpenID) finds nothing: a 404 without a challenge, so clients fall back
    to the bearer token instead of starting an OAuth flow that cannot succeed."""
    return JSONResponse(NO_OAUTH, status_code=404)


def build_http_app(server: WahaMCP, settings: Settings) -> Starlette:
    check_http_settings(settings)
    mcp_app = server.streamable_http_app(
        stateless_http=settings.http_stateless,
        transport_security=security_settings(settings),
        host=settings.http_host,
        max_sessions=settings.http_max_sessions,
        session_idle_timeout=settings.http_session_idle,
        max_request_body_size=request_body_limit(settings),
        streamable_http_path=MCP_PATH,
    )
    protected: ASGIApp = mcp_app
    if settings.auth_token is not None:
        protected = BearerAuth(mcp_app, settings.auth_token.get_secret_value())
    routes: list[BaseRoute] = [
        Route("/healthz", health_for(server), methods=["GET"]),
        Route("/.well-known/{path:path}", no_oauth),
    ]
    receiver: WebhookReceiver | None = None
    if settings.events == "webhook":  # no route at all unless webhooks are the event source
        receiver = receiver_for(settings, server.events(), settings.http_host)
        routes.append(Route(WEBHOOK_PATH, receiver, methods=["POST"]))
    routes.append(Mount("/", app=protected))

    # The SDK app's lifespan runs the session manager; a mounted app's lifespan would not run by itself.
    # The app's lifespan runs once per process (unlike the MCP server's, once per stateless request): the
    # events consumer lives here.
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[Any]:
        async with mcp_app.router.lifespan_context(app) as state, running(server, listener=False):
            yield state

    app = HttpApp(routes=routes, lifespan=lifespan)
    app.webhooks = receiver
    app.mcp = protected
    return app


class HttpApp(Starlette):
    """The router, with short ways in for the two hot paths, which skip Starlette's middleware and routing: MCP calls
    on `/mcp` go straight to the (protected) SDK app, which has its own error handling (measured in
    bench/http_stateless.py); WAHA's webhook deliveries go to the receiver (about 40 % of an event's in-process cost,
    measured in bench/events_ingest.py's section), which answers every request it gets itself (405, 413, 401, 400,
    503 included)."""

    webhooks: WebhookReceiver | None = None
    mcp: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == MCP_PATH and self.mcp is not None:
                await self.mcp(scope, receive, send)
                return
            if self.webhooks is not None and handles(scope["path"]):
                await self.webhooks(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the HTTP app (`uvicorn.run(app, **uvicorn_options(settings))`): with the limits every
    listener here has (waha_mcp.http_limits)."""
    return {"host": settings.http_host, "port": settings.http_port, **server_limits(settings), "log_level": "warning"}
