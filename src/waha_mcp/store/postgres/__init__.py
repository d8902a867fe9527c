"""The PostgreSQL backend (`WAHA_MCP_STORE=postgresql://…`): for replicas sharing one database.

asyncpg with a pool (chosen over psycopg 3 by measurement: docs/benchmarks.md, "Store: PostgreSQL driver").
Opening connects once, in a helper thread with its own event loop, to check the server within `CONNECT_WAIT`
seconds and migrate the schema under an advisory lock; the pool is then created on first use on the event
loop that uses it (a pool belongs to one loop), and again should a later loop use the store.

Atomicity across replicas: inbox inserts take one transaction-scoped advisory lock, so `seq` is assigned in
commit order (a reader that has seen `seq` N never later finds a smaller one committed: "after N" is exact);
a pacing reservation or firing takes a lock per session, so a slot is never granted twice. Records nobody
waits on (an audit outcome, a pacing `done`) are queued as tasks and awaited by this instance's next call
that reads them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncpg

from waha_mcp.store.base import Store, StoreError, StoreUnavailable
from waha_mcp.store.postgres.dsn import hide, shown_dsn
from waha_mcp.store.postgres.migrations import LATEST, MIGRATIONS

T = TypeVar("T")
# Seconds opening waits for the server (and for another replica's migration lock) before saying so.
CONNECT_WAIT = 5.0
POOL_MAX = 10
# Seconds a queued record (an audit outcome, a pacing `done`) is retried while the server is unreachable.
RETRY_FOR = 120.0
# Seconds a readiness check (`/healthz`) waits for the server's answer.
READY_WAIT = 2.0
# Connections opened together when the pool is created: a call's audit row, its pacing slot and the records
# queued by the call before it each take one, and opening one mid-call (authentication included) costs more
# than the whole call.
POOL_WARM = 3
# Advisory lock keys (first int4 of the two-key form): one namespace per use, so they never collide.
LOCK_MIGRATE = 0x57414801
LOCK_INBOX = 0x57414802
LOCK_PACING = 0x57414803
log = logging.getLogger("waha_mcp.store")
# The server is gone or unreachable (not: a statement it refused).
UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.ConnectionDoesNotExistError)


class PostgresStore(Store):
    def __init__(self, dsn: str, *, connect_wait: float = CONNECT_WAIT, pool_max: int = POOL_MAX) -> None:
        from waha_mcp.store.postgres.audit import PostgresAudit
        from waha_mcp.store.postgres.directory import PostgresDirectory
        from waha_mcp.store.postgres.inbox import PostgresInbox
        from waha_mcp.store.postgres.pacing import PostgresPacing

        self.dsn = dsn
        self.shown = shown_dsn(dsn)
        self.connect_wait = connect_wait
        self._pool_max = pool_max
        self._pool: asyncpg.Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._pool_lock: asyncio.Lock | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._closed = False
        with ThreadPoolExecutor(1, thread_name_prefix="waha-store-pg-open") as opener:
            self.version = opener.submit(asyncio.run, self._open()).result()
        self.inbox = PostgresInbox(self)
        self.audit = PostgresAudit(self)
        self.pacing = PostgresPacing(self)
        self.directory = PostgresDirectory(self)

    async def _open(self) -> int:
        try:
            db = await asyncpg.connect(self.dsn, timeout=self.connect_wait)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(self._explain(exc)) from None
        try:
            return await asyncio.wait_for(self._migrate(db), self.connect_wait * 6)
        except TimeoutError:
            raise StoreError(
                f"the store {self.shown} did not finish migrating within {self.connect_wait * 6:g} s (another"
                " waha-mcp holding the migration lock?): retry, or check the server's pg_stat_activity"
            ) from None
        except asyncpg.PostgresError as exc:
            raise StoreError(f"the store {self.shown} cannot be used ({hide(str(exc), self.dsn)})") from None
        finally:
            await db.close()

    async def _migrate(self, db: asyncpg.Connection) -> int:
        await db.execute("SELECT pg_advisory_lock($1, 0)", LOCK_MIGRATE)
        try:
            await db.execute("CREATE TABLE IF NOT EXISTS waha_mcp_schema (version INTEGER NOT NULL)")
            version = await db.fetchval("SELECT max(version) FROM waha_mcp_schema") or 0
            if version > LATEST:
                raise StoreError(
                    f"the store {self.shown} is at schema version {version}, written by a newer waha-mcp than this"
                    f" one (which knows {LATEST}): upgrade waha-mcp, or use another database"
                )
            for number in range(version + 1, LATEST + 1):
                async with db.transaction():
                    for statement in MIGRATIONS[number - 1]:
                        await db.execute(statement)
                    await db.execute("INSERT INTO waha_mcp_schema (version) VALUES ($1)", number)
            return LATEST
        finally:
            await db.execute("SELECT pg_advisory_unlock($1, 0)", LOCK_MIGRATE)

    def _explain(self, exc: BaseException) -> str:
        if isinstance(exc, asyncio.TimeoutError):
            cause = f"no answer within {self.connect_wait:g} s"
        elif isinstance(exc, ConnectionRefusedError):
            cause = "connection refused"
        else:
            cause = hide(str(exc) or type(exc).__name__, self.dsn)
        return (
            f"the PostgreSQL store {self.shown} cannot be reached ({cause}): check that the server runs and the"
            " DSN in WAHA_MCP_STORE (host, port, user, password, database)"
        )

    async def pool(self) -> asyncpg.Pool:
        """The pool of the running event loop (created on first use there)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        if self._pool_loop is not loop:
            self._pool, self._pool_loop, self._pool_lock = None, loop, asyncio.Lock()
        if self._pool is None:
            assert self._pool_lock is not None
            async with self._pool_lock:
                if self._pool is None:
                    # min_size 0: no maintenance task of the pool's own outlives a loop that ends without
                    # closing the store (a test, a CLI call); warmed by hand instead.
                    pool = await asyncpg.create_pool(
                        self.dsn, min_size=0, max_size=self._pool_max, timeout=self.connect_wait
                    )
                    held = await asyncio.gather(*(pool.acquire() for _ in range(min(POOL_WARM, self._pool_max))))
                    for db in held:
                        await pool.release(db)
                    self._pool = pool
        return self._pool

    async def run(self, fn: Callable[[asyncpg.Connection], Awaitable[T]], *, tx: bool = True) -> T:
        """`fn(db)` on a pooled connection, in one transaction unless `tx` is false; `StoreUnavailable` when the
        server cannot be reached (the pool replaces dead connections on the next call: recovery needs nothing)."""
        try:
            pool = await self.pool()
            async with pool.acquire(timeout=self.connect_wait) as db:
                if not tx:
                    return await fn(db)
                async with db.transaction():
                    return await fn(db)
        except UNREACHABLE as exc:
            raise StoreUnavailable(self._explain(exc)) from None

    def soon(self, work: Callable[[], Coroutine[Any, Any, Any]], what: str) -> None:
        """Queue `work()` (idempotent) on the running loop; retried while the server is unreachable (for up to
        `RETRY_FOR` seconds: an outcome already acknowledged is not dropped by a restart), then a failure is
        logged (`what` names it), never raised."""
        task = asyncio.get_running_loop().create_task(self._retrying(work))
        self._pending.add(task)

        def finished(done: asyncio.Task[Any]) -> None:
            self._pending.discard(done)
            if not done.cancelled() and done.exception() is not None:
                log.error("the store could not record %s: %s", what, hide(str(done.exception()), self.dsn))

        task.add_done_callback(finished)

    async def _retrying(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        loop = asyncio.get_running_loop()
        give_up, wait = loop.time() + RETRY_FOR, 0.2
        while True:
            try:
                return await work()
            except StoreUnavailable:
                if self._closed or loop.time() + wait > give_up:
                    raise
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)

    async def ready(self) -> str | None:
        try:
            await asyncio.wait_for(self.run(lambda db: db.fetchval("SELECT 1"), tx=False), READY_WAIT)
        except StoreUnavailable as exc:
            return str(exc)
        except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            return self._explain(exc)
        return None

    async def flush(self) -> None:
        """Wait for every record queued by `soon` so far."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        pool, loop, self._pool = self._pool, self._pool_loop, None
        # A pool belongs to its loop: closed with it when that loop still runs; a finished loop took its
        # connections' sockets down with it (the server then sees them drop).
        if pool is not None and loop is not None and not loop.is_closed():
            pool.terminate()


__all__ = ["LOCK_INBOX", "LOCK_PACING", "PostgresStore"]
