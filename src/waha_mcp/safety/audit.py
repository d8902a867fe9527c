"""The audit log: every write call, recorded in the store before and after its WAHA call.

A row is written as `started` before the request and finished (`ok` / `error`) after it, so a process that
dies mid-call leaves the row `started`: visible as started-but-not-finished. A paced send's row is `waiting`
until its slot comes and it goes out (`sending`), so a process that dies while it waits leaves `waiting`: nothing
was sent, and a resumed bulk run sends it. Arguments are summarised
(media data as its size, long text cut) and pass through the one redactor (waha_mcp.redact).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from waha_mcp.redact import Redactor, redact_named
from waha_mcp.store import AuditFilter, AuditStart, Store

# Arguments holding media bytes (base64): recorded as their size only.
MEDIA_ARGUMENTS = frozenset({"data"})
MAX_TEXT = 200


def summary(arguments: dict[str, Any], redactor: Redactor) -> str:
    """The arguments as compact JSON: no media data, no credential (by name or known value), short text."""

    def cut(value: Any) -> Any:
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return f"{value[:MAX_TEXT]}…({len(value)} chars)"
        if isinstance(value, dict):
            return {k: cut(v) for k, v in value.items()}
        if isinstance(value, list):
            return [cut(v) for v in value]
        return value

    kept = {
        name: (f"<{len(value)} chars of media>" if name in MEDIA_ARGUMENTS and isinstance(value, str) else value)
        for name, value in arguments.items()
        if value is not None and name != "session"
    }
    named, _ = redact_named(cut(kept))
    clean = redactor.value(named) if redactor else named
    return json.dumps(clean, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Entry:
    session: str | None
    tool: str
    target: str | None
    arguments: str
    bulk_id: str | None


async def start(store: Store, entry: Entry, *, waiting: bool = False) -> int:
    return await store.audit.start(
        AuditStart(time.time(), entry.session, entry.tool, entry.target, entry.arguments, entry.bulk_id, waiting)
    )


async def sending(store: Store, row: int) -> None:
    """The `waiting` row's call goes out now (durable before it does)."""
    await store.audit.sending(row)


def finish(store: Store, row: int, outcome: str, detail: str | None, message_id: str | None) -> None:
    """Queued, not awaited: the call's answer does not wait for it (a process killed in between leaves the row
    `started`: unknown, which is the truth from the log's point of view). Readers wait for it (`query`)."""
    store.audit.finish(row, time.time(), outcome, detail, message_id)


async def query(
    store: Store,
    *,
    session: str | None = None,
    tool: str | None = None,
    target: str | None = None,
    outcome: str | None = None,
    bulk_id: str | None = None,
    since: float | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first, older than the row `before` when given; `outcome` is ok, error or unfinished (started and
    never finished)."""
    return await store.audit.query(
        AuditFilter(
            session=session,
            tool=tool,
            target=target,
            outcome="started" if outcome == "unfinished" else outcome,
            bulk_id=bulk_id,
            since=since,
            before=before,
            limit=limit,
        )
    )


async def finished_sessions(store: Store, bulk_id: str, tool: str) -> dict[str, str]:
    """Sessions of a bulk run whose call of `tool` went out: `ok`, or `started` (interrupted, outcome unknown).
    A resumed run skips both; a failed one, or one still `waiting` for its pacing slot when its process stopped
    (nothing went out), is tried again."""
    return await store.audit.finished_sessions(bulk_id, tool)
