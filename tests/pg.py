"""The test PostgreSQL (`WAHA_MCP_TEST_PG`, started by `.ci/postgres.sh`; `.ci/run` sets it) for any test module.

Without `WAHA_MCP_TEST_PG` a PostgreSQL test is skipped, saying how to start one; in CI (`CI=true`) it fails
instead, so a CI run can never pass with the PostgreSQL half silently gone. Import `pg_dsn` into a test
module (or conftest) to use it as a fixture.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest

# Read at import: the suite's autouse `clean_env` removes every WAHA_* variable before each test.
PG_DSN = os.environ.get("WAHA_MCP_TEST_PG")
START_PG = 'eval "$(bash .ci/postgres.sh start)"'
BACKENDS = ["sqlite", "postgres"]


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


def store_setting(request: pytest.FixtureRequest, sqlite_path: str) -> str:
    """WAHA_MCP_STORE for a test parametrized over BACKENDS: the SQLite file, or a fresh PostgreSQL schema."""
    return sqlite_path if request.param == "sqlite" else request.getfixturevalue("pg_dsn")
