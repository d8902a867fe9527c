"""The audit log on PostgreSQL: `audit_log`; outcomes queued as tasks, awaited before this instance reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg

from waha_mcp.store.base import AUDIT_COLUMNS, AuditFilter, AuditLog, AuditStart

if TYPE_CHECKING:
    from waha_mcp.store.postgres import PostgresStore

COLUMNS = ", ".join(AUDIT_COLUMNS)


SENDING = "UPDATE audit_log SET outcome = 'started' WHERE id = $1 AND outcome = 'waiting'"


class PostgresAudit(AuditLog):
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def start(self, entry: AuditStart) -> int:
        async def insert(db: asyncpg.Connection) -> int:
            return int(
                await db.fetchval(
                    "INSERT INTO audit_log (started, session, tool, target, arguments, outcome, bulk_id)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    entry.started,
                    entry.session,
                    entry.tool,
                    entry.target,
                    entry.arguments,
                    "waiting" if entry.waiting else "started",
                    entry.bulk_id,
                )
            )

        return await self._store.run(insert, tx=False)  # one statement: its own transaction

    async def sending(self, row: int) -> None:
        await self._store.run(
            lambda db: db.execute(SENDING, row),
            tx=False,
        )

    def finish(self, row: int, finished: float, outcome: str, detail: str | None, message_id: str | None) -> None:
        async def update(db: asyncpg.Connection) -> None:
            await db.execute(
                "UPDATE audit_log SET finished = $1, outcome = $2, detail = $3, message_id = $4 WHERE id = $5",
                finished,
                outcome,
                detail,
                message_id,
                row,
            )

        self._store.soon(lambda: self._store.run(update, tx=False), "a call's outcome in the audit log")

    async def query(self, f: AuditFilter) -> list[dict[str, Any]]:
        where: list[str] = []
        values: list[Any] = []

        def arg(value: Any) -> str:
            values.append(value)
            return f"${len(values)}"

        for column, value in (("session", f.session), ("tool", f.tool), ("bulk_id", f.bulk_id)):
            if value is not None:
                where.append(f"{column} = {arg(value)}")
        if f.target is not None:
            where.append(f"strpos(target, {arg(f.target)}) > 0")
        if f.outcome is not None:
            where.append(f"outcome = {arg(f.outcome)}")
        if f.since is not None:
            where.append(f"started >= {arg(float(f.since))}")
        if f.before is not None:
            where.append(f"id < {arg(f.before)}")
        sql = f"SELECT {COLUMNS} FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY id DESC LIMIT {arg(f.limit)}"
        await self._store.flush()  # every outcome queued so far is recorded first
        rows = await self._store.run(lambda db: db.fetch(sql, *values), tx=False)
        return [dict(zip(AUDIT_COLUMNS, tuple(row), strict=True)) for row in rows]

    async def finished_sessions(self, bulk_id: str, tool: str) -> dict[str, str]:
        await self._store.flush()
        rows = await self._store.run(
            lambda db: db.fetch(
                "SELECT session, outcome FROM audit_log WHERE bulk_id = $1 AND tool = $2"
                " AND outcome IN ('ok', 'started') ORDER BY id",
                bulk_id,
                tool,
            ),
            tx=False,
        )
        return {session: outcome for session, outcome in rows if session}
