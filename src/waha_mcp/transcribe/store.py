"""The transcript cache: one interface (`TranscriptStore`); its SQLite and PostgreSQL implementations live with
their backends (waha_mcp.store.sqlite.transcripts, waha_mcp.store.postgres.transcripts), an in-process one here.

Keyed by (session, message id): a message is transcribed once, and every replica on the same store reads
the same transcript. A row is an outcome (done, or failed with why and when to try again) or a claim
(pending: which process is transcribing it, and until when): `claim` is atomic across every process on the
store, so only its winner fetches and transcribes the note; its `put` of the outcome replaces the claim. A
claim whose holder died expires, and the next `claim` takes it over.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

Key = tuple[str, str]  # (session, message id)


@dataclass(frozen=True)
class Transcript:
    status: Literal["done", "failed", "pending"]
    text: str | None = None
    language: str | None = None
    duration: float | None = None
    error: str | None = None
    # failed: unix time after which reading it again tries again (None: only when asked); pending: when the claim
    # expires (its holder is then presumed dead, and the note may be claimed again)
    retry_at: float | None = None
    engine: str | None = None
    at: float = 0.0  # unix time of the outcome (pending: of the claim)
    owner: str | None = None  # pending: the process holding the claim (host:pid:random, for diagnosis)


def claimable(current: Transcript | None, now: float, retry: bool) -> bool:
    """Whether `claim` wins over this row: none, an expired claim, or a failure due for retry (`retry`: any
    failure); never a transcript done, never a live claim. SQLite applies it in its write transaction;
    PostgreSQL states it in its upsert's WHERE (waha_mcp.store.postgres.transcripts)."""
    if current is None:
        return True
    if current.status == "done":
        return False
    if current.status == "failed" and retry:
        return True
    return current.retry_at is not None and current.retry_at <= now


class TranscriptStore(Protocol):
    async def get(self, session: str, message_id: str) -> Transcript | None: ...

    async def get_many(self, keys: Iterable[Key]) -> dict[Key, Transcript]: ...

    async def put(self, session: str, message_id: str, transcript: Transcript) -> None: ...

    async def claim(self, session: str, message_id: str, *, owner: str, until: float, retry: bool = False) -> bool:
        """Atomically, across every process on the store: record that `owner` transcribes this note until
        `until` (a pending row) and answer True, if the row is `claimable`; else change nothing, False."""
        ...

    async def release(self, session: str, message_id: str, *, owner: str) -> None:
        """Give back `owner`'s claim (its transcription stopped without an outcome): the note is nobody's, to be
        claimed at once. Anything else (an outcome, another's claim) is left alone."""
        ...

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

    async def claim(self, session: str, message_id: str, *, owner: str, until: float, retry: bool = False) -> bool:
        # One process, and no await between the read and the write: atomic.
        if not claimable(self._rows.get((session, message_id)), time.time(), retry):
            return False
        await self.put(session, message_id, Transcript("pending", retry_at=until, at=time.time(), owner=owner))
        return True

    async def release(self, session: str, message_id: str, *, owner: str) -> None:
        held = self._rows.get((session, message_id))
        if held is not None and held.status == "pending" and held.owner == owner:
            del self._rows[(session, message_id)]

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
