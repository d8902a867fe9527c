"""`TranscriptStore` (waha_mcp.transcribe.store) on PostgreSQL: the `transcripts` table (migrations 2 and 4), so
every replica on the database reads a transcript made by any of them, and one of them makes it (`claim`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import asyncpg

from waha_mcp.transcribe.store import Key, Transcript

if TYPE_CHECKING:
    from waha_mcp.store.postgres import PostgresStore

_COLUMNS = "status, text, language, duration, error, retry_at, engine, at, owner"
# $1 sessions, $2 message ids (pairwise): every wanted key in one round trip.
GET_MANY = f"""SELECT session, message_id, {_COLUMNS} FROM transcripts
    JOIN unnest($1::text[], $2::text[]) AS wanted (session, message_id) USING (session, message_id)"""
_REPLACE = """ON CONFLICT (session, message_id) DO UPDATE SET status = excluded.status, text = excluded.text,
    language = excluded.language, duration = excluded.duration, error = excluded.error,
    retry_at = excluded.retry_at, engine = excluded.engine, at = excluded.at, owner = excluded.owner"""
PUT = f"""INSERT INTO transcripts (session, message_id, {_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) {_REPLACE}"""
# $1 session, $2 message id, $3 the claim's end, $4 its owner, $5 now, $6 retry any failure. One statement: a
# concurrent claimer of the same key waits on the row's lock and then sees the committed claim, so exactly one
# wins. The WHERE is waha_mcp.transcribe.store.claimable: an expired claim, a failure due (or any, $6).
CLAIM = f"""INSERT INTO transcripts AS t (session, message_id, status, retry_at, owner, at)
    VALUES ($1, $2, 'pending', $3, $4, $5) {_REPLACE}
    WHERE (t.status = 'pending' AND t.retry_at <= $5) OR (t.status = 'failed' AND ($6 OR t.retry_at <= $5))
    RETURNING 1"""
RELEASE = "DELETE FROM transcripts WHERE session = $1 AND message_id = $2 AND status = 'pending' AND owner = $3"


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
                  t.at or time.time(), t.owner)  # fmt: skip
        await self._store.run(lambda db: db.execute(PUT, *values), tx=False)  # one statement: its own transaction

    async def claim(self, session: str, message_id: str, *, owner: str, until: float, retry: bool = False) -> bool:
        values = (session, message_id, until, owner, time.time(), retry)
        won = await self._store.run(lambda db: db.fetchval(CLAIM, *values), tx=False)
        return won is not None

    async def release(self, session: str, message_id: str, *, owner: str) -> None:
        await self._store.run(lambda db: db.execute(RELEASE, session, message_id, owner), tx=False)

    async def mark_failed(
        self, session: str, message_id: str, error: str, *, retry_at: float | None, engine: str | None
    ) -> None:
        await self.put(
            session, message_id, Transcript("failed", error=error, retry_at=retry_at, engine=engine, at=time.time())
        )
