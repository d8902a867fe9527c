"""The audit log on SQLite: `audit_log`; outcomes queued on the single writer, so they commit in order."""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from waha_mcp.store.base import AUDIT_COLUMNS, AuditFilter, AuditLog, AuditStart

if TYPE_CHECKING:
    from waha_mcp.store.sqlite import SQLiteStore

log = logging.getLogger("waha_mcp.audit")
COLUMNS = ", ".join(AUDIT_COLUMNS)


def _logged(done: Future[None]) -> None:
    if done.exception() is not None:
        log.error("the audit log could not record a call's outcome: %s", done.exception())


class SQLiteAudit(AuditLog):
    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    async def start(self, entry: AuditStart) -> int:
        def insert(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "INSERT INTO audit_log (started, session, tool, target, arguments, outcome, bulk_id)"
                " VALUES (?, ?, ?, ?, ?, 'started', ?)",
                (entry.started, entry.session, entry.tool, entry.target, entry.arguments, entry.bulk_id),
            )
            return int(cursor.lastrowid or 0)

        return await self._store.write(insert)

    def finish(self, row: int, finished: float, outcome: str, detail: str | None, message_id: str | None) -> None:
        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE audit_log SET finished = ?, outcome = ?, detail = ?, message_id = ? WHERE id = ?",
                (finished, outcome, detail, message_id, row),
            )

        self._store.write_soon(update).add_done_callback(_logged)

    async def query(self, f: AuditFilter) -> list[dict[str, Any]]:
        where: list[str] = []
        values: list[str | int | float] = []
        for column, value in (("session", f.session), ("tool", f.tool), ("bulk_id", f.bulk_id)):
            if value is not None:
                where.append(f"{column} = ?")
                values.append(value)
        if f.target is not None:
            where.append("instr(target, ?) > 0")
            values.append(f.target)
        if f.outcome is not None:
            where.append("outcome = ?")
            values.append(f.outcome)
        if f.since is not None:
            where.append("started >= ?")
            values.append(f.since)
        if f.before is not None:
            where.append("id < ?")
            values.append(f.before)
        sql = f"SELECT {COLUMNS} FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        values.append(f.limit)
        await self._store.write(lambda db: None)  # every outcome queued so far is committed first
        rows = await self._store.read(lambda db: db.execute(sql, values).fetchall())
        return [dict(zip(AUDIT_COLUMNS, row, strict=True)) for row in rows]

    async def finished_sessions(self, bulk_id: str, tool: str) -> dict[str, str]:
        def select(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return db.execute(
                "SELECT session, outcome FROM audit_log WHERE bulk_id = ? AND tool = ?"
                " AND outcome IN ('ok', 'started') ORDER BY id",
                (bulk_id, tool),
            ).fetchall()

        await self._store.write(lambda db: None)  # every outcome queued so far is committed first
        return {session: outcome for session, outcome in await self._store.read(select) if session}
