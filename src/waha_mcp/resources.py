"""Live resources addressed by session (`waha://chats/overview?session=business`), cached and kept fresh by events.

A read goes through the same pipeline and projections as the matching tool (read-only), and is cached per
resource until an event changes it (never a blind timer). A stored event sends `resources/updated` for exactly
the resources it changes: on `subscriptions/listen` streams (2026-07-28) through the server's bus, and to
clients that used `resources/subscribe` (earlier protocol versions). URIs are canonical as the templates write
them: the chat id unescaped, `?session=` given (a resource of the default session is also updated without it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context
from mcp.server.subscriptions import ResourceUpdated
from mcp.shared.uri_template import UriTemplate
from mcp_types import EmptyResult, SubscribeRequestParams, TextContent, UnsubscribeRequestParams

from waha_mcp.events import Query, Stored
from waha_mcp.ids import message_key
from waha_mcp.projections import events as view
from waha_mcp.tools.pipeline import App, Invocation, invoke
from waha_mcp.tools.registry import all_tools

if TYPE_CHECKING:
    from waha_mcp.server import WahaMCP

log = logging.getLogger("waha_mcp.resources")
JSON = "application/json"
# template → (tool that reads it, fixed arguments)
TEMPLATES: dict[str, tuple[str | None, dict[str, Any]]] = {
    "waha://sessions{?session}": ("waha_list_sessions", {}),  # every session; `session` is accepted, not needed
    "waha://chats/overview{?session}": ("waha_get_chats", {}),
    "waha://chats/{chatId}/messages{?session}": ("waha_get_messages", {}),
    "waha://groups{?session}": ("waha_get_groups", {}),
    "waha://contacts{?session}": ("waha_get_contacts", {}),
    "waha://inbox{?session}": (None, {}),  # straight from the event store
}
SESSIONS = "waha://sessions"
PARSED = {template: UriTemplate.parse(template) for template in TEMPLATES}
INBOX_SIZE = 50


def canonical(uri: str, default_session: str | None) -> str | None:
    """The one spelling of a resource URI (session filled in with the default), or None if it is not ours."""
    for template, parsed in PARSED.items():
        found = parsed.match(uri)
        if found is None:
            continue
        session = found.get("session") or default_session
        base = template.split("{?")[0]
        if "chatId" in found:
            base = base.replace("{chatId}", str(found["chatId"]))
        return base if base == SESSIONS else f"{base}?session={session}"
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


class LiveResources:
    def __init__(self, server: WahaMCP) -> None:
        self.server = server
        self.default_session = server.waha_settings.waha_session
        self.cache: dict[str, str] = {}
        self.reads = 0  # reads that reached WAHA (cache misses), for tests and benchmarks
        # Legacy `resources/subscribe`: canonical URI → {connection: (its session, the URI as it subscribed)}.
        # Strong references: a connection that closed is dropped at the first failed notification.
        self.legacy: dict[str, dict[int, tuple[Any, str]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._specs = {spec.name: spec for spec in all_tools()}
        self._attached = False

    # --- registration -------------------------------------------------------------------------------
    def register(self) -> None:
        server = self.server
        for template in TEMPLATES:
            server.resource(template, name=template.split("//")[1].split("{")[0], mime_type=JSON)(
                self._reader(template)
            )
        low = server._lowlevel_server  # the SDK has no public hook for the legacy subscribe handlers
        low.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        low.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)

    def attach(self) -> None:
        """Hear every stored event (once per process, when the events inbox first opens)."""
        if not self._attached:
            self._attached = True
            self.server.events().ingest.listeners.append(self._on_events)

    def _reader(self, template: str) -> Any:
        if "{chatId}" in template:

            async def read_chat(chatId: str, ctx: Context, session: str | None = None) -> str:
                return await self.read(template, ctx, session, chatId=chatId)

            return read_chat

        async def read_session(ctx: Context, session: str | None = None) -> str:
            return await self.read(template, ctx, session)

        return read_session

    # --- reads --------------------------------------------------------------------------------------
    async def read(self, template: str, ctx: Context, session: str | None, **values: str) -> str:
        app = ctx.request_context.lifespan_context
        if not isinstance(app, App):
            raise RuntimeError("the server's lifespan is not running")
        self.attach()
        session = session or self.default_session
        base = template.split("{?")[0].replace("{chatId}", values.get("chatId", ""))
        key = base if base == SESSIONS else f"{base}?session={session}"
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        tool, fixed = TEMPLATES[template]
        if tool is None:
            rows = await app.events.inbox.query(Query(sessions=[session] if session else (), limit=INBOX_SIZE,
                                                      newest_first=True))  # fmt: skip
            events = [dict(view.event(r)) for r in rows]
            await _with_transcripts(app, events)
            text = json.dumps({"session": session, "events": events}, separators=(",", ":"))
        else:
            arguments = {**fixed, **values, **({"session": session} if session and base != SESSIONS else {})}
            result = await invoke(Invocation(self._specs[tool], arguments, app, None, read_only=True))
            text = next((b.text for b in result.content if isinstance(b, TextContent)), "")
            if result.is_error:
                raise ValueError(text)  # not cached: the next read tries again
        self.reads += 1
        self.cache[key] = text
        return text

    # --- subscriptions ------------------------------------------------------------------------------
    async def _subscribe(self, ctx: Any, params: SubscribeRequestParams) -> EmptyResult:
        self.attach()
        key = canonical(str(params.uri), self.default_session)
        if key is not None:
            self.legacy.setdefault(key, {})[_connection(ctx)] = (ctx.session, str(params.uri))
        return EmptyResult()

    async def _unsubscribe(self, ctx: Any, params: UnsubscribeRequestParams) -> EmptyResult:
        key = canonical(str(params.uri), self.default_session)
        if key is not None and key in self.legacy:
            self.legacy[key].pop(_connection(ctx), None)
        return EmptyResult()

    def _on_events(self, fresh: list[Stored]) -> None:
        changed: set[str] = set()
        for row in fresh:
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
            self.cache.pop(key, None)
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
            for conn, (session, uri) in list(self.legacy.get(key, {}).items()):
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # a closed client: forget it
                    self.legacy[key].pop(conn, None)


async def _with_transcripts(app: App, events: list[dict[str, Any]]) -> None:
    """Known transcripts beside the inbox's voice notes (cached only: reading the inbox starts none)."""
    transcriber = app.transcriber
    voiced = [e for e in events if e.get("media") in ("voice", "audio") and e.get("messageId")]
    if transcriber is None or not voiced:
        return
    try:
        known = await transcriber.known((str(e["session"]), str(e["messageId"])) for e in voiced)
    except Exception as exc:  # the store down: the inbox is still shown
        log.warning("transcripts not read: %s", type(exc).__name__)
        return
    for event in voiced:
        shown = known.get((str(event["session"]), str(event["messageId"])))
        if shown is not None:
            event["transcript"] = shown


def _connection(ctx: Any) -> int:
    """One key per client connection (the session object's connection when it has one)."""
    session = ctx.session
    return id(getattr(session, "connection", None) or getattr(session, "_connection", None) or session)
