"""The audit log as the model reads it (rows of waha_mcp.safety.audit)."""

from __future__ import annotations

import json
from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import Time, iso


class AuditEntry(TypedDict):
    id: int
    time: Time
    session: NotRequired[str]
    tool: str
    target: NotRequired[str]
    arguments: dict[str, Any]
    outcome: str  # ok | error | unfinished (started, never finished: interrupted mid-call)
    error: NotRequired[str]
    messageId: NotRequired[str]
    bulkId: NotRequired[str]
    ms: NotRequired[int]


class AuditLog(TypedDict):
    entries: list[AuditEntry]
    more: bool  # older entries match too: pass `cursor` for them
    cursor: NotRequired[str]


def audit_entry(row: dict[str, Any]) -> AuditEntry:
    out: dict[str, Any] = {
        "id": row["id"],
        "time": iso(row["started"]),
        "session": row["session"],
        "tool": row["tool"],
        "target": row["target"],
        "arguments": json.loads(row["arguments"]),
        "outcome": "unfinished" if row["outcome"] == "started" else row["outcome"],
        "error": row["detail"],
        "messageId": row["message_id"],
        "bulkId": row["bulk_id"],
        "ms": round((row["finished"] - row["started"]) * 1000) if row["finished"] else None,
    }
    return cast(AuditEntry, {key: value for key, value in out.items() if value is not None})


def audit_log(rows: list[dict[str, Any]], limit: int) -> AuditLog:
    """`rows` holds one more than `limit` when there are older ones."""
    page = rows[:limit]
    out: AuditLog = {"entries": [audit_entry(row) for row in page], "more": len(rows) > limit}
    if out["more"]:
        out["cursor"] = str(page[-1]["id"])
    return out
