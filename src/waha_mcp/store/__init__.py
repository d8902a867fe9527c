"""The server's durable store: the inbox, the audit log and pacing behind domain interfaces (`base`), on SQLite
(the default, one file) or PostgreSQL (`WAHA_MCP_STORE=postgresql://…`, for replicas sharing one database).

`open_store` picks the backend from the setting, opens it and migrates it to the newest schema; a store that
cannot be used raises `StoreError` (one line, password hidden) there, at start, not at the first call.
"""

from __future__ import annotations

import importlib.util

from waha_mcp.store.base import (
    AuditFilter,
    AuditLog,
    AuditStart,
    Conversation,
    EventRecord,
    FireView,
    InboxStore,
    NewEvent,
    PacingStore,
    Query,
    Retention,
    Slot,
    SlotView,
    Store,
    StoreError,
    StoreUnavailable,
)
from waha_mcp.store.sqlite import MEMORY, SQLiteStore, default_path

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(setting: str | None) -> bool:
    return setting is not None and setting.strip().lower().startswith(POSTGRES_SCHEMES)


def open_store(setting: str | None) -> Store:
    """The store WAHA_MCP_STORE names: a `postgresql://` DSN, a SQLite file path, `:memory:`, or unset for the
    per-user default file."""
    if is_postgres(setting):
        assert setting is not None
        from waha_mcp.store.postgres.dsn import shown_dsn

        if importlib.util.find_spec("asyncpg") is None:
            raise StoreError(
                f"WAHA_MCP_STORE names PostgreSQL ({shown_dsn(setting)}) but its driver is not installed:"
                ' pip install "waha-mcp[postgres]"'
            )
        from waha_mcp.store.postgres import PostgresStore

        return PostgresStore(setting.strip())
    return SQLiteStore(setting or default_path())


__all__ = [
    "MEMORY",
    "AuditFilter",
    "AuditLog",
    "AuditStart",
    "Conversation",
    "EventRecord",
    "FireView",
    "InboxStore",
    "NewEvent",
    "PacingStore",
    "Query",
    "Retention",
    "SQLiteStore",
    "Slot",
    "SlotView",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "default_path",
    "is_postgres",
    "open_store",
]
