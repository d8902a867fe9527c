"""Live resources addressed by session (`waha://chats/overview?session=business`), cached and kept fresh by events.

Each resource is registered here with the tool that reads the same data: it is listed, read and subscribed to
only where that tool is enabled (WAHA_TOOLSETS, `X-WAHA-Toolsets`, read-only), and a read goes through that
tool's pipeline (argument checks, session resolution, guards, error mapping, secret redaction). A read is cached
until an event changes it (never a blind timer); a stored event sends `resources/updated` for exactly the
resources it changes: on `subscriptions/listen` streams (2026-07-28) through the server's bus, and to
connections that used `resources/subscribe` (earlier protocol versions), once per subscribed URI. URIs are
canonical as the templates write them: the chat id unescaped, `?session=` given (a resource of the default
session is also updated without it). The cache and the subscriptions are bounded (see the constants).
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from mcp.server.subscriptions import ResourceUpdated
from mcp.shared.exceptions import MCPError
from mcp.shared.uri_template import UriTemplate
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    EmptyResult,
    Resource,
    ResourceTemplate,
    ResourceUpdatedNotification,
    ResourceUpdatedNotificationParams,
    SubscribeRequestParams,
    TextContent,
    UnsubscribeRequestParams,
)
from pydantic import ValidationError

from waha_mcp.errors import ToolInputError, one_line, validation_problems
from waha_mcp.events import Events, Query, Stored
from waha_mcp.ids import message_key
from waha_mcp.projections import events as view
from waha_mcp.sessions import validate_session_name
from waha_mcp.tools.pipeline import App, Invocation, invoke
from waha_mcp.tools.registry import ToolSpec, all_tools

if TYPE_CHECKING:
    from waha_mcp.server import WahaMCP

log = logging.getLogger("waha_mcp.resources")
JSON = "application/json"
INBOX_SIZE = 50
MAX_URI = 1024  # characters: every URI a template makes is far shorter (session ≤ 64, chat id ≤ a few hundred)
CACHE_ENTRIES = 256  # answers kept, least recently used dropped first
CACHE_BYTES = 8 * 1024 * 1024  # characters kept in all; an answer bigger than a quarter of it is not kept
SUBSCRIPTIONS_PER_CONNECTION = 100  # legacy subscriptions per connection, and URIs per listen stream
SUBSCRIPTIONS_TOTAL = 10_000  # legacy subscriptions held by the process
TWINS = 1024  # recent (session, message id) pairs: WAHA announces a received message twice


@dataclass(frozen=True)
class Template:
    """One resource template and the tool that reads the same data (it decides visibility and does the read)."""

    uri: str
    name: str
    description: str
    tool: str
    listed: bool = False  # also listed as a concrete resource (the default session's, or every session's)
    inbox: bool = False  # read from the event store, through the tool's pipeline (see `LiveResources._inbox`)
    per_session: bool = True  # False: one resource for the server (`?session=` is checked, then ignored)

    @property
    def base(self) -> str:
        return self.uri.split("{?")[0]


TEMPLATES: tuple[Template, ...] = (
    Template("waha://sessions{?session}", "sessions", "Every session and its status.", "waha_list_sessions",
             listed=True, per_session=False),
    Template("waha://chats/overview{?session}", "chats-overview", "A session's chats, most recent first.",
             "waha_get_chats", listed=True),
    Template("waha://chats/{chatId}/messages{?session}", "chat-messages", "A chat's latest messages.",
             "waha_get_messages"),
    Template("waha://groups{?session}", "groups", "A session's groups.", "waha_get_groups"),
    Template("waha://contacts{?session}", "contacts", "A session's contacts.", "waha_get_contacts"),
    Template("waha://inbox{?session}", "inbox", f"The latest {INBOX_SIZE} events received for a session.",
             "waha_get_events", listed=True, inbox=True),
)  # fmt: skip
PATHS = [(t, UriTemplate.parse(t.base)) for t in TEMPLATES]
SESSIONS = "waha://sessions"


class Refused(Exception):
    """A resource URI that cannot be served; the message says why, on one line."""


@dataclass(frozen=True)
class Target:
    template: Template
    session: str | None  # as given, or the default
    chat_id: str | None = None

    @property
    def key(self) -> str:
        """The canonical URI: what the cache and the subscriptions are keyed by."""
        base = self.template.base.replace("{chatId}", self.chat_id or "")
        if not self.template.per_session or self.session is None:
            return base
        return f"{base}?session={self.session}"

    def arguments(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chatId": self.chat_id} if self.chat_id is not None else {}
        if self.session is not None and self.template.per_session:
            out["session"] = self.session
        return out


def parse(uri: str, default_session: str | None, specs: Mapping[str, ToolSpec] | None = None) -> Target:
    """The resource `uri` names, checked as its tool checks arguments (Refused otherwise), before any read."""
    if len(uri) > MAX_URI:
        raise Refused(f"resource URI of {len(uri)} characters: at most {MAX_URI}")
    path, _, query = uri.partition("?")
    for template, parsed in PATHS:  # noqa: B007 (the template found is used after the loop)
        found = parsed.match(path)
        if found is not None:
            break
    else:
        raise Refused(f"unknown resource {path[:80]}; see resources/templates/list")
    pairs = parse_qsl(query, keep_blank_values=True)
    for name, _value in pairs:
        if name != "session":
            close = difflib.get_close_matches(name.lower(), ["session"], n=1, cutoff=0.6)
            hint = ": did you mean `session`?" if close else "; the only one is `session`"
            raise Refused(f"unknown query parameter `{name[:40]}`{hint}")
    given = [value for _, value in pairs]
    if len(given) > 1:
        raise Refused("`session` given twice")
    if given and not given[0]:
        raise Refused("empty `session`: name one (see waha_list_sessions) or leave it out for WAHA_SESSION")
    try:
        session = validate_session_name(given[0]) if given else default_session
    except ToolInputError as exc:
        raise Refused(str(exc)) from None
    chat = found.get("chatId")
    target = Target(template, session, str(chat) if chat is not None else None)
    spec = (specs or {}).get(template.tool)
    if spec is not None:  # the tool's own argument checks (the chat id's shape), without calling WAHA
        try:
            spec.arguments.model_validate(target.arguments())
        except ValidationError as exc:
            raise Refused(f"invalid resource: {validation_problems(exc)}") from None
    return target


def canonical(uri: str, default_session: str | None) -> str | None:
    """The one spelling of a resource URI (session filled in with the default), or None if it is not ours."""
    try:
        return parse(uri, default_session).key
    except Refused:
        return None


def changed_by(row: Stored) -> set[str]:
    """The canonical resources one event changes."""
    s = row.summary
    out = {f"waha://inbox?session={s.session}"}
    if s.event == "session.status":
        out.add(SESSIONS)
    elif s.event.startswith(("message", "chat.")) and s.chat:
        out.add(f"waha://chats/overview?session={s.session}")
        if s.event.startswith("message"):
            out.add(f"waha://chats/{s.chat}/messages?session={s.session}")
    elif s.event.startswith("group.") or s.event == "label.chat.added":
        out.add(f"waha://groups?session={s.session}")
        out.add(f"waha://chats/overview?session={s.session}")
    return out


@dataclass
class Cache:
    """Answers by canonical URI, least recently used dropped first past CACHE_ENTRIES or CACHE_BYTES."""

    entries: int = CACHE_ENTRIES
    limit: int = CACHE_BYTES
    size: int = 0
    _items: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def get(self, key: str) -> str | None:
        text = self._items.get(key)
        if text is not None:
            self._items.move_to_end(key)
        return text

    def put(self, key: str, text: str) -> None:
        self.pop(key)
        cost = len(key) + len(text)
        if cost > self.limit // 4:
            return  # a huge answer would push out many small ones: served, not kept
        self._items[key] = text
        self.size += cost
        while len(self._items) > self.entries or self.size > self.limit:
            old, dropped = self._items.popitem(last=False)
            self.size -= len(old) + len(dropped)

    def pop(self, key: str) -> None:
        text = self._items.pop(key, None)
        if text is not None:
            self.size -= len(key) + len(text)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class Subscriptions:
    """Legacy `resources/subscribe`: per connection, its URIs (as it wrote them) by canonical key.

    A connection's subscriptions go when it closes (its exit stack), so nothing outlives a client.
    """

    def __init__(self) -> None:
        self.by_key: dict[str, dict[Any, set[str]]] = {}
        self.by_connection: dict[Any, dict[str, str]] = {}  # connection → {uri: key}
        self.count = 0

    def add(self, connection: Any, uri: str, key: str) -> None:
        mine = self.by_connection.get(connection)
        if mine is not None and uri in mine:
            return  # already subscribed: not a new one
        if mine is not None and len(mine) >= SUBSCRIPTIONS_PER_CONNECTION:
            raise Refused(
                f"at most {SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection: unsubscribe from one first"
            )
        if self.count >= SUBSCRIPTIONS_TOTAL:
            raise Refused(f"the server holds {SUBSCRIPTIONS_TOTAL} subscriptions, its limit: try again later")
        if mine is None:
            mine = self.by_connection[connection] = {}
            stack = getattr(connection, "exit_stack", None)
            if stack is not None:
                stack.callback(self.drop, connection)
        mine[uri] = key
        self.by_key.setdefault(key, {}).setdefault(connection, set()).add(uri)
        self.count += 1

    def remove(self, connection: Any, uri: str) -> None:
        key = self.by_connection.get(connection, {}).pop(uri, None)
        if key is None:
            return
        self.count -= 1
        holders = self.by_key.get(key, {})
        holders.get(connection, set()).discard(uri)
        if not holders.get(connection):
            holders.pop(connection, None)
        if not holders:
            self.by_key.pop(key, None)

    def drop(self, connection: Any) -> None:
        for uri in list(self.by_connection.get(connection, {})):
            self.remove(connection, uri)
        self.by_connection.pop(connection, None)

    def holders(self, key: str) -> list[tuple[Any, list[str]]]:
        return [(conn, sorted(uris)) for conn, uris in self.by_key.get(key, {}).items()]


class LiveResources:
    def __init__(self, server: WahaMCP) -> None:
        self.server = server
        self.default_session = server.waha_settings.waha_session
        self.cache = Cache()
        self.reads = 0  # reads that reached WAHA or the store (cache misses), for tests and benchmarks
        self.subscriptions = Subscriptions()
        self._twins: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._specs = {spec.name: spec for spec in all_tools()}
        get_events = self._specs["waha_get_events"]
        # The inbox is `waha_get_events`' data, newest first: its pipeline with a reader of our own.
        self._inbox_spec = replace(get_events, fn=self._inbox)

    # --- registration -------------------------------------------------------------------------------
    def register(self) -> None:
        low = self.server._lowlevel_server  # the SDK has no public hook for the legacy subscribe handlers
        low.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        low.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)

    def attach(self, events: Events) -> None:
        """Hear every event this inbox stores (called once for each inbox the server opens)."""
        events.ingest.listeners.append(self._on_events)

    # --- visibility ---------------------------------------------------------------------------------
    @staticmethod
    def visible(specs: Iterable[ToolSpec]) -> list[Template]:
        names = {spec.name for spec in specs}
        return [t for t in TEMPLATES if t.tool in names]

    def templates(self, specs: Iterable[ToolSpec]) -> list[ResourceTemplate]:
        return [
            ResourceTemplate(uri_template=t.uri, name=t.name, description=t.description, mime_type=JSON)
            for t in self.visible(specs)
        ]

    def listed(self, specs: Iterable[ToolSpec]) -> list[Resource]:
        """Concrete resources worth a glance: the sessions, and the default session's chats and inbox (without a
        default session the inbox is every session's, and the chats are not listed)."""
        default = self.default_session
        out = []
        for t in self.visible(specs):
            if not t.listed or (t.per_session and not default and not t.inbox):
                continue
            where = "" if not t.per_session else f" Session: {default}." if default else " All sessions."
            out.append(Resource(uri=t.base, name=t.name, description=t.description + where, mime_type=JSON))
        return out

    def target(self, uri: str, specs: list[ToolSpec]) -> Target:
        """The checked target of `uri` for a connection that sees `specs` (MCPError if it may not)."""
        try:
            target = parse(uri, self.default_session, self._specs)
        except Refused as exc:
            raise MCPError(code=INVALID_PARAMS, message=one_line(str(exc)), data={"uri": uri[:200]}) from None
        if target.template not in self.visible(specs):
            spec = self._specs[target.template.tool]
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"resource {target.template.base} is not enabled for this connection: it needs "
                f"{spec.name} (toolset {spec.toolset}; WAHA_TOOLSETS, X-WAHA-Toolsets)",
                data={"uri": uri[:200]},
            )
        return target

    def check_listen(self, uris: list[str], specs: list[ToolSpec]) -> None:
        """A `subscriptions/listen` request's URIs: as many, as checked and as visible as subscriptions."""
        if len(uris) > SUBSCRIPTIONS_PER_CONNECTION:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"{len(uris)} resource subscriptions: at most {SUBSCRIPTIONS_PER_CONNECTION} per stream",
            )
        for uri in uris:
            self.target(uri, specs)

    # --- reads --------------------------------------------------------------------------------------
    async def read(self, uri: str, app: Any, specs: list[ToolSpec], read_only: bool) -> str:
        target = self.target(uri, specs)
        if not isinstance(app, App):
            raise RuntimeError("the server's lifespan is not running")
        key = target.key
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        template = target.template
        spec = self._inbox_spec if template.inbox else self._specs[template.tool]
        result = await invoke(Invocation(spec, target.arguments(), app, None, read_only=read_only))
        text = next((b.text for b in result.content if isinstance(b, TextContent)), "")
        if result.is_error:  # the tool's one line (its error mapping, secrets hidden); not cached
            raise MCPError(code=INTERNAL_ERROR, message=text, data={"uri": uri[:200]})
        self.reads += 1
        self.cache.put(key, text)
        return text

    @staticmethod
    async def _inbox(w: Invocation, session: str | None = None, **_: Any) -> dict[str, Any]:
        events = w.app.events
        if events is None:
            raise ToolInputError("the events inbox is not running in this server (WAHA_MCP_EVENTS=off?)")
        query = Query(sessions=[session] if session else (), limit=INBOX_SIZE, newest_first=True)
        rows = await events.inbox.query(query)
        shown = [dict(view.event(r)) for r in rows]
        await _with_transcripts(w, shown)
        return {"session": session, "events": shown}

    # --- subscriptions ------------------------------------------------------------------------------
    async def _subscribe(self, ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        uri = str(params.uri)
        specs, _ = self.server.visible_for(getattr(ctx.request, "headers", None))
        target = self.target(uri, specs)
        try:
            self.subscriptions.add(_connection(ctx), uri, target.key)
        except Refused as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        return EmptyResult()

    async def _unsubscribe(self, ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        self.subscriptions.remove(_connection(ctx), str(params.uri))
        return EmptyResult()

    def subscription_count(self) -> int:
        return self.subscriptions.count

    def _on_events(self, fresh: list[Stored]) -> None:
        changed: set[str] = set()
        for row in fresh:
            s = row.summary
            if s.event in ("message", "message.any") and s.message_id:
                # WAHA announces a received message as `message` and `message.any`: the second is a new inbox
                # row but changes no chat (one event, one update per subscribed URI).
                twin = (s.session, s.message_id)
                if twin in self._twins:
                    changed.add(f"waha://inbox?session={s.session}")
                    continue
                self._twins[twin] = None
                if len(self._twins) > TWINS:
                    self._twins.popitem(last=False)
            changed |= changed_by(row)
        self._changed(changed)

    def transcribed(self, session: str, message_id: str) -> None:
        """A voice note's transcript is now known (waha_mcp.transcribe): its chat's messages and the inbox read
        differently."""
        changed = {f"waha://inbox?session={session}"}
        chat = message_key(message_id).chat
        if chat is not None:
            changed.add(f"waha://chats/{chat}/messages?session={session}")
        self._changed(changed)

    def _changed(self, changed: set[str]) -> None:
        for key in changed:
            self.cache.pop(key)
        task = asyncio.get_running_loop().create_task(self._notify(changed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def spellings(self, key: str) -> Iterable[str]:
        yield key
        base, _, query = key.partition("?session=")
        if query and query == self.default_session:
            yield base

    async def _notify(self, changed: set[str]) -> None:
        bus = self.server.subscription_bus
        for key in sorted(changed):
            for uri in self.spellings(key):
                await bus.publish(ResourceUpdated(uri=uri))
            for conn, uris in self.subscriptions.holders(key):
                for uri in uris:
                    note = ResourceUpdatedNotification(params=ResourceUpdatedNotificationParams(uri=uri))
                    data = note.model_dump(by_alias=True, mode="json", exclude_none=True)
                    try:
                        await conn.outbound.notify(data["method"], data.get("params"))
                    except Exception:  # a connection that went away without closing: forget it
                        self.subscriptions.drop(conn)
                        break


def _connection(ctx: Any) -> Any:
    """The client connection a request came on (the SDK keeps it on the request's session object)."""
    session = ctx.session
    return getattr(session, "connection", None) or session._connection


async def _with_transcripts(w: Invocation, events: list[dict[str, Any]]) -> None:
    """Known transcripts beside the inbox's voice notes (cached only: reading the inbox starts none)."""
    transcriber = w.app.transcriber
    voiced = [e for e in events if e.get("media") in ("voice", "audio") and e.get("messageId")]
    if transcriber is None or not voiced:
        return
    try:
        known = await transcriber.known((str(e["session"]), str(e["messageId"])) for e in voiced)
    except Exception as exc:  # the store down: the inbox is still shown
        log.warning("transcripts not read: %s", type(exc).__name__)
        return
    for event in voiced:
        found = known.get((str(event["session"]), str(event["messageId"])))
        if found is not None:
            event["transcript"] = found
