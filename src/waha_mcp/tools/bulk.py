"""Toolset `bulk`: one call across many sessions (off by default).

Each session's call goes through the whole pipeline on its own (allow-lists, pacing, audit apply per
session); the bulk call confirms once for all of them (waha_mcp.safety.confirm). A bulk id marks every
audited call, so a run cut short resumes with the same id without repeating what already went out.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal, NamedTuple

from mcp_types import CallToolResult
from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError, one_line
from waha_mcp.safety import audit
from waha_mcp.safety.guards import allow_refusal
from waha_mcp.sessions import validate_session_name
from waha_mcp.tools import chats  # noqa: F401  (registers waha_get_chats, used below)
from waha_mcp.tools._common import Limit, Session, SessionName, error_result
from waha_mcp.tools.pipeline import CURRENT, Invocation, Next, check_arguments, contain, invoke, resolve, scrub
from waha_mcp.tools.registry import REGISTRY, Effect, ToolSpec, exposed_tool, select_for, tool

# Sessions worked on at once: WAHA answers each in tens of milliseconds, so 100 sessions take ~4 rounds.
CONCURRENCY = 32  # sessions worked on at once per WAHA server (each server of a fleet has its own gate)
LIST = "SessionsController_list"
Which = list[SessionName] | Literal["all", "working"]


def _inner(w: Invocation, name: str) -> ToolSpec:
    """The tool to run per session: one this connection could call itself (over HTTP its narrowing headers apply
    to the inner tool as to any call), and not one that fans out itself."""
    spec = exposed_tool(name, select_for(w.settings), w.settings, getattr(w.context, "headers", None))
    if spec.fans_out:
        raise ToolInputError(f"{name} is itself a bulk tool; name a single-session tool")
    return spec


async def _sessions(w: Invocation, which: Any) -> list[str]:
    if isinstance(which, list):
        return list(dict.fromkeys(validate_session_name(name) for name in which))
    token = CURRENT.set(w)  # the confirmation guard asks before `run` sets it: the call is still this tool's
    try:
        found, down = await w.list_sessions(True)  # every server of a fleet, in parallel
    finally:
        CURRENT.reset(token)
    names = [
        s["name"]
        for s in found
        if isinstance(s, dict) and isinstance(s.get("name"), str) and (which == "all" or s.get("status") == "WORKING")
    ]
    # A server that did not answer: the sessions the directory knows it holds are kept, so each fails with the
    # reason (one server down fails only its own sessions); the server itself is reported too.
    w.state["unreachable"] = down
    for server in down:
        names.extend(name for name in w.client.listed.get(server, ()) if name not in names)
    return names


class Plan(NamedTuple):
    spec: ToolSpec
    sessions: list[str]


async def plan(w: Invocation) -> Plan:
    """The tool and the sessions, worked out once per call (the confirmation guard asks before the tool runs)."""
    planned = w.state.get("plan")
    if not isinstance(planned, Plan):
        spec = _inner(w, w.args["tool"])
        which = w.args.get("sessions")
        if which is None:
            which = [w.args["session"]] if w.args.get("session") else "working"
        planned = w.state["plan"] = Plan(spec, await _sessions(w, which))
        w.bulk_id = w.args.get("bulkId") or secrets.token_hex(4)
    return planned


async def _question(w: Invocation) -> str | None:
    """A write over more than WAHA_MCP_BULK_CONFIRM_OVER sessions, or any destructive tool, is confirmed once."""
    spec, names = await plan(w)
    if w.args.get("dryRun") or spec.read_only:
        return None
    if not spec.policy.confirm and len(names) <= w.settings.bulk_confirm_over:
        return None
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"Confirm {spec.name} for {len(names)} sessions ({shown})?"


async def _dry_run(w: Invocation, spec: ToolSpec, name: str, arguments: dict[str, Any]) -> view.BulkRow:
    """What the allow-lists would say of this session's call (the guards' own check, on the arguments as the
    call would check them), sending nothing."""
    inner = _for_session(w, spec, name, arguments)
    out = await invoke(inner, [scrub, contain, check_arguments, resolve, _allowed])
    if out.is_error:
        return view.bulk_row(name, "skipped", why=one_line(" ".join(getattr(b, "text", "") for b in out.content)))
    return view.bulk_row(name, "would run")


async def _allowed(inv: Invocation, nxt: Next) -> CallToolResult:
    problem = await allow_refusal(inv)
    return error_result(problem) if problem else CallToolResult(content=[])


def _for_session(w: Invocation, spec: ToolSpec, name: str, arguments: dict[str, Any]) -> Invocation:
    return Invocation(
        spec,
        arguments | {"session": name},
        w.app,
        # No request context: progress is the bulk call's own (one increasing count), and the bulk call was
        # confirmed once for every session where that was needed.
        None,
        read_only=w.read_only,
        confirmed=w.confirmed,
        bulk_id=w.bulk_id,
    )


async def _run_one(w: Invocation, spec: ToolSpec, name: str, arguments: dict[str, Any]) -> view.BulkRow:
    out = await invoke(_for_session(w, spec, name, arguments))
    if not isinstance(out, CallToolResult):
        return view.bulk_row(name, "error", error="needed a confirmation of its own; nothing was sent")
    if out.is_error:
        text = " ".join(getattr(block, "text", "") for block in out.content)
        return view.bulk_row(name, "error", error=one_line(text, limit=300))
    return view.bulk_row(name, "ok", result=out.structured_content)


@tool(
    "Run one tool for many sessions at once (list, all or working); one row per session.",
    effect=Effect.VISIBLE,  # write-capable; in read-only mode it runs reads only (see `_inner`)
    scope="server",
    operations=(LIST,),
    reads_in_read_only=True,
    question=_question,
    fans_out=True,
)
async def for_sessions(
    w: Invocation,
    tool: Annotated[str, Field(description="A tool name, e.g. waha_send_message")],
    arguments: Annotated[dict[str, Any] | None, Field(description="Its arguments, without session")] = None,
    sessions: Annotated[Which | None, Field(description="Default: working")] = None,
    dryRun: bool = False,
    bulkId: Annotated[str | None, Field(description="Resume an earlier run: done sessions are skipped")] = None,
    confirm: Annotated[bool, Field(description="Must be true unless your client asks the user itself.")] = False,
    session: Session = None,
) -> view.BulkResult:
    spec, names = await plan(w)
    arguments = dict(arguments or {})
    if "session" in arguments:
        raise ToolInputError("put sessions in `sessions`, not in `arguments`")
    assert w.bulk_id is not None
    done: dict[str, str] = {}
    if bulkId and not spec.read_only and w.app.store is not None:
        done = await audit.finished_sessions(w.app.store, bulkId, spec.name)
    rows: dict[str, view.BulkRow] = {}
    todo: list[str] = []
    for name in names:
        if name in done:
            why = (
                "done in an earlier run of this bulkId"
                if done[name] == "ok"
                else ("interrupted mid-call in an earlier run: check it before repeating")
            )
            rows[name] = view.bulk_row(name, "skipped", why=why)
        elif dryRun:
            rows[name] = await _dry_run(w, spec, name, arguments)
        else:
            todo.append(name)
    gate = _gates(w)
    finished = 0

    async def one(name: str) -> None:
        nonlocal finished
        async with gate(name):
            rows[name] = await _run_one(w, spec, name, arguments)
        finished += 1
        await w.progress(finished, len(todo), f"{name}: {rows[name]['status']}")

    await asyncio.gather(*(one(name) for name in todo))
    return view.bulk_result(w.bulk_id, spec.name, [rows[name] for name in names], w.state.get("unreachable"))


def _gates(w: Invocation) -> Callable[[str], asyncio.Semaphore]:
    """The gate a session's call waits at: one per WAHA server, so the servers of a fleet run in parallel, each
    at most CONCURRENCY sessions at once (a session whose server is not known yet shares one more gate)."""
    gates: dict[str | None, asyncio.Semaphore] = {}
    fleet = w.client

    def gate(session: str) -> asyncio.Semaphore:
        server = fleet.holder(session)
        if server not in gates:
            gates[server] = asyncio.Semaphore(CONCURRENCY)
        return gates[server]

    return gate


@tool(
    "Unread chats of every working session in one call.",
    effect=Effect.READ,
    scope="server",
    operations=(LIST,),  # each session's waha_get_chats declares (and is checked for) its own
    fans_out=True,
)
async def get_unread_everywhere(
    w: Invocation,
    session: Session = None,
    limit: Annotated[Limit, Field(description="Recent chats looked at per session")] = 50,
) -> view.UnreadEverywhere:
    names = [session] if session else await _sessions(w, "working")
    spec = REGISTRY["waha_get_chats"]
    gate = _gates(w)

    async def one(name: str) -> tuple[str, list[Any] | None, str | None]:
        async with gate(name):
            row = await _run_one(w, spec, name, {"limit": limit})
        return name, row.get("result", {}).get("chats"), row.get("error")

    found = list(await asyncio.gather(*(one(name) for name in names)))
    return view.unread_everywhere(found, w.state.get("unreachable"))
