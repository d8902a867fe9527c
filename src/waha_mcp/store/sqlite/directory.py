"""The session directory on SQLite: `session_directory`, one row per (server, session)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

from waha_mcp.store.base import SessionDirectory

if TYPE_CHECKING:
    from waha_mcp.store.sqlite import SQLiteStore


class SQLiteDirectory(SessionDirectory):
    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    async def replace(self, server: str, sessions: Iterable[str], at: float) -> None:
        # A server listed empty keeps one row with no session: it was listed, it holds nothing.
        rows: list[tuple[str, str | None, float]] = [(server, name, at) for name in sorted(set(sessions))]
        rows = rows or [(server, None, at)]

        def write(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM session_directory WHERE server = ?", (server,))
            db.executemany("INSERT INTO session_directory (server, session, at) VALUES (?, ?, ?)", rows)

        await self._store.write(write)

    async def load(self) -> dict[str, tuple[str, ...]]:
        def read(db: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
            held: dict[str, list[str]] = {}
            for server, name in db.execute("SELECT server, session FROM session_directory ORDER BY server, session"):
                names = held.setdefault(server, [])
                if name is not None:
                    names.append(name)
            return {server: tuple(names) for server, names in held.items()}

        return await self._store.read(read)
