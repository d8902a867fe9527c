"""Ingest: envelope → summary → durable write → everyone waiting hears of it.

Writes are grouped: envelopes that arrive while a transaction is being committed go in the next one
(group commit), so a burst of webhook deliveries costs a few transactions, not one each, and every
caller still returns only once its own event is committed (the webhook is acknowledged after that).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from waha_mcp.events.inbox import Inbox, Stored
from waha_mcp.events.summary import GAP, KNOWN_EVENTS, Summary, summarise
from waha_mcp.people import LidCache
from waha_mcp.safety.holds import Holds

log = logging.getLogger("waha_mcp.events")
Listener = Callable[[list[Stored]], None]


@dataclass
class Outcome:
    new: bool
    seq: int | None
    summary: Summary


@dataclass
class Ingest:
    inbox: Inbox
    lids: LidCache = field(default_factory=LidCache)
    holds: Holds = field(default_factory=Holds)  # `session.status` tells of capping and timelocks
    # Sessions WAHA is known to have (None: not known yet); events for others are stored and counted.
    known_sessions: set[str] | None = None
    counters: Counter[str] = field(default_factory=Counter)
    listeners: list[Listener] = field(default_factory=list)
    _pending: list[tuple[Summary, str, bytes | str, asyncio.Future[int | None]]] = field(default_factory=list)
    _flusher: asyncio.Task[None] | None = None
    # While a `Follower` reads other replicas' events from the store: the seqs published here that it has not
    # passed yet, so each event reaches the listeners once whichever path sees it first.
    published: set[int] | None = None

    async def accept(self, envelope: dict[str, Any], source: str, raw: bytes | str | None = None) -> Outcome:
        """Store one envelope (`BadEnvelope` if it is not one); returns once it is durable."""
        summary = summarise(envelope, self.lids)
        if summary.event not in KNOWN_EVENTS and summary.event != GAP:
            self.counters["unknownEvent"] += 1
        if summary.event == "session.status":
            self.holds.learn_status(summary.session, envelope)
        if summary.event == "session.status" and self.known_sessions is not None:
            self.known_sessions.add(summary.session)  # WAHA reports on it: it exists (a session just created)
        elif self.known_sessions is not None and summary.session not in self.known_sessions:
            self.counters["unknownSession"] += 1
        body = raw if raw is not None else json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.append((summary, source, body, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        seq = await asyncio.shield(future)
        self.counters["stored" if seq is not None else "duplicate"] += 1
        return Outcome(seq is not None, seq, summary)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                seqs = await self.inbox.add([(s, src, raw) for s, src, raw, _ in batch])
            except Exception as exc:
                log.error("events: storing %d event(s) failed: %s", len(batch), type(exc).__name__)
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            fresh = []
            for (summary, *_, future), seq in zip(batch, seqs, strict=True):
                if not future.done():
                    future.set_result(seq)
                if seq is not None:
                    fresh.append(Stored(seq, summary))
            if fresh:
                self._publish(fresh)

    def _publish(self, fresh: list[Stored]) -> None:
        if self.published is not None:
            fresh = [row for row in fresh if row.seq not in self.published]
            self.published.update(row.seq for row in fresh)
            if not fresh:
                return
        for listener in list(self.listeners):
            try:
                listener(fresh)
            except Exception:
                log.exception("events: a listener failed")

    async def gap(self, session: str, start_ms: int, end_ms: int, reason: str, server: str | None = None) -> Outcome:
        """A marker saying events between `start_ms` and `end_ms` may be missing (the stream was down); in a fleet,
        one per server whose stream was down (`server`), each its own row even when two fell at the same moment."""
        payload: dict[str, Any] = {"from": start_ms, "to": end_ms, "reason": reason}
        if server is not None:
            payload["server"] = server
        envelope = {
            "id": f"gap_{start_ms}_{end_ms}_{session}" + (f"_{server}" if server is not None else ""),
            "timestamp": end_ms,
            "session": session,
            "event": GAP,
            "payload": payload,
        }
        return await self.accept(envelope, "gap")

    def publish(self, rows: list[Stored]) -> None:
        """Events another replica stored (read back from the store): to the listeners, as if stored here."""
        self._publish(rows)

    def stats(self) -> dict[str, int]:
        return dict(self.counters)


class Waiters:
    """Every waiter gets every newly stored event (one queue each); each applies its own filter."""

    def __init__(self, ingest: Ingest) -> None:
        self._queues: set[asyncio.Queue[list[Stored]]] = set()
        ingest.listeners.append(self._deliver)

    def _deliver(self, fresh: list[Stored]) -> None:
        for queue in self._queues:
            queue.put_nowait(fresh)

    def open(self) -> asyncio.Queue[list[Stored]]:
        queue: asyncio.Queue[list[Stored]] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def close(self, queue: asyncio.Queue[list[Stored]]) -> None:
        self._queues.discard(queue)

    def __len__(self) -> int:
        return len(self._queues)


def now_ms() -> int:
    return int(time.time() * 1000)
