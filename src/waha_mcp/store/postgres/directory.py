"""The session directory on PostgreSQL: `session_directory`, one row per (server, session)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import asyncpg

from waha_mcp.store.base import SessionDirectory

if TYPE_CHECKING:
    from waha_mcp.store.postgres import PostgresStore


class PostgresDirectory(SessionDirectory):
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def replace(self, server: str, sessions: Iterable[str], at: float) -> None:
        # A server listed empty keeps one row with no session: it was listed, it holds nothing.
        rows: list[tuple[str, str | None, float]] = [(server, name, at) for name in sorted(set(sessions))]
        rows = rows or [(server, None, at)]

        async def write(db: asyncpg.Connection) -> None:
            # Under READ COMMITTED two replacements would each delete only what was committed before them and
            # both insert: one lock per server (held to the commit) makes them take turns.
            lock = "SELECT pg_advisory_xact_lock(hashtext('waha_mcp.session_directory'), hashtext($1))"
            await db.execute(lock, server)
            await db.execute("DELETE FROM session_directory WHERE server = $1", server)
            await db.executemany("INSERT INTO session_directory (server, session, at) VALUES ($1, $2, $3)", rows)

        await self._store.run(write)  # one transaction: readers see the old list or the new one

    async def load(self) -> dict[str, tuple[str, ...]]:
        async def read(db: asyncpg.Connection) -> dict[str, tuple[str, ...]]:
            held: dict[str, list[str]] = {}
            for row in await db.fetch("SELECT server, session FROM session_directory ORDER BY server, session"):
                names = held.setdefault(row["server"], [])
                if row["session"] is not None:
                    names.append(row["session"])
            return {server: tuple(names) for server, names in held.items()}

        return await self._store.run(read, tx=False)
