"""Pacing on PostgreSQL: the same three tables as SQLite's; each reservation and firing holds a transaction
advisory lock on its session, so replicas sharing the database take a session's slots one at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import asyncpg

from waha_mcp.store.base import FireView, PacingStore, Slot, SlotView

if TYPE_CHECKING:
    from waha_mcp.store.postgres import PostgresStore


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
        now: float,
        keep: float,
        cap: int,
        decide: Callable[[SlotView], Slot],
    ) -> tuple[float, list[int]]:
        chat_list = list(chats)

        async def run(db: asyncpg.Connection) -> tuple[float, list[int]]:
            await _lock(db, session)
            await db.execute("DELETE FROM pacing_slots WHERE session = $1 AND at < $2", session, now - keep)
            tat = await db.fetchval("SELECT tat FROM pacing_bucket WHERE session = $1 AND kind = $2", session, kind)
            last = await db.fetchval("SELECT max(at) FROM pacing_slots WHERE session = $1 AND kind = $2", session, kind)
            chat_last = dict.fromkeys(chat_list)
            for chat, at in await db.fetch(
                "SELECT chat, max(at) FROM pacing_slots WHERE session = $1 AND chat = ANY($2::text[]) GROUP BY chat",
                session,
                chat_list,
            ):
                chat_last[chat] = at
            known = frozenset(
                r[0]
                for r in await db.fetch(
                    "SELECT chat FROM pacing_chats WHERE session = $1 AND chat = ANY($2::text[])", session, chat_list
                )
            )
            last_first = await db.fetchval("SELECT max(at) FROM pacing_slots WHERE session = $1 AND first", session)
            recent = await db.fetch(
                "SELECT DISTINCT at FROM pacing_slots WHERE session = $1 AND kind = $2 ORDER BY at DESC LIMIT $3",
                session,
                kind,
                cap,
            )
            slot = decide(SlotView(tat, last, chat_last, known, last_first, [r[0] for r in recent]))
            rows = [
                int(
                    await db.fetchval(
                        "INSERT INTO pacing_slots (session, kind, chat, at, first) VALUES ($1, $2, $3, $4, $5)"
                        " RETURNING id",
                        session,
                        kind,
                        chat,
                        slot.at,
                        slot.first,
                    )
                )
                for chat in chat_list or [None]
            ]
            await db.execute(
                "INSERT INTO pacing_bucket (session, kind, tat) VALUES ($1, $2, $3)"
                " ON CONFLICT (session, kind) DO UPDATE SET tat = excluded.tat",
                session,
                kind,
                slot.tat,
            )
            if slot.remember and chat_list:
                await db.execute(
                    "INSERT INTO pacing_chats (session, chat) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
                    session,
                    chat_list,
                )
            return slot.at, rows

        await self._store.flush()  # a queued `done` counts before the next slot
        return await self._store.run(run)

    async def fire(
        self, session: str, kind: str, rows: Sequence[int], *, now: float, cap: int, decide: Callable[[FireView], float]
    ) -> float:
        ids = list(rows)

        async def run(db: asyncpg.Connection) -> float:
            await _lock(db, session)
            mine = await db.fetch("SELECT chat, first FROM pacing_slots WHERE id = ANY($1::bigint[])", ids)
            chats = [r[0] for r in mine]
            first = any(r[1] for r in mine)
            named = [c for c in chats if c is not None]
            chat_fired: dict[str, float | None] = dict.fromkeys(named)
            for chat, at in await db.fetch(
                "SELECT chat, max(at) FROM pacing_slots WHERE session = $1 AND chat = ANY($2::text[]) AND fired"
                " GROUP BY chat",
                session,
                named,
            ):
                chat_fired[chat] = at
            last_first = (
                await db.fetchval("SELECT max(at) FROM pacing_slots WHERE session = $1 AND first AND fired", session)
                if first
                else None
            )
            recent = await db.fetch(
                "SELECT DISTINCT at FROM pacing_slots WHERE session = $1 AND kind = $2 AND fired"
                " ORDER BY at DESC LIMIT $3",
                session,
                kind,
                cap,
            )
            wait = decide(FireView(chats, first, chat_fired, last_first, [r[0] for r in recent]))
            if wait > 0:
                return wait
            await db.execute("UPDATE pacing_slots SET at = $1, fired = TRUE WHERE id = ANY($2::bigint[])", now, ids)
            return 0.0

        await self._store.flush()
        return await self._store.run(run)

    def done(self, rows: Sequence[int], now: float) -> None:
        ids = list(rows)
        self._store.soon(
            self._store.run(
                lambda db: db.execute("UPDATE pacing_slots SET at = $1 WHERE id = ANY($2::bigint[])", now, ids),
                tx=False,
            ),
            "a send's time for pacing",
        )
