"""The PostgreSQL backend's own duties: a database written by an earlier schema version is upgraded in place."""

from __future__ import annotations

import time

import pytest

from tests.pg import admin
from tests.store.upgraded import check_transcripts_kept
from waha_mcp.store import AuditFilter, open_store
from waha_mcp.store.postgres.migrations import LATEST, MIGRATIONS
from waha_mcp.transcribe.store import Transcript, transcripts_for


@pytest.fixture
def version_1_dsn(pg_dsn: str) -> str:
    """A database as waha-mcp left it at schema version 1 (before the transcript table), with one audit row."""
    schema = pg_dsn.rsplit("search_path=", 1)[1]
    old_row = "INSERT INTO audit_log (started, tool, arguments, outcome) VALUES (1, 'old', '{}', 'ok')"
    schema_at_1 = ["CREATE TABLE waha_mcp_schema (version INTEGER NOT NULL)", "INSERT INTO waha_mcp_schema VALUES (1)"]
    admin(pg_dsn, ";".join([f"SET search_path TO {schema}", *MIGRATIONS[0], *schema_at_1, old_row]))
    return pg_dsn


async def test_a_version_1_database_gains_the_transcript_table_and_keeps_its_rows(version_1_dsn: str) -> None:
    store = open_store(version_1_dsn)
    try:
        assert store.version == LATEST >= 2
        assert [row["tool"] for row in await store.audit.query(AuditFilter())] == ["old"]
        cache = transcripts_for(store)
        done = Transcript("done", text="kept", at=time.time())
        await cache.put("default", "m1", done)
        assert await cache.get("default", "m1") == done
    finally:
        store.close()


@pytest.fixture
def version_3_dsn(pg_dsn: str) -> str:
    """A database at schema version 3 (transcripts could not yet be claimed), with a transcript done and a failed."""
    schema = pg_dsn.rsplit("search_path=", 1)[1]
    statements = [statement for version in MIGRATIONS[:3] for statement in version]
    rows = [
        "INSERT INTO transcripts (session, message_id, status, text, language, duration, engine, at)"
        " VALUES ('default', 'm1', 'done', 'kept', 'en', 2.5, 'openai:whisper-1', 10)",
        "INSERT INTO transcripts (session, message_id, status, error, retry_at, at)"
        " VALUES ('default', 'm2', 'failed', 'rate-limiting (429)', 20, 11)",
    ]
    schema_at_3 = ["CREATE TABLE waha_mcp_schema (version INTEGER NOT NULL)", "INSERT INTO waha_mcp_schema VALUES (3)"]
    admin(pg_dsn, ";".join([f"SET search_path TO {schema}", *statements, *schema_at_3, *rows]))
    return pg_dsn


async def test_a_version_3_database_lets_transcripts_be_claimed_and_keeps_its_rows(version_3_dsn: str) -> None:
    store = open_store(version_3_dsn)
    try:
        assert store.version == LATEST >= 4
        cache = transcripts_for(store)
        await check_transcripts_kept(cache)
    finally:
        store.close()
