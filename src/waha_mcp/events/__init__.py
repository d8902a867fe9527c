"""WAHA's events into a durable inbox: webhook receiver, WebSocket consumer, store, waiters.

`Events` is the process's one instance (owned by `WahaMCP`, like the store): every lifespan run, webhook
request and tool call shares it.
"""

from __future__ import annotations

from waha_mcp.events.inbox import Inbox, Query, Stored
from waha_mcp.events.ingest import Ingest, Outcome, Waiters
from waha_mcp.events.summary import BadEnvelope, Summary, summarise
from waha_mcp.people import LidCache
from waha_mcp.store import Store


class Events:
    def __init__(
        self, store: Store, *, lids: LidCache | None = None, max_age_s: float = 30 * 86400, max_count: int = 200_000
    ) -> None:
        self.inbox = Inbox(store, max_age_s=max_age_s, max_count=max_count)
        self.ingest = Ingest(self.inbox, lids or LidCache())
        self.waiters = Waiters(self.ingest)


__all__ = [
    "BadEnvelope",
    "Events",
    "Inbox",
    "Ingest",
    "Outcome",
    "Query",
    "Stored",
    "Summary",
    "Waiters",
    "summarise",
]
