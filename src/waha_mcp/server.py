"""Builds the MCPServer from settings: our registry lists the tools, our pipeline runs them.

The SDK keeps the protocol; `list_tools` and `call_tool` (public methods) are ours, so no SDK-built
schema or argument model stands between the registry and the client; so are the resource methods (resources.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    Resource,
    ResourceTemplate,
)
from mcp_types import Tool as MCPTool
from opentelemetry import trace

from waha_mcp import __version__
from waha_mcp.client import WAHAClient
from waha_mcp.client.fleet import Fleet
from waha_mcp.config import ConfigError, Settings
from waha_mcp.errors import ToolInputError, one_line
from waha_mcp.events import Events, Stored
from waha_mcp.redact import LogRedaction, Secrets
from waha_mcp.resources import LiveResources
from waha_mcp.servers import SINGLE
from waha_mcp.store import MEMORY, Store, open_store
from waha_mcp.tools._common import error_result
from waha_mcp.tools.pipeline import App, Invocation, invoke, note_operation
from waha_mcp.tools.registry import (
    ToolSpec,
    asked_read_only,
    exposed_tool,
    narrow,
    narrows,
    select_for,
)

log = logging.getLogger("waha_mcp")
# Their DEBUG records print requests and answers verbatim (WAHA's response headers, the WebSocket's URL and
# `X-Api-Key`): they never reach the log, whatever WAHA_MCP_LOG_LEVEL says.
TRANSPORT_LOGGERS = ("httpcore2", "httpcore", "websockets")


def quiet_transport_logs() -> None:
    for name in TRANSPORT_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger(name).getEffectiveLevel()))


INSTRUCTIONS = (
    "WhatsApp through WAHA, across several accounts (sessions). Every tool takes an optional `session`; "
    "without it WAHA_SESSION is used, except by tools that delete or administer, which need it named. "
    "Start with waha_list_sessions."
)


def describe(spec: ToolSpec, read_only: bool, output_schemas: bool = True, *, fleet: bool) -> MCPTool:
    """The tool as listed; `fleet`: several WAHA servers are configured (else no argument names one)."""
    return MCPTool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.schema_for(read_only, fleet),
        output_schema=spec.output_schema if output_schemas else None,
        annotations=spec.annotations_for(read_only),
    )


class WahaMCP(MCPServer[Any]):
    """An MCPServer whose tools come from the registry and run through the pipeline.

    Over HTTP a connection may narrow the tools (never widen them) with `X-WAHA-Toolsets` and
    `X-WAHA-Read-Only`; tools and resources (listings, reads, subscriptions) all honour it.
    """

    def __init__(self, settings: Settings, specs: list[ToolSpec], **kwargs: Any) -> None:
        # Our own bus, so events can publish `resources/updated` to subscriptions/listen streams (resources.py).
        self.subscription_bus = InMemorySubscriptionBus()
        super().__init__(middleware=[self._narrow_listing], subscriptions=self.subscription_bus, **kwargs)
        if not telemetry_configured():
            # The SDK wraps every message in an OpenTelemetry span; with no tracer provider set the span records
            # nothing, but building it still costs each call.
            self.middleware[:] = [step for step in self.middleware if not isinstance(step, OpenTelemetryMiddleware)]
        self.waha_settings = settings
        quiet_transport_logs()  # now: the event stream may connect before the first lifespan runs
        self.specs = specs
        self._by_name = {spec.name: spec for spec in specs}
        self.several_servers = len(server_names(settings)) > 1  # else no tool lists `server`
        read_only, outputs = settings.waha_read_only, settings.output_schemas
        self._listed = [describe(spec, read_only, outputs, fleet=self.several_servers) for spec in specs]
        self.app: App | None = None  # set by the lifespan
        self._store: Store | None = None
        self._events: Events | None = None
        self.waha_reachable = True  # over the network (not through a stand-in transport): the /ws stream can be used
        # Stand-ins for WAHA servers by name (tests, the embedded sandbox); a server not named here is reached over
        # the network.
        self.waha_transports: dict[str, httpx2.AsyncBaseTransport] = {}
        self.transcribe_engine: Any = None  # an engine standing in for the configured one (tests, benchmarks)
        self.resources = LiveResources(self)
        self.resources.register()

    @property
    def server_names(self) -> tuple[str, ...]:
        """The WAHA servers by name, as configured; the sandbox alone (no server named) is one server, `waha`."""
        return server_names(self.waha_settings)

    @property
    def waha_transport(self) -> httpx2.AsyncBaseTransport | None:
        """The stand-in of the only server (None with several, or none standing in)."""
        names = self.server_names
        return self.waha_transports.get(names[0]) if len(names) == 1 else None

    def new_client(self, server: str | None = None) -> WAHAClient:
        """A plain client for one WAHA server by name (None: the only one), or its stand-in; the caller closes it."""
        settings = self.waha_settings
        names = self.server_names
        if server is None:
            if len(names) != 1:
                raise ValueError(f"name one of the servers {', '.join(names)}")
            server = names[0]
        configured = {s.name: s for s in settings.servers}
        if server not in names:
            raise ValueError(f"no WAHA server {server!r}; servers: {', '.join(names)}")
        known = configured.get(server)
        if server == SINGLE and (known is None or settings.waha_base_url):
            # The shorthand's one server as the settings say it now (a copy of them may have changed WAHA_BASE_URL).
            url, key = settings.waha_base_url or "http://sandbox", settings.api_key
        else:
            assert known is not None
            url, key = known.url, known.api_key
        return WAHAClient(
            url,
            key,
            timeout=settings.waha_timeout,
            transport=self.waha_transports.get(server),
            max_response_bytes=settings.max_response_bytes,
        )

    def new_fleet(self) -> Fleet:
        """Every configured server behind one client face (waha_mcp.client.fleet); the caller closes it. With
        several servers the session directory is shared through the store."""
        names = self.server_names
        capacity = {server.name: server.capacity for server in self.waha_settings.servers}
        directory = self.store().directory if len(names) > 1 else None
        return Fleet({name: self.new_client(name) for name in names}, capacity=capacity, directory=directory)

    def new_app(self, client: Fleet) -> App:
        """The state tool calls run with, on the process's store, inbox and LID cache."""
        settings = self.waha_settings
        app = App(
            client=client,
            settings=settings,
            secrets=Secrets(
                settings.api_key,
                settings.hmac_key,
                settings.path_secret,
                settings.waha_password,
                settings.transcribe_key,
                settings.store_password,
                settings.request_state_key,
                *settings.server_secrets,
            ),
        )
        app.store = self.store()
        app.events = self.events()
        app.lids = app.events.ingest.lids  # one LID cache per process: tools and ingest learn from each other
        app.holds = app.events.ingest.holds  # likewise what WhatsApp said of capping and timelocks
        return app

    def store(self) -> Store:
        """The process's store, opened on first use: every lifespan run (the SDK decides how many; one per
        process with mcp 2.3, stateless HTTP included) shares it, so it outlives them and is closed by `close`."""
        if self._store is None:
            settings = self.waha_settings
            # The sandbox's world is new each run: its events, audit rows and pacing never mix with a real
            # WAHA's in the per-user store (unless a store is named).
            self._store = open_store(settings.store or (MEMORY if settings.sandbox else None))
        return self._store

    def events(self) -> Events:
        """The process's inbox, ingest and waiters (waha_mcp.events), on the process's store."""
        if self._events is None:
            settings = self.waha_settings
            self._events = Events(
                self.store(), max_age_s=settings.events_max_age_days * 86400, max_count=settings.events_max_count
            )
            # Resources hear every stored event from the start: an update never waits for a first read.
            self.resources.attach(self._events)
        return self._events

    def close(self) -> None:
        self._events = None
        if self._store is not None:
            self._store.close()
            self._store = None

    async def run_stdio_async(self) -> None:
        """stdio served on the event loop (waha_mcp.stdio) where stdin and stdout are pipes; else the SDK's."""
        from waha_mcp import stdio

        if not stdio.usable():
            await super().run_stdio_async()
            return
        lowlevel = self._lowlevel_server
        async with stdio.loop_stdio() as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())

    async def list_tools(self) -> list[MCPTool]:
        return list(self._listed)

    def visible_for(self, headers: Any) -> tuple[list[ToolSpec], bool]:
        """The tools one request may see, and whether it is read-only (MCPError for a bad narrowing header).

        Resources follow the same answer: each is visible where the tool that reads its data is (resources.py).
        """
        if not narrows(headers):
            return self.specs, self.waha_settings.waha_read_only
        try:
            return narrow(self.specs, headers), self.waha_settings.waha_read_only or asked_read_only(headers)
        except ConfigError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None

    async def _narrow_listing(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Listings and listen streams as the connection narrowed them (the SDK's handlers cannot see headers)."""
        headers = getattr(ctx.request, "headers", None)
        if ctx.method == "resources/list":
            return ListResourcesResult(resources=self.resources.listed(self.visible_for(headers)[0]))
        if ctx.method == "resources/templates/list":
            templates = self.resources.templates(self.visible_for(headers)[0])
            return ListResourceTemplatesResult(resource_templates=templates)
        if ctx.method == "subscriptions/listen":
            wanted = ((ctx.params or {}).get("notifications") or {}).get("resourceSubscriptions") or []
            self.resources.check_listen([str(uri) for uri in wanted], self.visible_for(headers)[0])
            return await call_next(ctx)
        if ctx.method != "tools/list" or not narrows(headers):
            return await call_next(ctx)
        specs, read_only = self.visible_for(headers)
        outputs = self.waha_settings.output_schemas
        return ListToolsResult(tools=[describe(spec, read_only, outputs, fleet=self.several_servers) for spec in specs])

    async def list_resources(self) -> list[Resource]:
        return self.resources.listed(self.specs)

    async def list_resource_templates(self) -> list[ResourceTemplate]:
        return self.resources.templates(self.specs)

    async def read_resource(self, uri: Any, context: Any = None) -> list[ReadResourceContents]:
        """Our resources (resources.py), read through their tools' pipeline; a failure is an MCPError whose
        message is the tool's one line, never the SDK's "Error creating resource" and a logged traceback."""
        headers = getattr(context, "headers", None) if context is not None else None
        specs, read_only = self.visible_for(headers)
        app = getattr(getattr(context, "request_context", None), "lifespan_context", None) or self.app
        text = await self.resources.read(str(uri), app, specs, read_only)
        return [ReadResourceContents(content=text, mime_type="application/json")]

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> CallToolResult:
        headers = getattr(context, "headers", None) if context is not None else None
        try:
            spec = exposed_tool(name, self.specs, self.waha_settings, headers, self._by_name)
        except ToolInputError as exc:
            return error_result(one_line(str(exc)))
        read_only = self.waha_settings.waha_read_only or (narrows(headers) and asked_read_only(headers))
        # Each run of the lifespan hands its own state to its calls (one run per process with mcp 2.3).
        app = getattr(getattr(context, "request_context", None), "lifespan_context", None) or self.app
        if not isinstance(app, App):
            raise RuntimeError("the server's lifespan is not running")
        return await invoke(Invocation(spec, dict(arguments or {}), app, context, read_only=read_only))


def telemetry_configured() -> bool:
    """A tracer provider is set (by code, or OTEL_PYTHON_TRACER_PROVIDER, or `opentelemetry-instrument`)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def start_transcriber(server: WahaMCP, app: App) -> Callable[[], Awaitable[None]]:
    """The transcriber for this lifespan run (waha_mcp.transcribe), and what stops it; with
    WAHA_MCP_TRANSCRIBE_INCOMING, incoming voice notes are offered to it as the inbox stores them."""
    from waha_mcp import transcribe

    settings = server.waha_settings
    transcriber = transcribe.build(settings, transcribe.transcripts_for(server.store()), server.transcribe_engine)
    if transcriber is None:

        async def nothing() -> None:
            return None

        return nothing
    app.transcriber = transcriber
    transcriber.on_outcome.append(server.resources.transcribed)  # a cached chat resource shows the new transcript
    listener = None
    if settings.transcribe_incoming:
        client, limit = app.client, transcriber.max_bytes

        async def fetch(session: str, chat: str, mid: str) -> transcribe.Audio:
            return await transcribe.fetch_audio(client, session, chat, mid, limit)

        transcriber.run_background(fetch)

        def listener(fresh: list[Stored]) -> None:
            for row in fresh:
                s = row.summary
                if (
                    s.event == "message"
                    and not s.from_me
                    and s.media in transcribe.VOICE_TYPES
                    and s.chat
                    and s.message_id
                ):
                    transcriber.offer(s.session, s.chat, s.message_id)

        app.events.ingest.listeners.append(listener)

    async def stop() -> None:
        if listener is not None and listener in app.events.ingest.listeners:
            app.events.ingest.listeners.remove(listener)
        app.transcriber = None
        await transcriber.aclose()

    return stop


def build_server(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    transports: dict[str, httpx2.AsyncBaseTransport] | None = None,
    tools: list[ToolSpec] | None = None,
) -> WahaMCP:
    """The MCP server for `settings`; `transports` (by server name) let tests and the embedded sandbox stand in
    for WAHA servers; `transport` alone stands in for the only one."""
    stand_ins = dict(transports or {})
    names = server_names(settings)
    if transport is not None:
        if len(names) != 1 or stand_ins:
            raise ValueError("transport= stands in for the only WAHA server: with several, pass transports= by name")
        stand_ins[names[0]] = transport
    unknown = sorted(set(stand_ins) - set(names))
    if unknown:
        raise ValueError(f"transports for unknown servers {', '.join(unknown)}; servers: {', '.join(names)}")

    @asynccontextmanager
    async def lifespan(server: MCPServer[Any]) -> AsyncIterator[App]:
        assert isinstance(server, WahaMCP)
        client = server.new_fleet()
        client.on_operation.append(note_operation)
        app = server.new_app(client)
        client.start()  # several servers: the session directory is learnt in the background
        app.events.ingest.listeners.append(client.heard)
        # Every handler the process logs through hides what this server knows to be secret.
        redaction = LogRedaction(app.secrets)
        handlers = list(logging.getLogger().handlers)
        for handler in handlers:
            handler.addFilter(redaction)
        quiet_transport_logs()
        server.app = server.app or app  # for direct calls without a request context (the CLI, tests)
        stop_transcriber = start_transcriber(server, app)
        try:
            yield app
        finally:
            await stop_transcriber()
            if app.store is not None:
                await app.store.flush()  # queued audit outcomes and pacing records are written before we go
            for handler in handlers:
                handler.removeFilter(redaction)
            if server.app is app:
                server.app = None
            if client.heard in app.events.ingest.listeners:
                app.events.ingest.listeners.remove(client.heard)
            await client.aclose()

    server = WahaMCP(
        settings,
        tools if tools is not None else select_for(settings),
        name="waha-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level,
        # Shared by replicas (WAHA_MCP_STATE_KEY): a confirmation asked by one can be answered through another.
        request_state_security=RequestStateSecurity(keys=[key]) if (key := settings.request_state_key) else None,
    )
    # A transport standing in for WAHA (tests, the embedded sandbox) carries no WebSocket: no /ws consumer then.
    server.waha_reachable = not stand_ins
    server.waha_transports = stand_ins
    return server


def server_names(settings: Settings) -> tuple[str, ...]:
    """The configured servers' names; the sandbox with none named plays one, `waha` (waha_mcp.servers.SINGLE)."""
    return tuple(s.name for s in settings.servers) or (SINGLE,)
