"""The inbox: every WAHA event stored once by its envelope `id`, with its summary, on the shared `Store`.

`seq` (an integer that only grows) is the cursor: "after cursor N" is exact, whatever the clocks say.
Retention drops the oldest rows by age and by count, checked every `PRUNE_EVERY` new events.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from waha_mcp.events.summary import Summary
from waha_mcp.store import Store

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS inbox_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        ts INTEGER NOT NULL,
        received INTEGER NOT NULL,
        session TEXT NOT NULL,
        event TEXT NOT NULL,
        chat TEXT,
        sender TEXT,
        message_id TEXT,
        text TEXT,
        media TEXT,
        from_me INTEGER NOT NULL DEFAULT 0,
        status TEXT,
        source TEXT NOT NULL,
        envelope TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS inbox_events_session ON inbox_events (session, seq)",
    "CREATE INDEX IF NOT EXISTS inbox_events_event ON inbox_events (event, seq)",
    "CREATE INDEX IF NOT EXISTS inbox_events_chat ON inbox_events (chat, seq)",
    "CREATE INDEX IF NOT EXISTS inbox_events_ts ON inbox_events (ts)",
)
COLUMNS = "seq, id, ts, session, event, chat, sender, message_id, text, media, from_me, status"
PRUNE_EVERY = 1000


@dataclass(frozen=True)
class Stored:
    seq: int
    summary: Summary

    def compact(self) -> dict[str, Any]:
        return self.summary.compact(self.seq)


@dataclass(frozen=True)
class Query:
    sessions: Sequence[str] = ()
    events: Sequence[str] = ()  # exact names, or a prefix ending in `*` (`message*`, `group.v2.*`)
    chat: str | None = None
    after: int = 0  # cursor
    since_ms: int | None = None
    limit: int = 50
    newest_first: bool = False


def _row(row: sqlite3.Row | tuple[Any, ...]) -> Stored:
    seq, eid, ts, session, event, chat, sender, message_id, text, media, from_me, status = row
    return Stored(
        seq,
        Summary(eid, ts, session, event, chat, sender, message_id, text, media, bool(from_me), status),
    )


class Inbox:
    def __init__(self, store: Store, *, max_age_s: float = 30 * 86400, max_count: int = 200_000) -> None:
        self.store = store
        self.max_age_s = max_age_s
        self.max_count = max_count
        self._since_prune = 0
        store.schema(*SCHEMA)

    async def add(self, items: Sequence[tuple[Summary, str, bytes | str]]) -> list[int | None]:
        """Store (summary, source, raw envelope JSON) in one transaction: the new row's cursor, or None for
        an id already stored (a retried delivery). Durable when this returns."""
        self._since_prune += len(items)
        prune = self._since_prune >= PRUNE_EVERY
        if prune:
            self._since_prune = 0
        now = int(time.time() * 1000)

        def write(db: sqlite3.Connection) -> list[int | None]:
            out: list[int | None] = []
            for s, source, raw in items:
                cur = db.execute(
                    "INSERT OR IGNORE INTO inbox_events (id, ts, received, session, event, chat, sender, message_id,"
                    " text, media, from_me, status, source, envelope) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        s.id, s.ts, now, s.session, s.event, s.chat, s.sender, s.message_id,
                        s.text, s.media, int(s.from_me), s.status, source,
                        raw if isinstance(raw, str) else raw.decode("utf-8", "replace"),
                    ),
                )  # fmt: skip
                out.append(cur.lastrowid if cur.rowcount else None)
            if prune:
                self._prune(db, now)
            return out

        return await self.store.write(write)

    def _prune(self, db: sqlite3.Connection, now_ms: int) -> int:
        removed = db.execute("DELETE FROM inbox_events WHERE ts < ?", (now_ms - int(self.max_age_s * 1000),)).rowcount
        row = db.execute(
            "SELECT seq FROM inbox_events ORDER BY seq DESC LIMIT 1 OFFSET ?", (self.max_count,)
        ).fetchone()
        if row is not None:
            removed += db.execute("DELETE FROM inbox_events WHERE seq <= ?", (row[0],)).rowcount
        return removed

    async def prune(self) -> int:
        """Apply retention now (it also runs every PRUNE_EVERY new events); how many rows went."""
        return await self.store.write(lambda db: self._prune(db, int(time.time() * 1000)))

    async def query(self, q: Query) -> list[Stored]:
        where, params = ["seq > ?"], [q.after]
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
        rows = await self.store.read(lambda db: db.execute(sql, params).fetchall())
        return [_row(r) for r in rows]

    async def envelope(self, event_id: str) -> dict[str, Any] | None:
        row = await self.store.read(
            lambda db: db.execute("SELECT envelope FROM inbox_events WHERE id = ?", (event_id,)).fetchone()
        )
        return json.loads(row[0]) if row else None

    async def count(self) -> int:
        return int((await self.store.read(lambda db: db.execute("SELECT count(*) FROM inbox_events").fetchone()))[0])

    async def last_cursor(self) -> int:
        row = await self.store.read(lambda db: db.execute("SELECT max(seq) FROM inbox_events").fetchone())
        return int(row[0] or 0)

    async def conversations(self, sessions: Iterable[str], limit: int) -> list[dict[str, Any]]:
        """Per (session, chat): the last message event and how many messages arrived, newest first."""
        names = list(sessions)
        where = f"AND session IN ({','.join('?' * len(names))})" if names else ""
        sql = (
            "SELECT session, chat, count(*), max(seq) FROM inbox_events WHERE event = 'message' AND chat IS NOT NULL "
            f"{where} GROUP BY session, chat ORDER BY max(seq) DESC LIMIT ?"
        )
        rows = await self.store.read(lambda db: db.execute(sql, [*names, limit]).fetchall())
        out = []
        for session, chat, count, seq in rows:
            last = await self.store.read(
                lambda db, s=seq: db.execute(f"SELECT {COLUMNS} FROM inbox_events WHERE seq = ?", (s,)).fetchone()
            )
            out.append({"session": session, "chatId": chat, "received": count, "last": _row(last).compact()})
        return out
