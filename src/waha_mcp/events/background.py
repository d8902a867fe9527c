"""What runs beside the server for events, once per process: the WebSocket consumer of every WAHA server
(WAHA_MCP_EVENTS=ws; for each embedded sandbox, a feed from its event log instead: events/local.py) and, in
stdio mode, the loopback webhook listener (WAHA_MCP_WEBHOOK_PORT). None blocks start-up and none
writes to stdout: a failure is logged to stderr and retried, and the MCP server runs on. The listener exists only
with WAHA_MCP_EVENTS=webhook, served with the HTTP transport's limits (waha_mcp.http_limits)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import anyio
from mcp_types import TextContent

from waha_mcp.events.follow import Follower
from waha_mcp.events.local import SandboxFeed, sandbox_listeners, sandbox_profile
from waha_mcp.events.webhook import handles, receiver_for
from waha_mcp.events.ws import WSConsumer

if TYPE_CHECKING:
    from waha_mcp.config import Settings
    from waha_mcp.server import WahaMCP

log = logging.getLogger("waha_mcp.events")


class _QuietServer:
    """uvicorn's Server without its signal handling (the MCP process owns SIGINT/SIGTERM)."""

    @staticmethod
    def make(app: Any, host: str, port: int, settings: Settings) -> Any:
        import uvicorn

        from waha_mcp.http_limits import server_limits

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        # The HTTP transport's limits (head deadline and cap, connection cap); the receiver caps the body.
        limits = server_limits(settings)
        config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off", **limits)
        return Server(config)


def webhook_app(server: WahaMCP) -> Any:
    settings = server.waha_settings
    receiver = receiver_for(settings, server.events(), settings.webhook_host)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not handles(scope.get("path", "")):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await receiver(scope, receive, send)

    return app


async def _check_stream(server: WahaMCP, name: str | None = None) -> None:
    """A WAHA whose /ws sends only `session.status` (Core before 2026.6): say at start that messages need
    webhooks, since the stream itself connects fine and would just stay quiet. In a fleet, per server, named."""
    from waha_mcp.events import versions

    client = server.new_client(name)
    try:
        version = await client.server_version()
    finally:
        await client.aclose()
    if version is not None and not versions.ws_streams_messages(version):
        named = f"WAHA server {name!r}: " if name is not None and len(server.server_names) > 1 else ""
        log.warning("events: %s%s", named, versions.messages_need_webhooks(version))


SESSIONS_EVERY = 300.0  # seconds between looks at WAHA's session list


async def _learn_sessions(server: WahaMCP, name: str | None = None) -> None:
    """Which sessions this WAHA has, so events for any other are counted (`unknownSession`): every server's are
    added to the one set; failures are quiet (logged at debug, naming the server)."""
    from waha_mcp.client import WAHAError

    ingest = server.events().ingest
    client = server.new_client(name)
    try:
        while True:
            try:
                listed = await client.list_sessions(all=True)
                names = {str(s["name"]) for s in listed if isinstance(s, dict) and s.get("name")}
                ingest.known_sessions = names | (ingest.known_sessions or set())
            except (WAHAError, OSError) as exc:
                whose = f"WAHA server {name!r}" if name is not None else "WAHA"
                log.debug("events: could not list the sessions of %s (%s)", whose, type(exc).__name__)
            await anyio.sleep(SESSIONS_EVERY)
    finally:
        await client.aclose()


