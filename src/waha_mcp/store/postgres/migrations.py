"""The PostgreSQL schema, version by version (`waha_mcp_schema.version` says which a database is at).

The same tables as SQLite's (waha_mcp.store.sqlite.migrations), in PostgreSQL's types: identity keys for
`seq`, audit and pacing rows, booleans, double precision times. A later version appends a tuple; a shipped
one is never edited. Migrations run under an advisory lock, so replicas starting together apply each once.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the inbox, the audit log, pacing.
    (
        """CREATE TABLE IF NOT EXISTS inbox_events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        ts BIGINT NOT NULL,
        received BIGINT NOT NULL,
        session TEXT NOT NULL,
        event TEXT NOT NULL,
        chat TEXT,
        sender TEXT,
        message_id TEXT,
        text TEXT,
        media TEXT,
        from_me BOOLEAN NOT NULL DEFAULT FALSE,
        status TEXT,
        source TEXT NOT NULL,
        envelope TEXT NOT NULL
    )""",
        "CREATE INDEX IF NOT EXISTS inbox_events_session ON inbox_events (session, seq)",
        "CREATE INDEX IF NOT EXISTS inbox_events_event ON inbox_events (event, seq)",
        "CREATE INDEX IF NOT EXISTS inbox_events_chat ON inbox_events (chat, seq)",
        "CREATE INDEX IF NOT EXISTS inbox_events_ts ON inbox_events (ts)",
        """CREATE TABLE IF NOT EXISTS audit_log (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        started DOUBLE PRECISION NOT NULL,
        finished DOUBLE PRECISION,
        session TEXT,
        tool TEXT NOT NULL,
        target TEXT,
        arguments TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT,
        message_id TEXT,
        bulk_id TEXT
    )""",
        "CREATE INDEX IF NOT EXISTS audit_log_started ON audit_log (started)",
        "CREATE INDEX IF NOT EXISTS audit_log_bulk ON audit_log (bulk_id, session)",
        """CREATE TABLE IF NOT EXISTS pacing_slots (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session TEXT NOT NULL, kind TEXT NOT NULL, chat TEXT, at DOUBLE PRECISION NOT NULL,
        first BOOLEAN NOT NULL DEFAULT FALSE,
        fired BOOLEAN NOT NULL DEFAULT FALSE
    )""",
        "CREATE INDEX IF NOT EXISTS pacing_slots_at ON pacing_slots (session, kind, at)",
        "CREATE INDEX IF NOT EXISTS pacing_slots_chat ON pacing_slots (session, chat, at)",
        "CREATE TABLE IF NOT EXISTS pacing_bucket (session TEXT NOT NULL, kind TEXT NOT NULL,"
        " tat DOUBLE PRECISION NOT NULL, PRIMARY KEY (session, kind))",
        "CREATE TABLE IF NOT EXISTS pacing_chats (session TEXT NOT NULL, chat TEXT NOT NULL,"
        " PRIMARY KEY (session, chat))",
    ),
    # 2: the transcript cache (waha_mcp.transcribe.store), shared by replicas.
    (
        """CREATE TABLE IF NOT EXISTS transcripts (
        session TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        text TEXT,
        language TEXT,
        duration DOUBLE PRECISION,
        error TEXT,
        retry_at DOUBLE PRECISION,
        engine TEXT,
        at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (session, message_id)
    )""",
    ),
    # 3: the session directory (which WAHA server holds which session); `session` NULL marks a server listed empty.
    (
        """CREATE TABLE IF NOT EXISTS session_directory (
        server TEXT NOT NULL,
        session TEXT,
        at DOUBLE PRECISION NOT NULL
    )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS session_directory_key ON session_directory (server, COALESCE(session, ''))",
    ),
    # 4: a transcript row may be a claim (waha_mcp.transcribe.store): status 'pending', `retry_at` the claim's end,
    # `owner` the process holding it, so a voice note is transcribed by one replica however many hear of it.
    (
        "ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS owner TEXT",
        "ALTER TABLE transcripts DROP CONSTRAINT IF EXISTS transcripts_status_check",
        "ALTER TABLE transcripts ADD CONSTRAINT transcripts_status_check"
        " CHECK (status IN ('done', 'failed', 'pending'))",
    ),
)
LATEST = len(MIGRATIONS)
