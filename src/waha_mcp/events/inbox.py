"""The inbox: every WAHA event stored once by its envelope `id`, with its summary, on the shared store
(`waha_mcp.store.InboxStore`).

`seq` (an integer that only grows) is the cursor: "after cursor N" is exact, whatever the clocks say.
Retention drops the oldest rows by age and by count, checked every `PRUNE_EVERY` new events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from waha_mcp.events.summary import MINUTE_MS, Summary, twins
from waha_mcp.store import EventRecord, NewEvent, Query, Retention, Store

PRUNE_EVERY = 1000


@dataclass(frozen=True)
class Stored:
    seq: int
    summary: Summary

    def compact(self) -> dict[str, Any]:
        return self.summary.compact(self.seq)


def _stored(r: EventRecord) -> Stored:
    return Stored(
        r.seq,
        Summary(r.id, r.ts, r.session, r.event, r.chat, r.sender, r.message_id, r.text, r.media, r.from_me, r.status),
    )


class Inbox:
    """The domain side of the inbox (retention, summaries); rows live in the store's `InboxStore`."""

    def __init__(self, store: Store, *, max_age_s: float = 30 * 86400, max_count: int = 200_000) -> None:
        self.store = store
        self.max_age_s = max_age_s
        self.max_count = max_count
        self._since_prune = 0

    def _retention(self, now_ms: int) -> Retention:
        return Retention(now_ms - int(self.max_age_s * 1000), self.max_count)

    async def add(self, items: Sequence[tuple[Summary, str, bytes | str]]) -> list[int | None]:
        """Store (summary, source, raw envelope JSON) in one transaction: the new row's cursor, or None for
        an id already stored (a retried delivery). Durable when this returns."""
        self._since_prune += len(items)
        prune = self._since_prune >= PRUNE_EVERY
        if prune:
            self._since_prune = 0
        now = int(time.time() * 1000)
        rows = [
            NewEvent(
                s.id, s.ts, s.session, s.event, s.chat, s.sender, s.message_id, s.text, s.media, s.from_me, s.status,
                source, raw if isinstance(raw, str) else raw.decode("utf-8", "replace"), twins(s.id), now - MINUTE_MS,
            )
            for s, source, raw in items
        ]  # fmt: skip
        return await self.store.inbox.add(rows, now, self._retention(now) if prune else None)

    async def prune(self) -> int:
        """Apply retention now (it also runs every PRUNE_EVERY new events); how many rows went."""
        return await self.store.inbox.prune(self._retention(int(time.time() * 1000)))

    async def query(self, q: Query) -> list[Stored]:
        return [_stored(r) for r in await self.store.inbox.query(q)]

    async def envelope(self, event_id: str) -> dict[str, Any] | None:
        raw = await self.store.inbox.envelope(event_id)
        return json.loads(raw) if raw is not None else None

    async def count(self) -> int:
        return await self.store.inbox.count()

    async def last_cursor(self) -> int:
        return await self.store.inbox.last_cursor()

    async def conversations(self, sessions: Iterable[str], limit: int) -> list[dict[str, Any]]:
        """Per (session, chat): the last message event and how many messages arrived, newest first."""
        return [
            {"session": c.session, "chatId": c.chat, "received": c.received, "last": _stored(c.last).compact()}
            for c in await self.store.inbox.conversations(sessions, limit)
        ]


__all__ = ["PRUNE_EVERY", "Inbox", "Query", "Stored"]
