"""The embedded sandbox's events into the inbox (`waha-mcp --sandbox`, one process, no socket to WAHA).

The sandbox logs each event as WAHA's envelope and hands it to its log's listeners (its /ws stream and
webhook delivery listen there too). This feed is one more listener: each record goes through the same
`Ingest.accept` as a WebSocket frame (same dedupe, summaries, waiters, `resources/updated`). Like the
WebSocket consumer it fails soft: a record that cannot be stored is counted and logged, never raised
into the sandbox route that caused it. It hears what the played WAHA's /ws would send: with a profile whose
/ws sends only `session.status` (Core 2024.10), only that, and envelopes shaped as that version's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskStatus

from waha_mcp.events.ingest import Ingest
from waha_mcp.events.summary import BadEnvelope
from waha_mcp.events.ws import IN_FLIGHT

log = logging.getLogger("waha_mcp.events")
Record = dict[str, Any]


def sandbox_listeners(transport: Any) -> list[Callable[[Record], None]] | None:
    """The event log listeners of the sandbox behind a stand-in transport, or None (no embedded sandbox).

    The list object survives a sandbox reset (the new log keeps it), so one subscription lasts."""
    sandbox = getattr(transport, "sandbox", None)
    log_ = getattr(getattr(sandbox, "model", None), "log", None)
    listeners = getattr(log_, "listeners", None)
    return listeners if isinstance(listeners, list) else None


def sandbox_profile(transport: Any) -> Any:
    """The profile (`waha_mcp.sandbox.profiles.Profile`) of the sandbox behind a stand-in transport, or None."""
    return getattr(getattr(transport, "sandbox", None), "profile", None)


class SandboxFeed:
    def __init__(self, listeners: list[Callable[[Record], None]], ingest: Ingest, profile: Any = None) -> None:
        self.listeners = listeners
        self.ingest = ingest
        self.profile = profile
        self.counters: Counter[str] = Counter()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Subscribe, then (once subscribed: `task_status.started()`) store what the sandbox logs, in order."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Record] = asyncio.Queue()

        profile = self.profile

        def hear(record: Record) -> None:
            if profile is not None:
                if profile.core_ws and record.get("event") != "session.status":
                    return
                record = profile.wire(record)
            # Thread-safe: a sandbox served from another thread logs there.
            loop.call_soon_threadsafe(queue.put_nowait, record)

        self.listeners.append(hear)
        task_status.started()
        try:
            while True:
                batch = [await queue.get()]
                while len(batch) < IN_FLIGHT and not queue.empty():
                    batch.append(queue.get_nowait())
                # Started together, in order: group commit stores the batch in one transaction.
                await asyncio.gather(*(self._store(record) for record in batch))
        finally:
            if hear in self.listeners:
                self.listeners.remove(hear)

    async def _store(self, record: Record) -> None:
        try:
            await self.ingest.accept(record, "sandbox")
            self.counters["events"] += 1
        except BadEnvelope:
            self.counters["malformed"] += 1
        except Exception as exc:
            self.counters["lost"] += 1
            log.error("events: a sandbox event could not be stored (%s)", type(exc).__name__)
