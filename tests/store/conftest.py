"""Backends for the store's contract suite: every test taking `open_backend` / `store` runs on SQLite and on a
real PostgreSQL (tests/pg.py: skipped without `WAHA_MCP_TEST_PG` locally, failed under `CI=true`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg import BACKENDS, need_postgres, pg_dsn, store_setting
from waha_mcp.store import SQLiteStore, Store, open_store

__all__ = ["need_postgres", "pg_dsn"]

Opener = Callable[[], Store]


@pytest.fixture(params=BACKENDS)
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a new instance on one store (a second instance plays a second process or replica); all closed after."""
    target = store_setting(request, str(tmp_path / "contract.sqlite3"))
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
