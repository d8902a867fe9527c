"""Toolset `events`: the inbox WAHA's events go into (waha_mcp.events), and waiting for what arrives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from pydantic import Field

from waha_mcp.client import WAHAError
from waha_mcp.errors import ToolInputError
from waha_mcp.events import Events, Query, Stored, versions
from waha_mcp.events.webhook import with_secret, without_secret
from waha_mcp.people import is_lid
from waha_mcp.projections import events as view
from waha_mcp.projections.chats import chat_list
from waha_mcp.tools import _people as people
from waha_mcp.tools import _transcripts as transcripts
from waha_mcp.tools._common import ChatId, Cursor, Limit, Session, SessionName, Timestamp
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

EventName = Annotated[str, Field(pattern=r"^[a-z0-9._-]{1,64}\*?$")]
Timeout = Annotated[float, Field(ge=0.1, le=120, description="Seconds, at most 120.")]
PROGRESS_EVERY = 5.0  # seconds between progress notifications while a wait goes on
MAX_WAIT = 120.0  # the longest any wait lasts, whatever `timeout` says
LOOK_BACK = 200  # inbox rows read at a time when a wait starts from a cursor


def _events(w: Invocation) -> Events:
    events = w.app.events
    if not isinstance(events, Events):  # None until the lifespan starts it
        raise ToolInputError("the events inbox is not running in this server (WAHA_MCP_EVENTS=off?)")
    return events


async def _stream_note(w: Invocation) -> str | None:
    """Events by /ws from a WAHA whose /ws sends only session.status: say that messages need webhooks."""
    if w.settings.events != "ws":
        return None
    version = await w.server_version()
    if version is None or versions.ws_streams_messages(version):
        return None
    return versions.messages_need_webhooks(version)


async def _phones(w: Invocation, rows: Iterable[Stored]) -> dict[str, str]:
    """LID → phone id for `@lid` senders the ingest could not name yet, looked up per session (cached)."""
    by_session: dict[str, set[str]] = {}
    for row in rows:
        if is_lid(row.summary.sender):
            by_session.setdefault(row.summary.session, set()).add(row.summary.sender or "")
    found: dict[str, str] = {}
    for session, lids in by_session.items():
        with w.acting_as(session):  # each LID is looked up by the account that saw it
            found |= await people.phones(w, sorted(lids))
    return found


@tool(
    "Events received from WAHA (messages, acks, status…), oldest first after `cursor`; filter by session, type, chat.",
    effect=Effect.READ,
    scope="server",
    operations=(people.LIDS, "ServerController_get"),
    default="sandbox",
)
async def get_events(
    w: Invocation,
    session: Session = None,
    sessions: list[SessionName] | None = None,
    types: list[EventName] | None = None,
    chat: ChatId | None = None,
    since: Timestamp | None = None,
    cursor: Cursor | None = None,
    limit: Limit = 50,
) -> view.EventPage:
    after = int(cursor) if cursor else 0
    q = Query(
        sessions=list(dict.fromkeys([*(sessions or []), *([session] if session else [])])),
        events=types or (),
        chat=chat,
        after=after,
        since_ms=int(since) * 1000 if since is not None else None,
        limit=limit + 1,
    )
    rows = await _events(w).inbox.query(q)
    page = view.event_page(rows, after, limit, await _phones(w, rows[:limit]), await _stream_note(w))
    await transcripts.annotate_events(w, page["events"])
    return page


Match = Callable[[Stored], Awaitable[bool]]


async def _wait(w: Invocation, match: Match, query: Query, timeout: float, cursor: str | None) -> view.Waited:
    """The first stored event `match` accepts: from the inbox after `cursor`, else the first to arrive."""
    events = _events(w)
    timeout = min(timeout, MAX_WAIT)
    started = time.monotonic()
    queue = events.waiters.open()  # before looking back: nothing can slip between the two
    last = int(cursor or 0)
    # A wait that times out hands back where the inbox stood when it started (everything up to there was
    # looked at, or predates a wait without cursor), never a position earlier than the one it was given.
    position = max(last, await events.inbox.last_cursor())
    try:
        if cursor:
            while True:
                rows = await events.inbox.query(Query(**{**query.__dict__, "after": last, "limit": LOOK_BACK}))
                for row in rows:
                    if await match(row):
                        return await _waited(w, row, time.monotonic() - started)
                if len(rows) < LOOK_BACK:
                    break
                last = rows[-1].seq
        deadline, next_progress = started + timeout, started + PROGRESS_EVERY
        while (now := time.monotonic()) < deadline:
            try:
                fresh = await asyncio.wait_for(queue.get(), timeout=min(deadline, next_progress) - now)
            except TimeoutError:
                if time.monotonic() >= next_progress:
                    waited = time.monotonic() - started
                    await w.progress(round(waited, 1), timeout, f"waiting for a matching event ({waited:.0f}s)")
                    next_progress += PROGRESS_EVERY
                continue
            for row in fresh:
                last = max(last, row.seq)
                if await match(row):
                    return await _waited(w, row, time.monotonic() - started)
        return view.waited(None, max(last, position), time.monotonic() - started, note=await _stream_note(w))
    finally:
        events.waiters.close(queue)


async def _waited(w: Invocation, row: Stored, seconds: float) -> view.Waited:
    out = view.waited(row, row.seq, seconds, await _phones(w, [row]))
    if "event" in out:
        await transcripts.annotate_events(w, [out["event"]])
    return out


def _type_matches(types: list[str] | None, event: str) -> bool:
    return not types or any(event == t or (t.endswith("*") and event.startswith(t[:-1])) for t in types)


@tool(
    "Wait (at most 120 s) for the next event matching session, types and chat; after `cursor` if given.",
    effect=Effect.READ,
    scope="server",
    operations=(people.LIDS, "ServerController_get"),
)
async def wait_for_event(
    w: Invocation,
    session: Session = None,
    types: list[EventName] | None = None,
    chat: ChatId | None = None,
    timeout: Timeout = 30,
    cursor: Cursor | None = None,
) -> view.Waited:
    async def match(row: Stored) -> bool:
        s = row.summary
        return (
            (session is None or s.session == session)
            and (chat is None or s.chat == chat)
            and _type_matches(types, s.event)
        )

    q = Query(sessions=[session] if session else (), events=types or (), chat=chat)
    return await _wait(w, match, q, timeout, cursor)


@tool(
    "Wait (at most 120 s) for a received message: by chat, sender, text (substring, any case; voice: transcript).",
    effect=Effect.READ,
    operations=(people.LIDS, "ServerController_get"),
    default="sandbox",
)
async def wait_for_message(
    w: Invocation,
    session: Session = None,
    chat: ChatId | None = None,
    sender: ChatId | None = None,
    text: Annotated[str, Field(min_length=1, max_length=200)] | None = None,
    timeout: Timeout = 30,
    cursor: Cursor | None = None,
) -> view.Waited:
    needle = text.casefold() if text else None
    ends = time.monotonic() + min(timeout, MAX_WAIT)

    async def match(row: Stored) -> bool:
        s = row.summary
        if s.event != "message" or s.from_me or s.session != w.session:
            return False
        if chat is not None and s.chat != chat:
            return False
        if needle is not None and needle not in (s.text or "").casefold():
            # A voice note matches by what it says, once transcribed (within this wait's time).
            heard = await transcripts.heard(w, row, ends - time.monotonic())
            if heard is None or needle not in heard.casefold():
                return False
        if sender is None or s.sender == sender:
            return True
        # A sender shown by LID may be the phone number asked for (or the other way round).
        return is_lid(s.sender) and (await _phones(w, [row])).get(s.sender or "") == sender

    q = Query(sessions=[w.session] if w.session else (), events=["message"], chat=chat)
    return await _wait(w, match, q, timeout, cursor)


WEBHOOK_OPERATIONS = ("SessionsController_list", "SessionsController_get", "SessionsController_update")


async def _event_names(w: Invocation, events: list[str] | None) -> list[str]:
    """The names to subscribe: `events`, or the default list this WAHA accepts (events/versions.py)."""
    version = await w.server_version()
    if not events:
        return versions.default_events(version)
    wanted = list(dict.fromkeys(events))
    accepted = versions.accepted_names(version)
    unknown = [e for e in wanted if accepted is not None and e not in accepted]
    if unknown and version is not None:
        names = ", ".join(sorted(accepted or ()))
        raise ToolInputError(
            f"WAHA {version.label} refuses webhook events {', '.join(unknown)} (it knows only its own names, and "
            f"no `*` in a session config); leave `events` out for its defaults, or pick from: {names}"
        )
    return wanted


async def _targets(w: Invocation, session: str | None, sessions: list[str] | None, all: bool) -> list[str]:
    if all:
        listed, down = await w.list_sessions(True)  # every server of a fleet
        if down:
            # A webhook change "for all" that silently skipped a server's sessions would mislead.
            why = "; ".join(f"server '{name}' could not be asked: {reason}" for name, reason in down.items())
            raise ToolInputError(f"{why}: nothing was changed; name the sessions, or retry once it answers")
        return [str(s["name"]) for s in listed if s.get("name")]
    names = list(dict.fromkeys([*(sessions or []), *([session] if session else [])]))
    if names:
        return names
    if w.settings.waha_session:
        return [w.settings.waha_session]
    raise ToolInputError("name the sessions (`session`, `sessions`) or pass `all: true`; WAHA_SESSION is not set")


async def _set_webhooks(
    w: Invocation, name: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> view.WebhookChange:
    with w.acting_as(name):
        current = (await w.call("SessionsController_get")).get("config") or {}
        before = [h for h in current.get("webhooks") or [] if isinstance(h, dict)]
        after = change(before)
        if after != before:
            # WAHA's PUT replaces the whole config: everything else in it (proxy, metadata…) is sent back as it was.
            await w.call("SessionsController_update", body={"config": {**current, "webhooks": after}})
        return view.webhook_change(name, len(after), after != before)


def _url(w: Invocation, url: str | None) -> str:
    found = url or w.settings.webhook_url
    if not found:
        raise ToolInputError("no webhook URL: pass `url` or set WAHA_MCP_WEBHOOK_URL (e.g. https://host/webhooks/waha)")
    if not found.startswith(("http://", "https://")):
        raise ToolInputError(f"url {found[:60]!r} must be an http(s) URL")
    return found


def _which(w: Invocation) -> str:
    args = w.args
    if args.get("all"):
        return "every session on this WAHA"
    names = list(dict.fromkeys([*(args.get("sessions") or []), *([args["session"]] if args.get("session") else [])]))
    names = names or ([w.settings.waha_session] if w.settings.waha_session else [])
    if not names:
        raise ToolInputError("name the sessions (`session`, `sessions`) or pass `all: true`; WAHA_SESSION is not set")
    return f"session {names[0]}" if len(names) == 1 else f"sessions {', '.join(names)}"


async def _configure_question(w: Invocation) -> str:
    # No WAHA call here: the question comes before the call (the default list depends on WAHA's version).
    named = w.args.get("events")
    events = f"{len(dict.fromkeys(named))} events" if named else "the default events"
    return (
        f"Add the webhook {_url(w, w.args.get('url'))} ({events}) to the config of {_which(w)}? "
        "WAHA restarts each of them to apply it; their other webhooks are kept."
    )


async def _remove_question(w: Invocation) -> str:
    return (
        f"Remove the webhook {_url(w, w.args.get('url'))} from the config of {_which(w)}? "
        "WAHA restarts each session whose config changes."
    )


def _ours(hook: dict[str, Any], target: str, secret: str | None) -> bool:
    """Is `hook` this server's webhook: `target`, or the same URL without the secret path segment?"""
    return hook.get("url") in (target, without_secret(target, secret))


