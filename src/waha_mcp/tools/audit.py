"""Toolset `audit`: the log of write calls this server made (waha_mcp.safety.audit)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.safety import audit as log
from waha_mcp.tools._common import Cursor, Limit, Session, Timestamp
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool


@tool(
    "Write calls made through this server, newest first (older ones after `cursor`), by session and more; "
    "unfinished = interrupted mid-call.",
    effect=Effect.READ,
    scope="server",
)
async def get_audit_log(
    w: Invocation,
    session: Session = None,
    tool: str | None = None,
    target: Annotated[str | None, Field(description="Chat id (or part of it)")] = None,
    outcome: Literal["ok", "error", "unfinished"] | None = None,
    bulkId: str | None = None,
    since: Timestamp | None = None,
    cursor: Cursor | None = None,
    limit: Limit = 20,
) -> view.AuditLog:
    store = w.app.store
    if store is None:
        raise ToolInputError("the audit log needs the store (WAHA_MCP_STORE), which this server has not opened")
    rows = await log.query(
        store,
        session=session,
        tool=tool,
        target=target,
        outcome=outcome,
        bulk_id=bulkId,
        since=float(since) if since is not None else None,
        before=int(cursor) if cursor is not None else None,
        limit=limit + 1,
    )
    return view.audit_log(rows, limit)
