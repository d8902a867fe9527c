"""The durable store: one transaction per write, durable on return, readable from another connection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from waha_mcp.store import MEMORY, SQLiteStore, default_path, open_store


async def test_a_write_is_committed_when_it_returns(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.write_sync(lambda db: db.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER)"))
    await store.write(lambda db: db.execute("INSERT INTO t VALUES (1)"))
    # Another process's view: a separate connection sees the row at once.
    other = sqlite3.connect(tmp_path / "s.sqlite3")
    assert other.execute("SELECT count(*) FROM t").fetchone() == (1,)
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    store.close()


async def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.write_sync(lambda db: db.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER)"))

    def half(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO t VALUES (1)")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        await store.write(half)
    assert await store.read(lambda db: db.execute("SELECT count(*) FROM t").fetchone()) == (0,)
    store.close()


async def test_memory_store_shares_one_database() -> None:
    store = SQLiteStore(MEMORY)
    store.write_sync(lambda db: db.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER)"))
    await store.write(lambda db: db.execute("INSERT INTO t VALUES (7)"))
    assert await store.read(lambda db: db.execute("SELECT a FROM t").fetchone()) == (7,)
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.read(lambda db: None)


def test_the_default_path_is_per_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "waha-mcp" / "store.sqlite3"
    store = open_store(None)
    assert Path(store.path).exists()
    store.close()


def test_the_sandbox_keeps_its_store_in_memory_unless_one_is_named(tmp_path: Path) -> None:
    from waha_mcp.config import load_settings
    from waha_mcp.server import build_server

    sandbox = build_server(load_settings(WAHA_MCP_SANDBOX=True))
    real = build_server(load_settings(WAHA_BASE_URL="http://127.0.0.1:3000"))
    named = build_server(load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_STORE=str(tmp_path / "mine.sqlite3")))
    try:
        assert sandbox.store().path == MEMORY
        assert real.store().path == str(default_path())
        assert named.store().path == str(tmp_path / "mine.sqlite3")
    finally:
        for server in (sandbox, real, named):
            server.close()
