"""The inbox on PostgreSQL: `inbox_events`, inserts serialised by an advisory lock so `seq` follows commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from waha_mcp.store.base import Conversation, EventRecord, InboxStore, NewEvent, Query, Retention

if TYPE_CHECKING:
    from waha_mcp.store.postgres import PostgresStore

log = logging.getLogger("waha_mcp.store")
# LISTEN/NOTIFY channel: a commit that stored events notifies it with its highest `seq` (a hint, never rows).
CHANNEL = "waha_mcp_inbox"
# Seconds without a notification before the listening connection is checked (a dead one is replaced, and the
# reader catches up: notifications sent while it was down are lost, the rows are not).
RECHECK = 5.0
RECONNECT_MAX = 5.0

COLUMNS = "seq, id, ts, session, event, chat, sender, message_id, text, media, from_me, status"
# The columns of NewEvent in its order ($1..$13), then the time received ($14).
INSERT_MANY = """INSERT INTO inbox_events (id, ts, session, event, chat, sender, message_id, text, media, from_me,
        status, source, envelope, received)
    SELECT u.id, u.ts, u.session, u.event, u.chat, u.sender, u.message_id, u.text, u.media, u.from_me, u.status,
        u.source, u.envelope, $14
    FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
        $9::text[], $10::bool[], $11::text[], $12::text[], $13::text[])
        WITH ORDINALITY AS u(id, ts, session, event, chat, sender, message_id, text, media, from_me, status, source,
        envelope, n)
    ORDER BY u.n
    ON CONFLICT (id) DO NOTHING RETURNING id, seq"""

TWIN = "SELECT EXISTS (SELECT 1 FROM inbox_events WHERE id = ANY($1::text[]) AND received >= $2)"


def _setter(*events: asyncio.Event) -> Callable[..., None]:
    """A callback (any arguments) setting `events`."""

    def fire(*_: Any) -> None:
        for event in events:
            event.set()

    return fire


def record(row: Sequence[Any]) -> EventRecord:
    return EventRecord(*row)


async def prune(db: asyncpg.Connection, retention: Retention) -> int:
    removed = int((await db.execute("DELETE FROM inbox_events WHERE ts < $1", retention.before_ms)).split()[-1])
    seq = await db.fetchval("SELECT seq FROM inbox_events ORDER BY seq DESC LIMIT 1 OFFSET $1", retention.keep)
    if seq is not None:
        removed += int((await db.execute("DELETE FROM inbox_events WHERE seq <= $1", seq)).split()[-1])
    return removed


class PostgresInbox(InboxStore):
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def add(self, events: Sequence[NewEvent], received_ms: int, retention: Retention | None) -> list[int | None]:
        from waha_mcp.store.postgres import LOCK_INBOX

        async def write(db: asyncpg.Connection) -> list[int | None]:
            # Held to commit: seq values become visible in the order they were drawn.
            await db.execute("SELECT pg_advisory_xact_lock($1, 0)", LOCK_INBOX)
            kept: list[NewEvent] = []
            for e in events:
                # Twins are checked under the inbox lock: a copy committed by another replica is seen here.
                if e.twins and (
                    any(k.id in e.twins for k in kept) or await db.fetchval(TWIN, list(e.twins), e.twins_since)
                ):
                    continue  # a copy received in the neighbouring minute is stored already
                kept.append(e)
            # One statement for the whole batch (rows drawn in batch order); an id already stored, or repeated
            # in the batch, inserts nothing, and only its first occurrence can get a seq.
            columns = [list(column) for column in zip(*kept, strict=True)][:13]  # NewEvent's stored fields
            seqs = {row["id"]: row["seq"] for row in await db.fetch(INSERT_MANY, *columns, received_ms)} if kept else {}
            out = [seqs.pop(e.id, None) for e in events]
            stored = [seq for seq in out if seq is not None]
            if stored:
                # Delivered at commit, to every replica listening (this one too: its reader skips what it published).
                await db.execute("SELECT pg_notify($1, $2)", CHANNEL, str(max(stored)))
            if retention is not None:
                await prune(db, retention)
            return out

        return await self._store.run(write)

    async def prune(self, retention: Retention) -> int:
        return await self._store.run(lambda db: prune(db, retention))

    async def query(self, q: Query) -> list[EventRecord]:
        params: list[Any] = [q.after]
        where = ["seq > $1"]

        def arg(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if q.sessions:
            where.append(f"session = ANY({arg(list(q.sessions))}::text[])")
        exact = [e for e in q.events if not e.endswith("*")]
        prefixes = [e[:-1] for e in q.events if e.endswith("*")]
        if q.events:
            parts = []
            if exact:
                parts.append(f"event = ANY({arg(exact)}::text[])")
            for prefix in prefixes:
                parts.append(f"left(event, {arg(len(prefix))}) = {arg(prefix)}")
            where.append("(" + " OR ".join(parts) + ")")
        if q.chat:
            where.append(f"chat = {arg(q.chat)}")
        if q.since_ms is not None:
            where.append(f"ts >= {arg(q.since_ms)}")
        order = "DESC" if q.newest_first else "ASC"
        sql = (
            f"SELECT {COLUMNS} FROM inbox_events WHERE {' AND '.join(where)} ORDER BY seq {order} LIMIT {arg(q.limit)}"
        )
        rows = await self._store.run(lambda db: db.fetch(sql, *params), tx=False)
        return [record(r) for r in rows]

    async def envelope(self, event_id: str) -> str | None:
        return await self._store.run(
            lambda db: db.fetchval("SELECT envelope FROM inbox_events WHERE id = $1", event_id), tx=False
        )

    async def count(self) -> int:
        return int(await self._store.run(lambda db: db.fetchval("SELECT count(*) FROM inbox_events"), tx=False))

    async def last_cursor(self) -> int:
        return int(
            await self._store.run(lambda db: db.fetchval("SELECT coalesce(max(seq), 0) FROM inbox_events"), tx=False)
        )

    async def conversations(self, sessions: Iterable[str], limit: int) -> list[Conversation]:
        names = list(sessions)
        where = "AND session = ANY($2::text[])" if names else ""
        sql = (
            f"SELECT c.session, c.chat, c.n, {', '.join('e.' + c for c in COLUMNS.split(', '))} FROM"
            " (SELECT session, chat, count(*) AS n, max(seq) AS last FROM inbox_events"
            f" WHERE event = 'message' AND chat IS NOT NULL {where} GROUP BY session, chat"
            " ORDER BY max(seq) DESC LIMIT $1) c JOIN inbox_events e ON e.seq = c.last ORDER BY c.last DESC"
        )
        args: list[Any] = [limit, names] if names else [limit]
        rows = await self._store.run(lambda db: db.fetch(sql, *args), tx=False)
        return [Conversation(r[0], r[1], int(r[2]), record(tuple(r)[3:])) for r in rows]

    async def changes(self) -> AsyncIterator[None]:
        store = self._store
        wait = 0.2
        while True:
            try:
                db = await asyncpg.connect(store.dsn, timeout=store.connect_wait)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("the store %s: cannot listen for other replicas' events (%s); retrying", store.shown,
                            type(exc).__name__)  # fmt: skip
                await asyncio.sleep(wait)
                wait = min(wait * 2, RECONNECT_MAX)
                continue
            heard, lost = asyncio.Event(), asyncio.Event()
            try:
                await db.add_listener(CHANNEL, _setter(heard))
                db.add_termination_listener(_setter(lost, heard))
                wait = 0.2
                yield None  # listening now: catch up on whatever was stored before
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(heard.wait(), RECHECK)
                    except TimeoutError:
                        await db.fetchval("SELECT 1", timeout=RECHECK)  # raises when the connection is gone
                        continue
                    heard.clear()
                    if not lost.is_set():
                        yield None
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("the store %s: lost the connection listening for events (%s); reconnecting",
                            store.shown, type(exc).__name__)  # fmt: skip
            finally:
                db.terminate()
