"""The SQLite schema, version by version (`PRAGMA user_version` says which a file is at).

Version 1 is the schema waha-mcp wrote before versioning (up to main at aad056f), statement for statement:
its `IF NOT EXISTS` lets a file written then, at user_version 0, be adopted as version 1 without touching a
row. A later version appends a tuple; a shipped one is never edited.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the inbox, the audit log, pacing.
    (
        """CREATE TABLE IF NOT EXISTS inbox_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        ts INTEGER NOT NULL,
        received INTEGER NOT NULL,
        session TEXT NOT NULL,
        event TEXT NOT NULL,
        chat TEXT,
        sender TEXT,
        message_id TEXT,
        text TEXT,
        media TEXT,
        from_me INTEGER NOT NULL DEFAULT 0,
        status TEXT,
        source TEXT NOT NULL,
        envelope TEXT NOT NULL
    )""",
        "CREATE INDEX IF NOT EXISTS inbox_events_session ON inbox_events (session, seq)",
        "CREATE INDEX IF NOT EXISTS inbox_events_event ON inbox_events (event, seq)",
        "CREATE INDEX IF NOT EXISTS inbox_events_chat ON inbox_events (chat, seq)",
        "CREATE INDEX IF NOT EXISTS inbox_events_ts ON inbox_events (ts)",
        """CREATE TABLE IF NOT EXISTS audit_log (
        id INTEGER PRIMARY KEY,
        started REAL NOT NULL,
        finished REAL,
        session TEXT,
        tool TEXT NOT NULL,
        target TEXT,
        arguments TEXT NOT NULL,
        outcome TEXT NOT NULL,  -- started | ok | error
        detail TEXT,
        message_id TEXT,
        bulk_id TEXT
    )""",
        "CREATE INDEX IF NOT EXISTS audit_log_started ON audit_log(started)",
        "CREATE INDEX IF NOT EXISTS audit_log_bulk ON audit_log(bulk_id, session)",
        """CREATE TABLE IF NOT EXISTS pacing_slots (
        session TEXT NOT NULL, kind TEXT NOT NULL, chat TEXT, at REAL NOT NULL, first INTEGER NOT NULL DEFAULT 0,
        fired INTEGER NOT NULL DEFAULT 0  -- 1 once the send went out; `at` is then when it did
    )""",
        "CREATE INDEX IF NOT EXISTS pacing_slots_at ON pacing_slots(session, kind, at)",
        "CREATE INDEX IF NOT EXISTS pacing_slots_chat ON pacing_slots(session, chat, at)",
        "CREATE TABLE IF NOT EXISTS pacing_bucket (session TEXT NOT NULL, kind TEXT NOT NULL, tat REAL NOT NULL,"
        " PRIMARY KEY (session, kind))",
        "CREATE TABLE IF NOT EXISTS pacing_chats (session TEXT NOT NULL, chat TEXT NOT NULL,"
        " PRIMARY KEY (session, chat))",
    ),
    # 2: the session directory (which WAHA server holds which session); `session` NULL marks a server listed empty.
    (
        """CREATE TABLE IF NOT EXISTS session_directory (
        server TEXT NOT NULL,
        session TEXT,
        at REAL NOT NULL
    )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS session_directory_key ON session_directory (server, IFNULL(session, ''))",
    ),
    # 3: the transcript cache (waha_mcp.transcribe.store) joins the versions, and a row may be a claim: status
    # 'pending', `retry_at` the claim's end, `owner` the process holding it. Before, SqliteTranscripts created the
    # table itself (the first statement, as it wrote it), and its CHECK allowed no 'pending': SQLite cannot alter
    # a CHECK, so the table is rebuilt and every row copied.
    (
        """CREATE TABLE IF NOT EXISTS transcripts (
        session TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        text TEXT,
        language TEXT,
        duration REAL,
        error TEXT,
        retry_at REAL,
        engine TEXT,
        at REAL NOT NULL,
        PRIMARY KEY (session, message_id)
    )""",
        """CREATE TABLE transcripts_v3 (
        session TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'failed', 'pending')),
        text TEXT,
        language TEXT,
        duration REAL,
        error TEXT,
        retry_at REAL,
        engine TEXT,
        at REAL NOT NULL,
        owner TEXT,
        PRIMARY KEY (session, message_id)
    )""",
        "INSERT INTO transcripts_v3 (session, message_id, status, text, language, duration, error, retry_at, engine,"
        " at) SELECT session, message_id, status, text, language, duration, error, retry_at, engine, at"
        " FROM transcripts",
        "DROP TABLE transcripts",
        "ALTER TABLE transcripts_v3 RENAME TO transcripts",
    ),
)
LATEST = len(MIGRATIONS)
