"""The transcript cache: one interface (`TranscriptStore`); its SQLite and PostgreSQL implementations live with
their backends (waha_mcp.store.sqlite.transcripts, waha_mcp.store.postgres.transcripts), an in-process one here.

Keyed by (session, message id): a message is transcribed once, and every replica on the same store reads
the same transcript. Only outcomes are stored (done, or failed with why and when to try again); a
transcription in progress lives in the process running it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

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


class MemoryTranscripts:
    """`TranscriptStore` in this process's memory: for a store with no transcript table of its own, so
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
    """The transcript cache on the server's store, in its own backend (waha_mcp.store.sqlite.transcripts,
    waha_mcp.store.postgres.transcripts); this process's memory for a store of any other kind."""
    import importlib.util

    from waha_mcp.store import SQLiteStore
    from waha_mcp.store.sqlite.transcripts import SqliteTranscripts

    if isinstance(store, SQLiteStore):
        return SqliteTranscripts(store)
    if importlib.util.find_spec("asyncpg") is not None:  # without it there is no PostgreSQL store
        from waha_mcp.store.postgres import PostgresStore
        from waha_mcp.store.postgres.transcripts import PostgresTranscripts

        if isinstance(store, PostgresStore):
            return PostgresTranscripts(store)
    return MemoryTranscripts()
