"""Toolset `events`: the inbox WAHA's events go into (waha_mcp.events), and waiting for what arrives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from pydantic import Field

from waha_mcp.errors import ToolInputError
from waha_mcp.events import Events, Query, Stored
from waha_mcp.people import is_lid
from waha_mcp.projections import events as view
from waha_mcp.tools import _people as people
from waha_mcp.tools._common import ChatId, Limit, Session, Timestamp
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

SessionName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
EventName = Annotated[str, Field(pattern=r"^[a-z0-9._-]{1,64}\*?$")]
Timeout = Annotated[float, Field(ge=0.1, le=120, description="Seconds, at most 120.")]
Cursor = Annotated[str, Field(pattern=r"^\d{1,19}$")]
PROGRESS_EVERY = 5.0  # seconds between progress notifications while a wait goes on
LOOK_BACK = 200  # inbox rows read at a time when a wait starts from a cursor


def _events(w: Invocation) -> Events:
    events = w.app.events
    if events is None:
        raise ToolInputError("the events inbox is not running in this server (WAHA_MCP_EVENTS=off?)")
    return events  # type: ignore[no-any-return]


async def _phones(w: Invocation, rows: Iterable[Stored]) -> dict[str, str]:
    """LID → phone id for `@lid` senders the ingest could not name yet, looked up per session (cached)."""
    by_session: dict[str, set[str]] = {}
    for row in rows:
        if is_lid(row.summary.sender):
            by_session.setdefault(row.summary.session, set()).add(row.summary.sender or "")
    found: dict[str, str] = {}
    acting = w.session
    try:
        for session, lids in by_session.items():
            w.session = session  # each LID is looked up by the account that saw it
            found |= await people.phones(w, sorted(lids))
    finally:
        w.session = acting
    return found


@tool(
    "waha_get_events",
    "events",
    "Events received from WAHA (messages, acks, status…), oldest first after `cursor`; filter by session, type, chat.",
    effect=Effect.READ,
    scope="server",
    operations=(people.LIDS,),
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
    return view.event_page(rows, after, limit, await _phones(w, rows[:limit]))


Match = Callable[[Stored], Awaitable[bool]]


async def _wait(w: Invocation, match: Match, query: Query, timeout: float, cursor: str | None) -> view.Waited:
    """The first stored event `match` accepts: from the inbox after `cursor`, else the first to arrive."""
    events = _events(w)
    started = time.monotonic()
    queue = events.waiters.open()  # before looking back: nothing can slip between the two
    last = int(cursor or 0)
    try:
        if cursor:
            while True:
                rows = await events.inbox.query(Query(**{**query.__dict__, "after": last, "limit": LOOK_BACK}))
                for row in rows:
                    if await match(row):
                        return view.waited(row, row.seq, time.monotonic() - started, await _phones(w, [row]))
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
                    return view.waited(row, row.seq, time.monotonic() - started, await _phones(w, [row]))
        return view.waited(None, last, time.monotonic() - started)
    finally:
        events.waiters.close(queue)


def _type_matches(types: list[str] | None, event: str) -> bool:
    return not types or any(event == t or (t.endswith("*") and event.startswith(t[:-1])) for t in types)


@tool(
    "waha_wait_for_event",
    "events",
    "Wait (at most 120 s) for the next event matching session, types and chat; after `cursor` if given.",
    effect=Effect.READ,
    scope="server",
    operations=(people.LIDS,),
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
    "waha_wait_for_message",
    "events",
    "Wait (at most 120 s) for a received message: by chat, sender, text (case-insensitive substring).",
    effect=Effect.READ,
    operations=(people.LIDS,),
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

    async def match(row: Stored) -> bool:
        s = row.summary
        if s.event != "message" or s.from_me or s.session != w.session:
            return False
        if (chat is not None and s.chat != chat) or (needle is not None and needle not in (s.text or "").casefold()):
            return False
        if sender is None or s.sender == sender:
            return True
        # A sender shown by LID may be the phone number asked for (or the other way round).
        return is_lid(s.sender) and (await _phones(w, [row])).get(s.sender or "") == sender

    q = Query(sessions=[w.session] if w.session else (), events=["message"], chat=chat)
    return await _wait(w, match, q, timeout, cursor)