@tool(
    "Add this server's webhook to sessions' config (others kept); WAHA restarts each session.",
    effect=Effect.ADMIN,
    scope="server",
    operations=(*WEBHOOK_OPERATIONS, "ServerController_get"),
    question=_configure_question,
)
async def configure_webhooks(
    w: Invocation,
    session: Session = None,
    sessions: list[SessionName] | None = None,
    all: bool = False,
    url: Annotated[str, Field(max_length=500)] | None = None,
    events: list[EventName] | None = None,
    retries: Annotated[int, Field(ge=0, le=15)] = 5,
) -> view.WebhooksConfigured:
    secret = w.settings.path_secret
    # The URL WAHA gets carries the secret path segment when one is set (a WAHA that cannot sign is authenticated
    # by it); shown, it reads `…/***` (the secret is one the redactor knows).
    target = with_secret(_url(w, url), secret)
    names = await _targets(w, session, sessions, all)
    wanted = await _event_names(w, events)
    ours: dict[str, Any] = {"url": target, "events": wanted}
    key = w.settings.hmac_key
    if key:
        ours["hmac"] = {"key": key}
    if retries:
        ours["retries"] = {"policy": "exponential", "delaySeconds": 2, "attempts": retries}

    def merge(hooks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Ours with or without the secret (set up before it was) is replaced, never doubled.
        return [h for h in hooks if not _ours(h, target, secret)] + [ours]

    changes = [await _set_webhooks(w, name, merge) for name in names]
    return view.webhooks_configured(target, wanted, bool(key), changes)


@tool(
    "Remove this server's webhook from sessions' config (others kept); WAHA restarts each changed session.",
    effect=Effect.ADMIN,
    scope="server",
    operations=WEBHOOK_OPERATIONS,
    question=_remove_question,
)
async def remove_webhooks(
    w: Invocation,
    session: Session = None,
    sessions: list[SessionName] | None = None,
    all: bool = False,
    url: Annotated[str, Field(max_length=500)] | None = None,
) -> view.WebhooksConfigured:
    secret = w.settings.path_secret
    target = with_secret(_url(w, url), secret)
    names = await _targets(w, session, sessions, all)
    changes = [
        await _set_webhooks(w, n, lambda hooks: [h for h in hooks if not _ours(h, target, secret)]) for n in names
    ]
    return view.webhooks_configured(target, [], bool(w.settings.hmac_key), changes)


@tool(
    "Conversations across sessions, unread first: WAHA's chats plus what arrived here.",
    effect=Effect.READ,
    scope="server",
    operations=("SessionsController_list", "ChatsController_getChatsOverview"),
)
async def inbox(
    w: Invocation, session: Session = None, sessions: list[SessionName] | None = None, limit: Limit = 20
) -> view.Inbox:
    names = list(dict.fromkeys([*(sessions or []), *([session] if session else [])]))
    if not names:
        listed, down = await w.list_sessions(False)  # every server of a fleet
        names = [str(s["name"]) for s in listed if s.get("status") == "WORKING"]
        problems_down = [f"server {name}: {reason[:120]}" for name, reason in down.items()]
    else:
        problems_down = []
    stored = await _events(w).inbox.conversations(names, limit * len(names) or limit)
    chats: list[view.InboxChat] = []
    problems: list[str] = problems_down
    for name in names:
        try:
            with w.acting_as(name):
                overview = await w.call("ChatsController_getChatsOverview", query={"limit": limit})
        except WAHAError as exc:
            problems.append(f"{name}: {exc.message[:120]}")
            overview = []
        here = {c["chatId"]: c for c in stored if c["session"] == name}
        for chat in chat_list(overview or [], None)["chats"]:
            chats.append(view.inbox_chat(name, dict(chat), here.pop(chat.get("id") or "", None)))
        chats.extend(view.inbox_chat(name, {}, rest) for rest in here.values())
    return view.inbox(chats[: limit * max(1, len(names))], problems, _events(w).ingest.stats())
