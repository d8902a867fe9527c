"""Pacing on PostgreSQL: the same three tables as SQLite's; each reservation and firing holds a transaction
advisory lock on its session, so replicas sharing the database take a session's slots one at a time.

Round trips are few (the view in one query, the writes in one statement): the clock is read once the lock is
held, and everything after that delays the send past its slot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import asyncpg

from waha_mcp.store.base import FireView, PacingStore, Slot, SlotView

if TYPE_CHECKING:
    from waha_mcp.store.postgres import PostgresStore

# $1 session, $2 kind, $3 chats, $4 cap
SLOT_VIEW = """SELECT
    (SELECT tat FROM pacing_bucket WHERE session = $1 AND kind = $2),
    (SELECT max(at) FROM pacing_slots WHERE session = $1 AND kind = $2),
    ARRAY(SELECT chat FROM pacing_slots WHERE session = $1 AND chat = ANY($3::text[]) GROUP BY chat ORDER BY chat),
    ARRAY(SELECT max(at) FROM pacing_slots WHERE session = $1 AND chat = ANY($3::text[]) GROUP BY chat ORDER BY chat),
    ARRAY(SELECT chat FROM pacing_chats WHERE session = $1 AND chat = ANY($3::text[])),
    (SELECT max(at) FROM pacing_slots WHERE session = $1 AND first),
    ARRAY(SELECT DISTINCT at FROM pacing_slots WHERE session = $1 AND kind = $2 ORDER BY at DESC LIMIT $4)"""
# $1 session, $2 kind, $3 chats (one NULL for none), $4 at, $5 first, $6 tat, $7 chats to remember
SLOT_WRITE = """WITH slots AS (
        INSERT INTO pacing_slots (session, kind, chat, at, first) SELECT $1, $2, c, $4, $5 FROM unnest($3::text[]) c
        RETURNING id
    ), bucket AS (
        INSERT INTO pacing_bucket (session, kind, tat) VALUES ($1, $2, $6)
        ON CONFLICT (session, kind) DO UPDATE SET tat = excluded.tat
    ), known AS (
        INSERT INTO pacing_chats (session, chat) SELECT $1, c FROM unnest($7::text[]) c ON CONFLICT DO NOTHING
    )
    SELECT ARRAY(SELECT id FROM slots ORDER BY id)"""
# $1 session, $2 kind, $3 row ids, $4 cap
FIRE_VIEW = """WITH mine AS (SELECT id, chat, first FROM pacing_slots WHERE id = ANY($3::bigint[]))
    SELECT
    ARRAY(SELECT chat FROM mine ORDER BY id),
    coalesce((SELECT bool_or(first) FROM mine), false),
    ARRAY(SELECT chat FROM pacing_slots WHERE session = $1 AND fired AND chat IN (SELECT chat FROM mine)
          GROUP BY chat ORDER BY chat),
    ARRAY(SELECT max(at) FROM pacing_slots WHERE session = $1 AND fired AND chat IN (SELECT chat FROM mine)
          GROUP BY chat ORDER BY chat),
    (SELECT max(at) FROM pacing_slots WHERE session = $1 AND first AND fired),
    ARRAY(SELECT DISTINCT at FROM pacing_slots WHERE session = $1 AND kind = $2 AND fired ORDER BY at DESC LIMIT $4)"""

# $1 session, $2 kind, $3 row ids, $4 now, $5 interval
RELEASE = """WITH gone AS (
        DELETE FROM pacing_slots WHERE id = ANY($3::bigint[]) RETURNING chat, first
    ), forgotten AS (
        DELETE FROM pacing_chats WHERE session = $1 AND chat IN (SELECT chat FROM gone WHERE first)
    )
    UPDATE pacing_bucket SET tat = greatest($4, tat - $5) WHERE session = $1 AND kind = $2"""


async def _lock(db: asyncpg.Connection, session: str) -> None:
    from waha_mcp.store.postgres import LOCK_PACING

    await db.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", LOCK_PACING, session)


class PostgresPacing(PacingStore):
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def reserve(
        self,
        session: str,
        kind: str,
        chats: Sequence[str],
        *,
        clock: Callable[[], float],
        keep: float,
        cap: int,
        decide: Callable[[SlotView], Slot],
    ) -> tuple[float, list[int]]:
        chat_list = list(chats)
        slot_chats: list[str | None] = [*chat_list] or [None]  # one slot row with no chat when none is named

        async def run(db: asyncpg.Connection) -> tuple[float, list[int]]:
            await _lock(db, session)
            now = clock()
            await db.execute("DELETE FROM pacing_slots WHERE session = $1 AND at < $2", session, now - keep)
            tat, last, seen, seen_at, known, last_first, recent = await db.fetchrow(
                SLOT_VIEW, session, kind, chat_list, cap
            )
            chat_last: dict[str, float | None] = dict.fromkeys(chat_list)
            chat_last.update(zip(seen, seen_at, strict=True))
            slot = decide(SlotView(now, tat, last, chat_last, frozenset(known), last_first, list(recent)))
            rows = await db.fetchval(
                SLOT_WRITE,
                session,
                kind,
                slot_chats,
                slot.at,
                slot.first,
                slot.tat,
                chat_list if slot.remember else [],
            )
            return slot.at, list(rows)

        await self._store.flush()  # a queued `done` counts before the next slot
        return await self._store.run(run)

    async def fire(
        self,
        session: str,
        kind: str,
        rows: Sequence[int],
        *,
        clock: Callable[[], float],
        cap: int,
        decide: Callable[[FireView], float],
    ) -> float:
        ids = list(rows)

        async def run(db: asyncpg.Connection) -> float:
            await _lock(db, session)
            now = clock()
            chats, first, fired, fired_at, last_first, recent = await db.fetchrow(FIRE_VIEW, session, kind, ids, cap)
            chat_fired: dict[str, float | None] = {chat: None for chat in chats if chat is not None}
            chat_fired.update(zip(fired, fired_at, strict=True))
            wait = decide(FireView(now, list(chats), first, chat_fired, last_first if first else None, list(recent)))
            if wait > 0:
                return wait
            await db.execute("UPDATE pacing_slots SET at = $1, fired = TRUE WHERE id = ANY($2::bigint[])", now, ids)
            return 0.0

        await self._store.flush()
        return await self._store.run(run)

    async def release(
        self, session: str, kind: str, rows: Sequence[int], *, clock: Callable[[], float], interval: float
    ) -> None:
        ids = list(rows)

        async def run(db: asyncpg.Connection) -> None:
            await _lock(db, session)
            await db.execute(RELEASE, session, kind, ids, clock(), interval)

        await self._store.flush()
        await self._store.run(run)

    def done(self, rows: Sequence[int], now: float) -> None:
        ids = list(rows)
        self._store.soon(
            lambda: self._store.run(
                lambda db: db.execute("UPDATE pacing_slots SET at = $1 WHERE id = ANY($2::bigint[])", now, ids),
                tx=False,
            ),
            "a send's time for pacing",
        )
