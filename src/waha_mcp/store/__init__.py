"""The server's durable store: one SQLite file (WAL) behind a small interface.

Events (the inbox), the audit log and pacing state each own their tables; they declare them with
`Store.schema` and reach the database only through `Store.write` / `Store.read`, so another backend
(PostgreSQL, for replicas) can take this class's place without touching them.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
MEMORY = ":memory:"


def default_path() -> Path:
    """Per user: $XDG_STATE_HOME/waha-mcp/store.sqlite3 (~/.local/state/… when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "waha-mcp" / "store.sqlite3"


class Store:
    """One writer thread (SQLite allows one writer at a time) and one reader thread, each with its own
    connection; a write's function runs inside one transaction, committed before `write` returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="waha-store-w")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="waha-store-r")
        self._local = threading.local()
        self._schemas: list[str] = []
        self._closed = False
        # One connection for ":memory:" (a second would see another, empty database).
        self._shared = self._connect() if self.path == MEMORY else None
        self._run_sync(self._writer, lambda db: None)  # open and configure the writer now: errors surface at start

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        if self.path != MEMORY:
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed transaction survives a killed process (not a power cut before
            # the next checkpoint), at a fraction of FULL's fsync cost.
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _db(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def _run_sync(self, pool: ThreadPoolExecutor, fn: Callable[[sqlite3.Connection], T], *, tx: bool = True) -> T:
        return pool.submit(self._in_thread, fn, tx).result()

    def _in_thread(self, fn: Callable[[sqlite3.Connection], T], tx: bool) -> T:
        db = self._db()
        if not tx:
            return fn(db)
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    def schema(self, *statements: str) -> None:
        """Create tables and indexes (idempotent `CREATE … IF NOT EXISTS` statements)."""

        def apply(db: sqlite3.Connection) -> None:
            for statement in statements:
                db.execute(statement)

        self._run_sync(self._writer, apply)
        self._schemas.extend(statements)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(db)` in one transaction on the writer thread; durable when this returns."""
        if self._closed:
            raise RuntimeError("the store is closed")
        return await asyncio.wrap_future(self._writer.submit(self._in_thread, fn, True))

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(db)` on the reader thread (WAL: readers never wait for the writer)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        pool = self._writer if self._shared is not None else self._reader
        return await asyncio.wrap_future(pool.submit(self._in_thread, fn, False))

    def write_soon(self, fn: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Queue `fn(db)` on the writer thread without waiting: it commits after every write queued before it
        and before any queued after it (one writer, in order). For records nobody waits on."""
        if self._closed:
            raise RuntimeError("the store is closed")
        return self._writer.submit(self._in_thread, fn, True)

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`write` for code that runs outside the event loop (start-up, the CLI, tests)."""
        return self._run_sync(self._writer, fn)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for pool in (self._writer, self._reader):
            pool.submit(self._close_local)
            pool.shutdown(wait=True)
        if self._shared is not None:
            self._shared.close()

    def _close_local(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def open_store(setting: str | None) -> Store:
    """The store WAHA_MCP_STORE names: a file path, `:memory:`, or unset for the per-user default."""
    return Store(setting or default_path())
