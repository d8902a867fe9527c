"""`TranscriptStore` (waha_mcp.transcribe.store) on the SQLite backend: its own table, created by it until it
joins the versioned migrations."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from waha_mcp.store.sqlite import SQLiteStore
from waha_mcp.transcribe.store import Key, Transcript

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS transcripts (
        session TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        text TEXT,
        language TEXT,
        duration REAL,
        error TEXT,
        retry_at REAL,
        engine TEXT,
        at REAL NOT NULL,
        PRIMARY KEY (session, message_id)
    )""",
)
_COLUMNS = "status, text, language, duration, error, retry_at, engine, at"


def _row(row: tuple[Any, ...]) -> Transcript:
    return Transcript(*row)


class SqliteTranscripts:
    """`TranscriptStore` in the server's SQLite store."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

        def create(db: sqlite3.Connection) -> None:
            for statement in SCHEMA:
                db.execute(statement)

        store.write_sync(create)

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
        t = transcript
        values = (session, message_id, t.status, t.text, t.language, t.duration, t.error, t.retry_at, t.engine,
                  t.at or time.time())  # fmt: skip

        def write(db: sqlite3.Connection) -> None:
            db.execute(f"INSERT OR REPLACE INTO transcripts (session, message_id, {_COLUMNS}) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)  # fmt: skip

        await self._store.write(write)

    async def mark_failed(
        self, session: str, message_id: str, error: str, *, retry_at: float | None, engine: str | None
    ) -> None:
        await self.put(
            session, message_id, Transcript("failed", error=error, retry_at=retry_at, engine=engine, at=time.time())
        )
