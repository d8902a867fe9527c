"""`TranscriptStore` (waha_mcp.transcribe.store) on the SQLite backend: the `transcripts` table (migration 3)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from waha_mcp.store.sqlite import SQLiteStore
from waha_mcp.transcribe.store import Key, Transcript, claimable

_COLUMNS = "status, text, language, duration, error, retry_at, engine, at, owner"
_PUT = f"INSERT OR REPLACE INTO transcripts (session, message_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _row(row: tuple[Any, ...]) -> Transcript:
    return Transcript(*row)


def _values(session: str, message_id: str, t: Transcript) -> tuple[Any, ...]:
    return (session, message_id, t.status, t.text, t.language, t.duration, t.error, t.retry_at, t.engine,
            t.at or time.time(), t.owner)  # fmt: skip


class SqliteTranscripts:
    """`TranscriptStore` in the server's SQLite store."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    async def get(self, session: str, message_id: str) -> Transcript | None:
        return (await self.get_many([(session, message_id)])).get((session, message_id))

    async def get_many(self, keys: Iterable[Key]) -> dict[Key, Transcript]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}

        def read(db: sqlite3.Connection) -> dict[Key, Transcript]:
            found: dict[Key, Transcript] = {}
            for start in range(0, len(wanted), 200):
                chunk = wanted[start : start + 200]
                where = " OR ".join(["(session = ? AND message_id = ?)"] * len(chunk))
                params = [value for key in chunk for value in key]
                sql = f"SELECT session, message_id, {_COLUMNS} FROM transcripts WHERE {where}"
                for session, mid, *rest in db.execute(sql, params):
                    found[(session, mid)] = _row(tuple(rest))
            return found

        return await self._store.read(read)

    async def put(self, session: str, message_id: str, transcript: Transcript) -> None:
        values = _values(session, message_id, transcript)
        await self._store.write(lambda db: db.execute(_PUT, values))

    async def claim(self, session: str, message_id: str, *, owner: str, until: float, retry: bool = False) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            # In the writer's BEGIN IMMEDIATE transaction: no other process writes between this read and the write.
            sql = f"SELECT {_COLUMNS} FROM transcripts WHERE session = ? AND message_id = ?"
            row = db.execute(sql, (session, message_id)).fetchone()
            now = time.time()
            if not claimable(_row(tuple(row)) if row else None, now, retry):
                return False
            db.execute(_PUT, _values(session, message_id, Transcript("pending", retry_at=until, at=now, owner=owner)))
            return True

        return await self._store.write(write)

    async def release(self, session: str, message_id: str, *, owner: str) -> None:
        sql = "DELETE FROM transcripts WHERE session = ? AND message_id = ? AND status = 'pending' AND owner = ?"
        await self._store.write(lambda db: db.execute(sql, (session, message_id, owner)))

    async def mark_failed(
        self, session: str, message_id: str, error: str, *, retry_at: float | None, engine: str | None
    ) -> None:
        await self.put(
            session, message_id, Transcript("failed", error=error, retry_at=retry_at, engine=engine, at=time.time())
        )
