"""The safety steps of the tool pipeline, in order: allow-lists → confirmation → audit → pacing.

The audit row is written before pacing, so a send pacing refuses is in the log too.

Each is an ordinary pipeline step `(inv, nxt) -> result`; reads pass straight through.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from mcp_types import CallToolResult

from waha_mcp.client import WAHAError
from waha_mcp.client.errors import MessageCapped, ReachoutLimited
from waha_mcp.errors import ToolInputError, next_step, one_line
from waha_mcp.people import phones_of
from waha_mcp.safety import audit as log
from waha_mcp.safety import holds, pacing
from waha_mcp.safety.allow import chat_refusal, session_refusal, unknown_refusal
from waha_mcp.safety.confirm import confirm
from waha_mcp.safety.pacing import parse_pacing
from waha_mcp.safety.targets import chatless_ids, chats_of, target_of
from waha_mcp.times import iso

if TYPE_CHECKING:
    from waha_mcp.tools.pipeline import Invocation, Next


async def allow(inv: Invocation, nxt: Next) -> Any:
    """A write outside WAHA_MCP_ALLOW_SESSIONS / WAHA_MCP_ALLOW_CHATS is refused before any request."""
    problem = await allow_refusal(inv)
    if problem:
        raise ToolInputError(problem)
    return await nxt(inv)


async def allow_refusal(inv: Invocation) -> str | None:
    """Why the allow-lists refuse this call (arguments checked, session resolved), or None: the one check,
    for the guard and for a bulk dry run."""
    spec, settings = inv.spec, inv.settings
    # A tool that fans out runs every session's call through this pipeline, where each one is checked.
    if spec.read_only or spec.fans_out or not (settings.allow_sessions or settings.allow_chats):
        return None
    if settings.allow_sessions:
        if spec.scope == "session":
            problem = session_refusal(inv.session, settings.allow_sessions)
        elif spec.session_argument:
            # The session it makes: named by its own argument, or else by `session`; unnamed, WAHA makes up a
            # name (`session_…`, sessions.controller.ts), which no allow-list can vouch for beforehand.
            made = inv.args.get(spec.session_argument) or inv.session
            problem = (
                session_refusal(made, settings.allow_sessions) if made else _unnamed(spec.name, spec.session_argument)
            )
        else:
            problem = (
                f"{spec.name} acts on the whole WAHA server, and WAHA_MCP_ALLOW_SESSIONS limits writes "
                "to some sessions; nothing was sent"
            )
        if problem:
            return problem
    problem = await _chats_problem(inv, settings.allow_chats) if settings.allow_chats else None
    if problem:
        return f"session {inv.session}: {problem}" if inv.session else problem
    return None


def _unnamed(tool: str, argument: str) -> str:
    return (
        f"{tool} names no session, so WAHA would choose its name, which WAHA_MCP_ALLOW_SESSIONS cannot check: "
        f"give `{argument}`; nothing was sent"
    )


async def _chats_problem(inv: Invocation, patterns: list[str]) -> str | None:
    """Every chat the write reaches must be known and allowed: its chat arguments, the chat inside each message
    id, and what its registration says it reaches (`reach`); a LID counts as the number behind it."""
    spec = inv.spec
    bare = chatless_ids(spec, inv.args)
    if bare:
        return unknown_refusal(f"message id {bare[0][:60]!r} names no chat (WAHA may find it in any)", patterns)
    chats = chats_of(spec, inv.args)
    if spec.reach is not None:
        from waha_mcp.tools.pipeline import CURRENT  # the pipeline imports this module

        token = CURRENT.set(inv)  # what the tool's `reach` asks WAHA is among the tool's operations
        try:
            reached = await spec.reach(inv)
        finally:
            CURRENT.reset(token)
        if isinstance(reached, str):
            return unknown_refusal(reached, patterns)
        chats = list(dict.fromkeys([*chats, *reached]))
    if chat_refusal(chats, patterns) is None:
        return None
    return chat_refusal(chats, patterns, await phones_of(inv, chats))


# A slot further away than this (the most jitter adds) is worth one request to check that the session can send.
CHECK_BEFORE_WAIT = 1.0


async def pace(inv: Invocation, nxt: Next) -> Any:
    """Sends and group changes wait for their slot (waha_mcp.safety.pacing); a long wait is an error instead.

    A session that cannot send is refused before any wait, and only sends that went out are charged: a send
    refused before WAHA had it (by us, or by WAHA with a 4xx) gives its slot back.
    """
    kind = inv.spec.pacing
    rules = parse_pacing(inv.settings.pacing) if kind else None
    store = inv.app.store
    session = inv.session
    if kind is None or rules is None or store is None or session is None:
        return await nxt(inv)
    refuse_if_held(inv, kind)
    people = await persons(inv, chats_of(inv.spec, inv.args))
    try:
        at, rows = await pacing.slot(store, rules, session, kind, people)
    except pacing.TooLong as late:
        raise ToolInputError(
            f"session {inv.session}: anti-ban pacing (WAHA_MCP_PACING) would hold this {kind} for {late.wait:.0f} s, "
            f"over the {rules.seconds(rules.maxWait):.0f} s limit; retry after {iso(late.at)}; nothing was sent"
        ) from None
    since = time.time()
    given_back = False
    try:
        if at - since > CHECK_BEFORE_WAIT:
            await check_can_send(inv)
        await wait_until(inv, at, since)
        while (behind := await pacing.go(store, rules, session, kind, rows)) > 0:
            await wait_until(inv, time.time() + behind, since)  # an earlier send went out late: keep the spacing real
        return await nxt(inv)
    except (ToolInputError, WAHAError) as exc:
        if isinstance(exc, (ReachoutLimited, MessageCapped)):
            await holds.learn_refusal(inv.app.holds, inv.client, session, exc)
        # No answer (status 0), a 5xx or a timeout may hide a send that went out: that one stays charged.
        if isinstance(exc, ToolInputError) or 400 <= exc.status < 500:
            given_back = True
            await pacing.release(store, rules, session, kind, rows)
        raise
    finally:
        if not given_back:
            pacing.done(store, rows)


async def check_can_send(inv: Invocation) -> None:
    """The session exists and is WORKING, or the refusal a send would get (explained by the pipeline)."""
    from waha_mcp.tools.pipeline import CURRENT

    token = CURRENT.set(None)  # the pipeline's own check, not an operation of the tool (nor of a bulk call)
    try:
        info = await inv.client.call("SessionsController_get", inv.session)
    finally:
        CURRENT.reset(token)
    status = info.get("status") if isinstance(info, dict) else None
    if status != "WORKING":
        raise ToolInputError(f"session '{inv.session}' is {status}: {next_step(status)}")


def refuse_if_held(inv: Invocation, kind: str) -> None:
    """A session WhatsApp has capped or timelocked sends nothing until it lets go (waha_mcp.safety.holds)."""
    held = inv.app.holds.active(inv.session or "")
    if held is None:
        return
    until = iso(held.until)
    why = "as WhatsApp said" if held.told else "WhatsApp did not say until when"
    what = "sends" if kind == "send" else "group changes"
    raise ToolInputError(
        f"session {inv.session} is under WhatsApp's {held.cause}: anti-ban pacing holds its {what} until {until} "
        f"({why}); do not restart or re-pair it, it lifts by itself (waha_get_send_limits shows it); nothing was sent"
    )


async def persons(inv: Invocation, chats: list[str]) -> list[str]:
    """Pacing keys chats by person: a LID whose phone id the session knows (waha_mcp.people) counts as that phone
    id, so writing to someone's number and then to their LID is one chat, not a first contact twice."""
    phones = await phones_of(inv, chats)
    return list(dict.fromkeys(phones.get(chat, chat) for chat in chats))


