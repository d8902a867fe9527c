"""Results of a call across sessions: one compact row per session."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.chats import Chat


class BulkRow(TypedDict):
    session: str
    status: Literal["ok", "error", "skipped", "would run"]
    result: NotRequired[dict[str, Any]]  # the tool's own compact result, without the session
    error: NotRequired[str]
    why: NotRequired[str]


class ServerDown(TypedDict):
    server: str
    error: str


class BulkResult(TypedDict):
    bulkId: str
    tool: str
    rows: list[BulkRow]
    counts: dict[str, int]
    unreachable: NotRequired[list[ServerDown]]  # fleet servers that could not list their sessions


class UnreadSession(TypedDict):
    session: str
    chats: NotRequired[list[Chat]]
    error: NotRequired[str]


class UnreadEverywhere(TypedDict):
    sessions: list[UnreadSession]
    unreadChats: int
    unreachable: NotRequired[list[ServerDown]]  # fleet servers that could not list their sessions


def bulk_row(
    session: str, status: str, *, result: Any = None, error: str | None = None, why: str | None = None
) -> BulkRow:
    row: dict[str, Any] = {"session": session, "status": status}
    if isinstance(result, dict):
        row["result"] = {k: v for k, v in result.items() if k != "session"}
    if error:
        row["error"] = error
    if why:
        row["why"] = why
    return cast(BulkRow, row)


def bulk_result(bulk_id: str, tool: str, rows: list[BulkRow], unreachable: dict[str, str] | None = None) -> BulkResult:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    out: BulkResult = {"bulkId": bulk_id, "tool": tool, "rows": rows, "counts": counts}
    if unreachable:
        out["unreachable"] = servers_down(unreachable)
    return out


def servers_down(unreachable: dict[str, str]) -> list[ServerDown]:
    return [{"server": name, "error": why} for name, why in unreachable.items()]


def unread_everywhere(
    found: list[tuple[str, list[Chat] | None, str | None]], unreachable: dict[str, str] | None = None
) -> UnreadEverywhere:
    sessions: list[UnreadSession] = []
    total = 0
    for name, chats, error in found:
        if error is not None:
            sessions.append({"session": name, "error": error})
            continue
        unread = [chat for chat in chats or [] if chat.get("unread")]
        total += len(unread)
        sessions.append({"session": name, "chats": unread})
    out: UnreadEverywhere = {"sessions": sessions, "unreadChats": total}
    if unreachable:
        out["unreachable"] = servers_down(unreachable)
    return out
