"""Other replicas' events: read back from the shared store by `seq` whenever it signals, and published here.

A replica that stored an event tells its own waiters and subscribers at once (`Ingest._publish`); the others
hear of it through the store's `InboxStore.changes` (PostgreSQL: LISTEN/NOTIFY, carrying only a hint) and read
every row after their cursor. Reading by cursor, not trusting the signal's content, is what makes a missed
notification (a reconnection) harmless: the next signal (one comes after every reconnection) catches up.
"""

from __future__ import annotations

import logging

import anyio
from anyio.abc import TaskStatus

from waha_mcp.events.inbox import Inbox, _stored
from waha_mcp.events.ingest import Ingest
from waha_mcp.store import Query

log = logging.getLogger("waha_mcp.events")
PAGE = 500


class Follower:
    def __init__(self, inbox: Inbox, ingest: Ingest) -> None:
        self.inbox = inbox
        self.ingest = ingest
        self.cursor: int | None = None
        self.listening = False
        self.heard = 0  # events published from the store (stored by another replica)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Follow until cancelled, from the store's newest event when first listening (earlier ones are history);
        `task_status.started()` once listening."""
        self.cursor = None
        self.ingest.published = set()
        try:
            async for _ in self.inbox.store.inbox.changes():
                try:
                    if self.cursor is None:
                        self.cursor = await self.inbox.last_cursor()
                        self.listening = True
                        task_status.started()
                    else:
                        await self.catch_up()
                except Exception as exc:  # the store is down: the next signal (after reconnecting) retries
                    log.warning("events: could not read other replicas' events (%s)", type(exc).__name__)
        finally:
            self.ingest.published = None

    async def catch_up(self) -> None:
        while self.cursor is not None:
            rows = await self.inbox.store.inbox.query(Query(after=self.cursor, limit=PAGE))
            if not rows:
                return
            published = self.ingest.published if self.ingest.published is not None else set()
            fresh = [_stored(r) for r in rows if r.seq not in published]
            self.cursor = rows[-1].seq
            # Seqs at or below the cursor never come back from the store: forget them.
            published.difference_update([s for s in published if s <= self.cursor])
            if fresh:
                self.heard += len(fresh)
                self.ingest.publish(fresh)
            if len(rows) < PAGE:
                return
