"""The ordered log of what happened in the sandbox, one WAHA webhook envelope per event.

Each record is what WAHA would POST to a webhook: `{id, timestamp, session, metadata, engine,
event, payload, me, environment}`, with `id` an `evt_` + lower-case ULID. Ids only grow (also
across a reset, which starts a new log from the old one's last id), so `since(after=id)` is a
plain comparison and never replays or skips an event.
"""

from __future__ import annotations

import copy
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from .environment import environment

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
DEFAULT_BASE_URL = "http://localhost:3000"


def _base32(value: int, length: int) -> str:
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(length)))


class EventLog:
    def __init__(self, previous: EventLog | None = None) -> None:
        self._records: list[dict[str, Any]] = []
        self._last: tuple[int, int] = previous._last if previous else (0, 0)
        # Media URLs in logged messages point at the host clients last used (set by the app).
        self.base_url: str = previous.base_url if previous else DEFAULT_BASE_URL
        self.engine: str = previous.engine if previous else "NOWEB"  # the played engine (the sandbox's profile sets it)
        # Who hears each new record as it is logged (the /ws stream, webhook delivery: events*.py); kept
        # across a reset like the ids.
        self.listeners: list[Callable[[dict[str, Any]], None]] = previous.listeners if previous else []

    def _next_id(self) -> str:
        # A ULID's 80 random bits (github.com/ulid/spec), fresh each millisecond, so two WAHA servers of a fleet never
        # mint the same id (the inbox drops a repeated id as a redelivery); one bit spare for counting on.
        ms, n = int(time.time() * 1000), secrets.randbits(79)
        if ms <= self._last[0]:  # same millisecond (or a clock step back): count on, stay ordered (monotonic ULID)
            ms, n = self._last[0], self._last[1] + 1
        self._last = (ms, n)
        return "evt_" + _base32(ms, 10) + _base32(n, 16)

    def append(self, session: str, event: str, payload: Any, *, metadata: Any = None, me: Any = None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self._next_id(),
            "timestamp": self._last[0],
            "session": session,
            "metadata": metadata or {},
            "engine": self.engine,
            "event": event,
            "payload": payload,
            "environment": environment(),
        }
        if me is not None:
            record["me"] = me
        self._records.append(record)
        for listener in list(self.listeners):
            try:
                listener(copy.deepcopy(record))
            except Exception:  # a listener never breaks the route that caused the event
                logging.getLogger("waha_mcp.sandbox").exception("sandbox event listener failed")
        return record

    def since(self, after: str | None = None) -> list[dict[str, Any]]:
        """Records newer than `after` (all without it), oldest first; copies, the log stays as it was."""
        found = [r for r in self._records if after is None or r["id"] > after]
        return copy.deepcopy(found)

    def clear(self) -> None:
        self._records.clear()
