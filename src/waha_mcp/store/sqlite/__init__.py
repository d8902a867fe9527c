"""The SQLite backend (the default): one file in WAL mode, private to its user, migrated at open.

One writer thread (SQLite allows one writer at a time) and one reader thread, each with its own connection;
a write's function runs inside one transaction, committed before `write` returns. The domain stores
(`inbox`, `audit`, `pacing`) are the only users of `write` / `read`: their SQL lives in this package.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from waha_mcp.store.base import Store, StoreError
from waha_mcp.store.sqlite.migrations import LATEST, MIGRATIONS

T = TypeVar("T")
MEMORY = ":memory:"
# How long opening waits for a lock another process holds, seconds: start-up says so instead of hanging.
START_LOCK_WAIT = 3.0
# Once running, a write waits this long for another process's transaction (a replica on the same file).
BUSY_WAIT = 30.0
SIDECARS = ("-wal", "-shm", "-journal")
_warned: set[str] = set()


def default_path() -> Path:
    """Per user: $XDG_STATE_HOME/waha-mcp/store.sqlite3 (~/.local/state/… when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "waha-mcp" / "store.sqlite3"


class SQLiteStore(Store):
    def __init__(self, path: str | Path, *, lock_wait: float = START_LOCK_WAIT) -> None:
        from waha_mcp.store.sqlite.audit import SQLiteAudit
        from waha_mcp.store.sqlite.directory import SQLiteDirectory
        from waha_mcp.store.sqlite.inbox import SQLiteInbox
        from waha_mcp.store.sqlite.pacing import SQLitePacing

        self.path = str(path)
        self.shown = self.path
        self._closed = False
        self._local = threading.local()
        self._timeout = lock_wait
        self._shared: sqlite3.Connection | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="waha-store-w")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="waha-store-r")
        try:
            if self.path != MEMORY:
                _prepare(Path(self.path))
            # One connection for ":memory:" (a second would see another, empty database).
            self._shared = self._connect() if self.path == MEMORY else None
            # Open, configure and migrate on the writer now: a store that cannot be used says so at start.
            self.version = self._run_sync(self._writer, self._migrate, tx=False)
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(_explain(self.path, exc, lock_wait)) from None
        except OSError as exc:
            self.close()
            raise StoreError(f"the store {self.path} cannot be opened: {exc.strerror or exc}; check its path") from None
        self._timeout = BUSY_WAIT
        self._run_sync(self._writer, lambda db: db.execute(f"PRAGMA busy_timeout = {int(BUSY_WAIT * 1000)}"), tx=False)
        self.inbox = SQLiteInbox(self)
        self.audit = SQLiteAudit(self)
        self.pacing = SQLitePacing(self)
        self.directory = SQLiteDirectory(self)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=self._timeout)
        if self.path != MEMORY:
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed transaction survives a killed process (not a power cut before
            # the next checkpoint), at a fraction of FULL's fsync cost.
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _migrate(self, db: sqlite3.Connection) -> int:
        """Bring the file to the newest schema, each version in its own transaction; the version reached."""
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > LATEST:
            raise StoreError(
                f"the store {self.path} is at schema version {version}, written by a newer waha-mcp than this one"
                f" (which knows {LATEST}): upgrade waha-mcp, or point WAHA_MCP_STORE elsewhere"
            )
        for number in range(version + 1, LATEST + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number - 1]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        if self.path != MEMORY:
            _warn_if_open(Path(self.path))
        return LATEST

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

    # The backend's own access, for its domain stores (and tests of this backend): SQLite SQL stays here.

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

    async def ready(self) -> str | None:
        return None  # a local file: there is no server to lose while running

    async def flush(self) -> None:
        if not self._closed:
            await self.write(lambda db: None)  # the single writer runs queued writes in order

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


def _prepare(path: Path) -> None:
    """The store holds message texts and the audit log: its directory 0700 and its file 0600 when this creates
    them (SQLite gives the WAL and shared-memory files the database file's mode)."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is masked by the umask
    if not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        else:
            os.chmod(path, 0o600)


def _warn_if_open(path: Path) -> None:
    """An existing store open to other users is warned about once per process (stderr), not changed: the
    file, its WAL and shared-memory files, and the directory when it is waha-mcp's own (the default one)."""
    if str(path) in _warned:
        return
    loose = []
    for item, label in (
        (path, "file"),
        *((Path(f"{path}{suffix}"), suffix.lstrip("-")) for suffix in SIDECARS),
        *(((path.parent, "directory"),) if path.parent == default_path().parent else ()),
    ):
        try:
            mode = stat.S_IMODE(item.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            loose.append(f"{label} {mode:o}")
    if loose:
        _warned.add(str(path))
        fix = f"chmod 600 {path}*" + (f" && chmod 700 {path.parent}" if any("directory" in x for x in loose) else "")
        print(
            f"waha-mcp: warning: the store {path} can be read by other users ({', '.join(loose)}); it holds message"
            f" texts and the audit log: {fix}",
            file=sys.stderr,
        )


def _explain(path: str, exc: sqlite3.Error, lock_wait: float) -> str:
    """One line for a store SQLite cannot use: the path, the cause, the next step."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (
            f"the store {path} is locked by another process (waited {lock_wait:g} s): stop the other waha-mcp"
            f" using it, or give this one its own WAHA_MCP_STORE"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"the store {path} is not a readable SQLite database ({exc}): move it away (a new one is created)"
            f" or point WAHA_MCP_STORE elsewhere"
        )
    if "readonly" in text or "unable to open" in text or "permission" in text or "disk i/o" in text:
        return (
            f"the store {path} cannot be written ({exc}): check the permissions of the file and its directory,"
            f" or point WAHA_MCP_STORE elsewhere"
        )
    return f"the store {path} cannot be used ({exc}): point WAHA_MCP_STORE elsewhere"