async def wait_until(inv: Invocation, at: float, since: float) -> None:
    """Sleep until the slot, reporting progress (seconds waited since `since`, always increasing) about once a
    second."""
    while (left := at - (now := time.time())) > 0:
        await inv.progress(now - since, at - since, f"paced: sending in {left:.1f} s")
        await asyncio.sleep(min(left, 1.0))


async def audit(inv: Invocation, nxt: Next) -> Any:
    """Every write is recorded before its WAHA call and finished after it (waha_mcp.safety.audit)."""
    store = inv.app.store
    if not inv.spec.policy.audit or store is None:
        return await nxt(inv)
    redactor = inv.app.secrets.redactor()
    entry = log.Entry(
        inv.session, inv.spec.name, target_of(inv.spec, inv.args), log.summary(inv.args, redactor), inv.bulk_id
    )
    row = await log.start(store, entry)
    try:
        out = await nxt(inv)
    except Exception as exc:
        # A cancelled call (BaseException) stays `started`: whether WAHA acted is unknown.
        log.finish(store, row, "error", one_line(f"{type(exc).__name__}: {exc}", clean=redactor.text)[:300], None)
        raise
    if isinstance(out, CallToolResult):
        found = out.structured_content or {}
        message_id = found.get("messageId") if isinstance(found.get("messageId"), str) else None
        text = getattr(out.content[-1], "text", "") if out.is_error and out.content else None
        detail = one_line(text, clean=redactor.text)[:300] if text is not None else None
        log.finish(store, row, "error" if out.is_error else "ok", detail, message_id)
    return out


GUARDS = [allow, confirm, audit, pace]
