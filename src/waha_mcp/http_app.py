"""The HTTP app is a router: `/mcp` (the SDK's Streamable HTTP app) behind the bearer token, `/healthz`
open; a webhook route with its own authentication (HMAC) gets its own entry here."""

from __future__ import annotations

import asyncio
import hmac
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import h11
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from waha_mcp.config import ConfigError, Settings, is_loopback
from waha_mcp.events.background import running
from waha_mcp.events.webhook import PATH as WEBHOOK_PATH
from waha_mcp.events.webhook import WebhookReceiver
from waha_mcp.server import WahaMCP

# A request head (request line and headers) larger than this is refused (400) before it is parsed.
MAX_HEAD_BYTES = 32 * 1024


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


def request_body_limit(settings: Settings) -> int:
    """Room for the largest media a tool accepts as base64 (4/3 of WAHA_MCP_MAX_MEDIA_BYTES) plus the rest of
    the call; never below the SDK's own 4 MiB."""
    return max(SDK_BODY_LIMIT, -(-settings.max_media_bytes * 4 // 3) + 64 * 1024)


async def health(_: Request) -> JSONResponse:
    """Liveness for load balancers; says nothing about WAHA (that is `waha-mcp doctor`)."""
    return JSONResponse({"ok": True})


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
    )
    protected: ASGIApp = mcp_app
    if settings.auth_token is not None:
        protected = BearerAuth(mcp_app, settings.auth_token.get_secret_value())
    routes = [Route("/healthz", health, methods=["GET"]), Route("/.well-known/{path:path}", no_oauth)]
    receiver: WebhookReceiver | None = None
    if settings.events != "off":
        receiver = WebhookReceiver(
            server.events(),
            key=settings.hmac_key,
            max_bytes=settings.webhook_max_bytes,
            allow_unsigned=is_loopback(settings.http_host),
        )
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
    return app


class HttpApp(Starlette):
    """The router, with a short way in for WAHA's webhook deliveries: they skip Starlette's middleware and routing
    (about 40 % of an event's in-process cost, measured in bench/events_ingest.py's section); the receiver answers
    every request it gets itself (405, 413, 401, 400, 503 included)."""

    webhooks: WebhookReceiver | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.webhooks is not None and scope["type"] == "http" and scope["path"] == WEBHOOK_PATH:
            await self.webhooks(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class HeadDeadline:
    """For uvicorn's HTTP protocols: a connection that has not sent a complete request line and headers within
    `timeout_keep_alive` seconds of opening (or of its last response) is closed, however slowly it trickles bytes.
    uvicorn alone only times out a connection that sends nothing. The protocol says when a head is awaited."""

    _head_timer: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    timeout_keep_alive: float
    transport: asyncio.Transport

    def _awaiting_head(self) -> bool:
        raise NotImplementedError

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.timeout_keep_alive, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head() and not self.transport.is_closing():
            self.transport.close()


class HeadTimeoutProtocol(HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol with the head deadline (HeadDeadline) and a cap on the head's size."""

    _head_bytes = 0  # bytes of the awaited head received so far
    _tail = b""  # the last bytes of them, for a blank line split across two reads

    def _awaiting_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def data_received(self, data: bytes) -> None:
        # h11's own cap only covers a head still incomplete; a whole big head in one read would pass it.
        if self.conn.their_state is h11.IDLE:
            end = (self._tail + data).find(b"\r\n\r\n")
            size = self._head_bytes + (end + 4 - len(self._tail) if end >= 0 else len(data))
            if size > MAX_HEAD_BYTES:
                too_large(self.transport)
                return
            self._head_bytes = 0 if end >= 0 else size
            self._tail = b"" if end >= 0 else (self._tail + data)[-3:]
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a whole request head arrived
            self._disarm_head_timer()


def too_large(transport: asyncio.BaseTransport) -> None:
    """400 and close, before any request was read (h11 can only answer one it parsed)."""
    message = b"Request head too large"
    head = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    transport.write(head + b"content-length: %d\r\n\r\n" % len(message) + message)  # type: ignore[attr-defined]
    transport.close()


def protocol_class() -> type[Any]:
    """httptools' parser when installed (the `speed` extra), else h11; both with the same head limits."""
    try:
        from waha_mcp.http_httptools import HeadLimitsHttpToolsProtocol
    except ImportError:
        return HeadTimeoutProtocol
    return HeadLimitsHttpToolsProtocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The limits uvicorn serves the HTTP app with (`uvicorn.run(app, **uvicorn_options(settings))`)."""
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        "http": protocol_class(),
        "timeout_keep_alive": settings.http_header_timeout,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "limit_concurrency": settings.http_max_connections,
        "log_level": "warning",
    }
