"""Pacing on SQLite: `pacing_slots` (rows by rowid), `pacing_bucket`, `pacing_chats`. Every reservation runs in
one `BEGIN IMMEDIATE` transaction on the single writer: a second process on the file waits for the first."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from waha_mcp.store.base import FireView, PacingStore, Slot, SlotView

if TYPE_CHECKING:
    from waha_mcp.store.sqlite import SQLiteStore


def _marks(n: int) -> str:
    return ",".join("?" * n)


class SQLitePacing(PacingStore):
    def __init__(self, store: SQLiteStore) -> None:
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
        def run(db: sqlite3.Connection) -> tuple[float, list[int]]:
            now = clock()  # inside BEGIN IMMEDIATE: no other writer until this commits
            db.execute("DELETE FROM pacing_slots WHERE session = ? AND at < ?", (session, now - keep))
            row = db.execute("SELECT tat FROM pacing_bucket WHERE session = ? AND kind = ?", (session, kind)).fetchone()
            last = db.execute(
                "SELECT max(at) FROM pacing_slots WHERE session = ? AND kind = ?", (session, kind)
            ).fetchone()[0]
            chat_last = {
                chat: db.execute(
                    "SELECT max(at) FROM pacing_slots WHERE session = ? AND chat = ?", (session, chat)
                ).fetchone()[0]
                for chat in chats
            }
            known = frozenset(
                r[0]
                for r in db.execute(
                    f"SELECT chat FROM pacing_chats WHERE session = ? AND chat IN ({_marks(len(chats))})",
                    (session, *chats),
                )
            )
            last_first = db.execute(
                "SELECT max(at) FROM pacing_slots WHERE session = ? AND first = 1", (session,)
            ).fetchone()[0]
            recent = db.execute(  # distinct: a send to several chats holds one slot per chat, at one time
                "SELECT DISTINCT at FROM pacing_slots WHERE session = ? AND kind = ? ORDER BY at DESC LIMIT ?",
                (session, kind, cap),
            ).fetchall()
            slot = decide(
                SlotView(now, row[0] if row else None, last, chat_last, known, last_first, [r[0] for r in recent])
            )
            rows = [
                int(
                    db.execute(
                        "INSERT INTO pacing_slots (session, kind, chat, at, first) VALUES (?, ?, ?, ?, ?)",
                        (session, kind, chat, slot.at, int(slot.first)),
                    ).lastrowid
                    or 0
                )
                for chat in chats or (None,)
            ]
            db.execute(
                "INSERT INTO pacing_bucket (session, kind, tat) VALUES (?, ?, ?)"
                " ON CONFLICT(session, kind) DO UPDATE SET tat = excluded.tat",
                (session, kind, slot.tat),
            )
            if slot.remember:
                db.executemany("INSERT OR IGNORE INTO pacing_chats VALUES (?, ?)", [(session, chat) for chat in chats])
            return slot.at, rows

        return await self._store.write(run)

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
        marks = _marks(len(rows))

        def run(db: sqlite3.Connection) -> float:
            now = clock()
            mine = db.execute(f"SELECT chat, first FROM pacing_slots WHERE rowid IN ({marks})", rows).fetchall()
            chats = [chat for chat, _ in mine]
            first = any(f for _, f in mine)
            view = FireView(
                now,
                chats,
                first,
                {
                    chat: db.execute(
                        "SELECT max(at) FROM pacing_slots WHERE session = ? AND chat = ? AND fired = 1",
                        (session, chat),
                    ).fetchone()[0]
                    for chat in chats
                    if chat is not None
                },
                db.execute(
                    "SELECT max(at) FROM pacing_slots WHERE session = ? AND first = 1 AND fired = 1", (session,)
                ).fetchone()[0]
                if first
                else None,
                [
                    r[0]
                    for r in db.execute(
                        "SELECT DISTINCT at FROM pacing_slots WHERE session = ? AND kind = ? AND fired = 1"
                        " ORDER BY at DESC LIMIT ?",
                        (session, kind, cap),
                    )
                ],
            )
            wait = decide(view)
            if wait > 0:
                return wait
            db.execute(f"UPDATE pacing_slots SET at = ?, fired = 1 WHERE rowid IN ({marks})", (now, *rows))
            return 0.0

        return await self._store.write(run)

    async def release(
        self, session: str, kind: str, rows: Sequence[int], *, clock: Callable[[], float], interval: float
    ) -> None:
        marks = _marks(len(rows))

        def run(db: sqlite3.Connection) -> None:
            mine = db.execute(f"SELECT chat, first FROM pacing_slots WHERE rowid IN ({marks})", rows).fetchall()
            db.execute(f"DELETE FROM pacing_slots WHERE rowid IN ({marks})", rows)
            db.executemany(
                "DELETE FROM pacing_chats WHERE session = ? AND chat = ?",
                [(session, chat) for chat, first in mine if first and chat],
            )
            db.execute(
                "UPDATE pacing_bucket SET tat = max(?, tat - ?) WHERE session = ? AND kind = ?",
                (clock(), interval, session, kind),
            )

        await self._store.write(run)

    def done(self, rows: Sequence[int], now: float) -> None:
        marks = _marks(len(rows))
        # Queued on the single writer: committed before any later slot is reserved or fired.
        self._store.write_soon(
            lambda db: db.execute(f"UPDATE pacing_slots SET at = ? WHERE rowid IN ({marks})", (now, *rows))
        )
