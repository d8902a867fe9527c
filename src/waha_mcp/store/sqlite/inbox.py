"""The inbox on SQLite: `inbox_events`, `seq` an AUTOINCREMENT key (never reused, even after pruning)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from waha_mcp.store.base import Conversation, EventRecord, InboxStore, NewEvent, Query, Retention

if TYPE_CHECKING:
    from waha_mcp.store.sqlite import SQLiteStore

COLUMNS = "seq, id, ts, session, event, chat, sender, message_id, text, media, from_me, status"


def record(row: Sequence[Any]) -> EventRecord:
    seq, eid, ts, session, event, chat, sender, message_id, text, media, from_me, status = row
    return EventRecord(seq, eid, ts, session, event, chat, sender, message_id, text, media, bool(from_me), status)


def prune(db: sqlite3.Connection, retention: Retention) -> int:
    removed = db.execute("DELETE FROM inbox_events WHERE ts < ?", (retention.before_ms,)).rowcount
    row = db.execute("SELECT seq FROM inbox_events ORDER BY seq DESC LIMIT 1 OFFSET ?", (retention.keep,)).fetchone()
    if row is not None:
        removed += db.execute("DELETE FROM inbox_events WHERE seq <= ?", (row[0],)).rowcount
    return removed


class SQLiteInbox(InboxStore):
    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    async def add(self, events: Sequence[NewEvent], received_ms: int, retention: Retention | None) -> list[int | None]:
        def write(db: sqlite3.Connection) -> list[int | None]:
            out: list[int | None] = []
            for e in events:
                cur = db.execute(
                    "INSERT OR IGNORE INTO inbox_events (id, ts, received, session, event, chat, sender, message_id,"
                    " text, media, from_me, status, source, envelope) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        e.id, e.ts, received_ms, e.session, e.event, e.chat, e.sender, e.message_id,
                        e.text, e.media, int(e.from_me), e.status, e.source, e.envelope,
                    ),
                )  # fmt: skip
                out.append(cur.lastrowid if cur.rowcount else None)
            if retention is not None:
                prune(db, retention)
            return out

        return await self._store.write(write)

    async def prune(self, retention: Retention) -> int:
        return await self._store.write(lambda db: prune(db, retention))

    async def query(self, q: Query) -> list[EventRecord]:
        where: list[str] = ["seq > ?"]
        params: list[str | int] = [q.after]
        if q.sessions:
            where.append(f"session IN ({','.join('?' * len(q.sessions))})")
            params += list(q.sessions)
        exact = [e for e in q.events if not e.endswith("*")]
        prefixes = [e[:-1] for e in q.events if e.endswith("*")]
        if q.events:
            parts = []
            if exact:
                parts.append(f"event IN ({','.join('?' * len(exact))})")
                params += exact
            for prefix in prefixes:
                parts.append("substr(event, 1, ?) = ?")
                params += [len(prefix), prefix]
            where.append("(" + " OR ".join(parts) + ")")
        if q.chat:
            where.append("chat = ?")
            params.append(q.chat)
        if q.since_ms is not None:
            where.append("ts >= ?")
            params.append(q.since_ms)
        order = "DESC" if q.newest_first else "ASC"
        sql = f"SELECT {COLUMNS} FROM inbox_events WHERE {' AND '.join(where)} ORDER BY seq {order} LIMIT ?"
        params.append(q.limit)
        rows = await self._store.read(lambda db: db.execute(sql, params).fetchall())
        return [record(r) for r in rows]

    async def envelope(self, event_id: str) -> str | None:
        row = await self._store.read(
            lambda db: db.execute("SELECT envelope FROM inbox_events WHERE id = ?", (event_id,)).fetchone()
        )
        return row[0] if row else None

    async def count(self) -> int:
        return int((await self._store.read(lambda db: db.execute("SELECT count(*) FROM inbox_events").fetchone()))[0])

    async def last_cursor(self) -> int:
        row = await self._store.read(lambda db: db.execute("SELECT max(seq) FROM inbox_events").fetchone())
        return int(row[0] or 0)

    async def conversations(self, sessions: Iterable[str], limit: int) -> list[Conversation]:
        names = list(sessions)
        where = f"AND session IN ({','.join('?' * len(names))})" if names else ""
        sql = (
            "SELECT session, chat, count(*), max(seq) FROM inbox_events WHERE event = 'message' AND chat IS NOT NULL "
            f"{where} GROUP BY session, chat ORDER BY max(seq) DESC LIMIT ?"
        )

        def select(db: sqlite3.Connection) -> list[Conversation]:
            out = []
            for session, chat, count, seq in db.execute(sql, [*names, limit]).fetchall():
                last = db.execute(f"SELECT {COLUMNS} FROM inbox_events WHERE seq = ?", (seq,)).fetchone()
                out.append(Conversation(session, chat, count, record(last)))
            return out

        return await self._store.read(select)

    async def changes(self) -> AsyncIterator[None]:
        # One process writes a SQLite store (replicas need PostgreSQL): it publishes its own events in-process.
        yield None
        await asyncio.Event().wait()