async def set_up_webhooks(server: WahaMCP) -> None:
    """WAHA_MCP_WEBHOOK_SESSIONS: at start, waha_configure_webhooks for those sessions (or `all`), through the
    same pipeline as an agent's call (allow-lists, audit log); the operator's setting is its confirmation."""
    from waha_mcp.tools.pipeline import Invocation, invoke
    from waha_mcp.tools.registry import all_tools

    settings = server.waha_settings
    names = settings.webhook_sessions
    arguments: dict[str, Any] = {"all": True} if names == ["all"] else {"sessions": names}
    client = server.new_fleet()
    app = server.new_app(client)
    try:
        spec = next(s for s in all_tools() if s.name == "waha_configure_webhooks")
        result = await invoke(Invocation(spec, {**arguments, "confirm": True}, app))
    finally:
        await client.aclose()
    last = result.content[-1] if result.content else None
    text = last.text if isinstance(last, TextContent) else ""
    if result.is_error:
        log.warning("events: WAHA_MCP_WEBHOOK_SESSIONS set-up failed: %s", text)
    else:
        log.info("events: webhooks configured at start: %s", text)


@contextlib.asynccontextmanager
async def running(server: WahaMCP, *, listener: bool) -> AsyncIterator[dict[str, Any]]:
    """Start the consumer (and the stdio-mode listener when `listener`) for the body of the block."""
    settings = server.waha_settings
    started: dict[str, Any] = {}
    async with anyio.create_task_group() as tg:
        # Replicas: every one holds its own /ws and the inbox stores each event once by its id (a duplicate is
        # dropped at the insert). Chosen over one holder elected by a lease: no takeover delay and no gap when a
        # replica dies, for the price of one stream per replica (README, "Running more than one process").
        # A fleet: one stream per WAHA server (each with its own key), or the in-process feed of each sandbox
        # standing in for one; `started["servers"]` holds them by server name.
        names = server.server_names
        configured = {s.name: s for s in settings.servers}
        streams: dict[str, WSConsumer | SandboxFeed] = {}
        started["servers"] = streams
        for name in names if settings.events == "ws" else ():
            stand_in = server.waha_transports.get(name)
            listeners = sandbox_listeners(stand_in)
            if stand_in is None and name in configured:
                consumer = WSConsumer(
                    configured[name].url,
                    configured[name].api_key,
                    server.events().ingest,
                    max_frame=settings.webhook_max_bytes,
                    server=name if len(names) > 1 else None,
                )
                streams[name] = consumer
                started.setdefault("ws", consumer)
                tg.start_soon(consumer.run)
            elif listeners is not None:
                # The embedded sandbox has no socket to stream from: hear its log directly, subscribed before any
                # call.
                feed = SandboxFeed(listeners, server.events().ingest, sandbox_profile(stand_in))
                streams[name] = feed
                started.setdefault("sandbox", feed)
                await tg.start(feed.run)
            else:
                continue  # a stand-in that is no sandbox (a test's transport): nothing to stream from
            tg.start_soon(_check_stream, server, name)
        # Events other replicas store reach this one's waiters and subscribers (with SQLite: nothing to hear).
        # Not awaited: a store down at start must not hold the server back (the follower retries by itself).
        follower = Follower(server.events().inbox, server.events().ingest)
        started["follower"] = follower
        tg.start_soon(follower.run)
        if settings.events != "off":
            for name in names:
                tg.start_soon(_learn_sessions, server, name)
        if settings.events != "off" and settings.webhook_sessions:
            tg.start_soon(set_up_webhooks, server)
        if listener and settings.webhook_port is not None and settings.events != "webhook":
            # No listener unless webhooks are the event source: an open port nobody uses is only a way in.
            log.warning("events: WAHA_MCP_WEBHOOK_PORT is ignored: WAHA_MCP_EVENTS is %s, not webhook", settings.events)
        if listener and settings.events == "webhook" and settings.webhook_port is not None:
            http = _QuietServer.make(webhook_app(server), settings.webhook_host, settings.webhook_port, settings)
            started["webhook"] = http

            async def serve() -> None:
                try:
                    await http.serve()
                except (OSError, SystemExit) as exc:  # port taken: say so, keep serving MCP
                    log.warning("events: webhook listener on port %s failed (%s)", settings.webhook_port, exc)

            tg.start_soon(serve)
        try:
            yield started
        finally:
            tg.cancel_scope.cancel()
