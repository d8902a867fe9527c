"""The transcript cache: one interface (`TranscriptStore`), a SQLite implementation on today's `Store`.

Keyed by (session, message id): a message is transcribed once, and every replica on the same store reads
the same transcript. Only outcomes are stored (done, or failed with why and when to try again); a
transcription in progress lives in the process running it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from waha_mcp.store import SQLiteStore

Key = tuple[str, str]  # (session, message id)


@dataclass(frozen=True)
class Transcript:
    status: Literal["done", "failed"]
    text: str | None = None
    language: str | None = None
    duration: float | None = None
    error: str | None = None
    retry_at: float | None = None  # failed: unix time after which reading it again tries again (None: only when asked)
    engine: str | None = None
    at: float = 0.0  # unix time of the outcome


class TranscriptStore(Protocol):
    async def get(self, session: str, message_id: str) -> Transcript | None: ...

    async def get_many(self, keys: Iterable[Key]) -> dict[Key, Transcript]: ...

    async def put(self, session: str, message_id: str, transcript: Transcript) -> None: ...

    async def mark_failed(
        self, session: str, message_id: str, error: str, *, retry_at: float | None, engine: str | None
    ) -> None: ...


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


def _row(row: tuple) -> Transcript:  # type: ignore[type-arg]
    return Transcript(*row)


class SqliteTranscripts:
    """`TranscriptStore` in the server's SQLite store (its own table, created here until it joins the store's
    versioned migrations)."""

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


class MemoryTranscripts:
    """`TranscriptStore` in this process's memory: for a store with no transcript table yet (PostgreSQL), so
    transcripts are cached per process there, not shared between replicas. Bounded: the oldest go first."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._rows: dict[Key, Transcript] = {}

    async def get(self, session: str, message_id: str) -> Transcript | None:
        return self._rows.get((session, message_id))

    async def get_many(self, keys: Iterable[Key]) -> dict[Key, Transcript]:
        return {key: self._rows[key] for key in keys if key in self._rows}

    async def put(self, session: str, message_id: str, transcript: Transcript) -> None:
        self._rows.pop((session, message_id), None)
        self._rows[(session, message_id)] = transcript
        while len(self._rows) > self.LIMIT:
            del self._rows[next(iter(self._rows))]

    async def mark_failed(
        self, session: str, message_id: str, error: str, *, retry_at: float | None, engine: str | None
    ) -> None:
        await self.put(
            session, message_id, Transcript("failed", error=error, retry_at=retry_at, engine=engine, at=time.time())
        )


def transcripts_for(store: object) -> TranscriptStore:
    """The transcript cache on the server's store: its SQLite file, else (PostgreSQL) this process's memory."""
    return SqliteTranscripts(store) if isinstance(store, SQLiteStore) else MemoryTranscripts()
