"""`TranscriptStore` (waha_mcp.transcribe.store) on PostgreSQL: the `transcripts` table (migration 2), so every
replica on the database reads a transcript made by any of them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import asyncpg

from waha_mcp.transcribe.store import Key, Transcript

if TYPE_CHECKING:
    from waha_mcp.store.postgres import PostgresStore

_COLUMNS = "status, text, language, duration, error, retry_at, engine, at"
# $1 sessions, $2 message ids (pairwise): every wanted key in one round trip.
GET_MANY = f"""SELECT session, message_id, {_COLUMNS} FROM transcripts
    JOIN unnest($1::text[], $2::text[]) AS wanted (session, message_id) USING (session, message_id)"""
PUT = f"""INSERT INTO transcripts (session, message_id, {_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (session, message_id) DO UPDATE SET status = excluded.status, text = excluded.text,
    language = excluded.language, duration = excluded.duration, error = excluded.error,
    retry_at = excluded.retry_at, engine = excluded.engine, at = excluded.at"""


class PostgresTranscripts:
    """`TranscriptStore` in the server's PostgreSQL store."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def get(self, session: str, message_id: str) -> Transcript | None:
        return (await self.get_many([(session, message_id)])).get((session, message_id))

    async def get_many(self, keys: Iterable[Key]) -> dict[Key, Transcript]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        sessions = [session for session, _ in wanted]
        ids = [mid for _, mid in wanted]

        async def read(db: asyncpg.Connection) -> dict[Key, Transcript]:
            rows = await db.fetch(GET_MANY, sessions, ids)
            return {(row[0], row[1]): Transcript(*tuple(row)[2:]) for row in rows}

        return await self._store.run(read, tx=False)

    async def put(self, session: str, message_id: str, transcript: Transcript) -> None:
        t = transcript
        values = (session, message_id, t.status, t.text, t.language, t.duration, t.error, t.retry_at, t.engine,
                  t.at or time.time())  # fmt: skip
        await self._store.run(lambda db: db.execute(PUT, *values), tx=False)  # one statement: its own transaction

    async def mark_failed(
        self, session: str, message_id: str, error: str, *, retry_at: float | None, engine: str | None
    ) -> None:
        await self.put(
            session, message_id, Transcript("failed", error=error, retry_at=retry_at, engine=engine, at=time.time())
        )
