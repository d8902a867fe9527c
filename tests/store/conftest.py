"""Backends for the store's contract suite: every test taking `open_backend` / `store` runs on SQLite and on a
real PostgreSQL (`WAHA_MCP_TEST_PG`, started by `.ci/postgres.sh`; `.ci/run` sets it).

Without `WAHA_MCP_TEST_PG` the PostgreSQL half is skipped, saying how to start one; in CI (`CI=true`) it fails
instead, so a CI run can never pass with half the suite silently gone.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from waha_mcp.store import SQLiteStore, Store, open_store

# Read at import: the suite's autouse `clean_env` removes every WAHA_* variable before each test.
PG_DSN = os.environ.get("WAHA_MCP_TEST_PG")
START_PG = 'eval "$(bash .ci/postgres.sh start)"'

Opener = Callable[[], Store]


def need_postgres() -> str:
    if PG_DSN:
        return PG_DSN
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but WAHA_MCP_TEST_PG is not set: .ci/run must start PostgreSQL ({START_PG})")
    pytest.skip(f"WAHA_MCP_TEST_PG is not set: start a PostgreSQL with {START_PG}")


async def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    db = await asyncpg.connect(dsn)
    try:
        await db.execute(sql)
    finally:
        await db.close()


def admin(dsn: str, sql: str) -> None:
    """Run `sql` on the test server from synchronous code (a fixture, outside the test's event loop)."""
    asyncio.run(_admin(dsn, sql))


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A DSN on an empty schema of its own (asyncpg passes `search_path` as a server setting), dropped after."""
    base = need_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin(base, f"CREATE SCHEMA {schema}")
    query = urlsplit(base).query
    yield f"{base}{'&' if query else '?'}{urlencode({'search_path': schema})}"
    admin(base, f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a new instance on one store (a second instance plays a second process or replica); all closed after."""
    target = str(tmp_path / "contract.sqlite3") if request.param == "sqlite" else request.getfixturevalue("pg_dsn")
    opened: list[Store] = []

    def opener() -> Store:
        store = open_store(target)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_backend: Opener) -> Store:
    return open_backend()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    yield store
    store.close()
