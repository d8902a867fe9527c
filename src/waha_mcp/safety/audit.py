"""The audit log: every write call, recorded in the store before and after its WAHA call.

A row is written as `started` before the request and finished (`ok` / `error`) after it, so a process that
dies mid-call leaves the row `started`: visible as started-but-not-finished. Arguments are summarised
(media data as its size, long text cut) and pass through the one redactor (waha_mcp.redact).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from waha_mcp.redact import Redactor, redact_named
from waha_mcp.store import Store

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit_log (
        id INTEGER PRIMARY KEY,
        started REAL NOT NULL,
        finished REAL,
        session TEXT,
        tool TEXT NOT NULL,
        target TEXT,
        arguments TEXT NOT NULL,
        outcome TEXT NOT NULL,  -- started | ok | error
        detail TEXT,
        message_id TEXT,
        bulk_id TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS audit_log_started ON audit_log(started)",
    "CREATE INDEX IF NOT EXISTS audit_log_bulk ON audit_log(bulk_id, session)",
)
# Arguments holding media bytes (base64): recorded as their size only.
MEDIA_ARGUMENTS = frozenset({"data"})
MAX_TEXT = 200
log = logging.getLogger("waha_mcp.audit")
_READY: weakref.WeakSet[Store] = weakref.WeakSet()


def ready(store: Store) -> Store:
    """The store with the audit tables (created once per store)."""
    if store not in _READY:
        store.schema(*SCHEMA)
        _READY.add(store)
    return store


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


async def start(store: Store, entry: Entry) -> int:
    now = time.time()

    def insert(db: sqlite3.Connection) -> int:
        cursor = db.execute(
            "INSERT INTO audit_log (started, session, tool, target, arguments, outcome, bulk_id)"
            " VALUES (?, ?, ?, ?, ?, 'started', ?)",
            (now, entry.session, entry.tool, entry.target, entry.arguments, entry.bulk_id),
        )
        return int(cursor.lastrowid or 0)

    return await ready(store).write(insert)


def finish(store: Store, row: int, outcome: str, detail: str | None, message_id: str | None) -> None:
    """Queued, not awaited: the call's answer does not wait for it (a process killed in between leaves the row
    `started`: unknown, which is the truth from the log's point of view). Readers wait for it (`query`)."""
    now = time.time()

    def update(db: sqlite3.Connection) -> None:
        db.execute(
            "UPDATE audit_log SET finished = ?, outcome = ?, detail = ?, message_id = ? WHERE id = ?",
            (now, outcome, detail, message_id, row),
        )

    store.write_soon(update).add_done_callback(_logged)


def _logged(done: Future[None]) -> None:
    if done.exception() is not None:
        log.error("the audit log could not record a call's outcome: %s", done.exception())


COLUMNS = "id, started, finished, session, tool, target, arguments, outcome, detail, message_id, bulk_id"


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
    where, values = [], []
    for column, value in (("session", session), ("tool", tool), ("bulk_id", bulk_id)):
        if value is not None:
            where.append(f"{column} = ?")
            values.append(value)
    if target is not None:
        where.append("instr(target, ?) > 0")
        values.append(target)
    if outcome is not None:
        where.append("outcome = ?")
        values.append("started" if outcome == "unfinished" else outcome)
    if since is not None:
        where.append("started >= ?")
        values.append(since)
    if before is not None:
        where.append("id < ?")
        values.append(before)
    sql = f"SELECT {COLUMNS} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    values.append(limit)

    def select(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return db.execute(sql, values).fetchall()

    await ready(store).write(lambda db: None)  # every outcome queued so far is committed first
    rows = await store.read(select)
    return [dict(zip(COLUMNS.split(", "), row, strict=True)) for row in rows]


async def finished_sessions(store: Store, bulk_id: str, tool: str) -> dict[str, str]:
    """Sessions of a bulk run whose call of `tool` went out: `ok`, or `started` (interrupted, outcome unknown).
    A resumed run skips both; a failed one is tried again."""

    def select(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return db.execute(
            "SELECT session, outcome FROM audit_log WHERE bulk_id = ? AND tool = ? AND outcome IN ('ok', 'started')"
            " ORDER BY id",
            (bulk_id, tool),
        ).fetchall()

    await ready(store).write(lambda db: None)  # every outcome queued so far is committed first
    return {session: outcome for session, outcome in await store.read(select) if session}
