"""The SQLite backend's own duties: upgrading a store written before schema versions, keeping the file
private, and saying in one line why a store cannot be used (issue 18 items 8 and 13)."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from tests.store.upgraded import check_transcripts_kept
from waha_mcp.events import Events, Query
from waha_mcp.safety import audit
from waha_mcp.store import AuditFilter, SQLiteStore, StoreError, default_path, open_store
from waha_mcp.store.sqlite import START_LOCK_WAIT, _warned
from waha_mcp.store.sqlite.migrations import LATEST, MIGRATIONS
from waha_mcp.transcribe.store import transcripts_for

# Written by waha-mcp at main aad056f (before schema versions): 6 events (5 messages over two sessions and a
# session.status), 2 audit rows (one ok, one left `started` under bulk `bulk1`), one fired pacing slot.
FIXTURE = Path(__file__).parent / "fixtures" / "store-aad056f.sqlite3"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def rows(path: Path, table: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        db.close()


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURE, path)
    path.chmod(0o600)
    return path


async def test_a_store_written_before_versions_is_upgraded_without_losing_a_row(old_store: Path) -> None:
    before = {table: rows(old_store, table) for table in ("inbox_events", "audit_log", "pacing_slots", "pacing_chats",
                                                           "pacing_bucket")}  # fmt: skip
    assert sqlite3.connect(old_store).execute("PRAGMA user_version").fetchone() == (0,)
    assert len(before["inbox_events"]) == 6 and len(before["audit_log"]) == 2 and len(before["pacing_slots"]) == 1
    store = SQLiteStore(old_store)
    try:
        assert store.version == LATEST
        after = {table: rows(old_store, table) for table in before}
        assert after == before
        # Readable through the interfaces as before, and the next event continues the cursor.
        events = Events(store)
        stored = await events.inbox.query(Query(limit=10))
        assert [s.summary.id for s in stored] == ["evt_1", "evt_2", "evt_3", "evt_4", "evt_5", "evt_s"]
        assert stored[0].summary.text == "hello 1" and stored[1].summary.session == "work"
        assert (await events.inbox.envelope("evt_3") or {})["payload"]["body"] == "hello 3"
        logged = await audit.query(store)
        assert [(r["tool"], r["outcome"], r["bulk_id"]) for r in logged] == [
            ("waha_send_message", "started", "bulk1"),
            ("waha_send_message", "ok", None),
        ]
        assert await audit.finished_sessions(store, "bulk1", "waha_send_message") == {"work": "started"}
        await events.ingest.accept({"id": "evt_new", "session": "default", "event": "session.status",
                                    "payload": {"status": "WORKING"}}, "ws")  # fmt: skip
        assert await events.inbox.last_cursor() == stored[-1].seq + 1
    finally:
        store.close()
    assert sqlite3.connect(old_store).execute("PRAGMA user_version").fetchone() == (LATEST,)


async def test_a_version_2_store_lets_transcripts_be_claimed_and_keeps_its_rows(tmp_path: Path) -> None:
    """Up to version 2, SqliteTranscripts created its own table, whose CHECK allowed no claim ('pending'): version
    3 rebuilds it, every row kept."""
    path = tmp_path / "v2.sqlite3"
    db = sqlite3.connect(path)
    for statement in (*MIGRATIONS[0], *MIGRATIONS[1], MIGRATIONS[2][0]):  # MIGRATIONS[2][0]: the table as it was
        db.execute(statement)
    db.execute("INSERT INTO transcripts (session, message_id, status, text, language, duration, engine, at)"
               " VALUES ('default', 'm1', 'done', 'kept', 'en', 2.5, 'openai:whisper-1', 10)")  # fmt: skip
    db.execute("INSERT INTO transcripts (session, message_id, status, error, retry_at, at)"
               " VALUES ('default', 'm2', 'failed', 'rate-limiting (429)', 20, 11)")  # fmt: skip
    db.execute("INSERT INTO audit_log (started, tool, arguments, outcome) VALUES (1, 'old', '{}', 'ok')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    try:
        assert store.version == LATEST >= 3
        assert [r["tool"] for r in await store.audit.query(AuditFilter())] == ["old"]
        cache = transcripts_for(store)
        await check_transcripts_kept(cache)
    finally:
        store.close()


async def test_a_new_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "private" / "deeper" / "s.sqlite3"
    store = SQLiteStore(path)
    try:
        await store.audit.start(audit.AuditStart(1.0, "s", "t", None, "{}", None))  # the WAL exists now
        assert mode(path.parent) == 0o700
        sidecars = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
        assert all(p.exists() for p in sidecars)
        assert {p.name: mode(p) for p in (path, *sidecars)} == {p.name: 0o600 for p in (path, *sidecars)}
        assert [r["tool"] for r in await store.audit.query(AuditFilter())] == ["t"]
    finally:
        store.close()


def test_the_default_directory_is_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = open_store(None)
    try:
        assert mode(default_path().parent) == 0o700 and mode(default_path()) == 0o600
    finally:
        store.close()


def test_a_looser_existing_store_is_warned_about_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    default_path().parent.mkdir(parents=True, mode=0o755)
    default_path().parent.chmod(0o755)
    shutil.copyfile(FIXTURE, default_path())
    default_path().chmod(0o644)  # as today's code leaves it
    monkeypatch.setattr("waha_mcp.store.sqlite._warned", set())
    for _ in range(2):
        open_store(None).close()
    path = default_path()
    assert capsys.readouterr().err.splitlines() == [
        f"waha-mcp: warning: the store {path} can be read by other users (file 644, wal 644, shm 644, directory 755);"
        f" it holds message texts and the audit log: chmod 600 {path}* && chmod 700 {path.parent}"
    ]
    assert mode(default_path()) == 0o644  # warned, not changed behind the user's back


def test_a_private_store_is_not_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    SQLiteStore(tmp_path / "s.sqlite3").close()
    SQLiteStore(tmp_path / "s.sqlite3").close()
    assert capsys.readouterr().err == ""
    assert str(tmp_path / "s.sqlite3") not in _warned


def test_a_corrupt_store_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database, just text " * 200)
    path.chmod(0o600)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert str(caught.value) == (
        f"the store {path} is not a readable SQLite database (file is not a database): move it away (a new one is"
        " created) or point WAHA_MCP_STORE elsewhere"
    )


def test_a_locked_store_waits_a_bounded_time_then_says_so(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # another process holding an exclusive lock
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            SQLiteStore(path, lock_wait=0.5)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(caught.value) == (
        f"the store {path} is locked by another process (waited 0.5 s): stop the other waha-mcp using it, or give"
        " this one its own WAHA_MCP_STORE"
    )
    assert 0.4 < waited < 0.5 + 5  # bounded: not SQLite's 30 s busy wait
    assert START_LOCK_WAIT <= 5


def test_a_lock_released_within_the_wait_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.3, lambda: (holder.execute("ROLLBACK"), holder.close())).start()
    SQLiteStore(path, lock_wait=3).close()


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root writes anywhere: permissions cannot refuse it")
def test_an_unwritable_store_is_one_clear_line(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    with pytest.raises(StoreError, match=r"cannot (be written|be opened)"):
        SQLiteStore(locked / "s.sqlite3")


def test_a_store_path_that_is_a_directory_is_one_clear_line(tmp_path: Path) -> None:
    # Runs as root too (CI): a directory cannot be opened as a database whoever asks.
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreError) as caught:
        SQLiteStore(tmp_path / "dir.sqlite3")
    assert str(caught.value).startswith(f"the store {tmp_path / 'dir.sqlite3'} ")
    assert "WAHA_MCP_STORE" in str(caught.value) and "\n" not in str(caught.value)
