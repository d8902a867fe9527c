"""Turning failures into the one-line messages an agent can act on (the only place that does)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from waha_mcp.client.errors import (
    BadResponse,
    BusinessOnly,
    DuplicateSession,
    EndpointMissing,
    MessageCapped,
    NotFound,
    RateLimited,
    ReachoutLimited,
    Redirected,
    SessionNotReady,
    TierLimit,
    TooLarge,
    TooOld,
    Unauthorized,
    Unavailable,
    UnknownSession,
    WAHAError,
)
from waha_mcp.client.fleet import Fleet
from waha_mcp.client.version import ServerVersion
from waha_mcp.redact import redact_shapes

if TYPE_CHECKING:
    from waha_mcp.client import WAHAClient


class ToolInputError(Exception):
    """Bad input caught before any HTTP call; the message is shown to the agent as is."""


# What a tool needs of a session, by kind: the same state calls for a different step in each.
WORK = "work"  # a paired, WORKING session: messages, chats, the account
PAIR = "pair"  # a session waiting to be paired: QR, pairing code, passkey
START = "start"  # start a session (or an answer that it already runs)

PAIR_NOW = "pair it: show the QR with waha_get_qr_code or get a code with waha_request_pairing_code"
_PASSKEY = "it waits for a passkey: waha_get_passkey_challenge, then waha_submit_passkey"
_PASSKEY_CONFIRM = (
    "compare the code from waha_get_passkey_challenge with the phone, then waha_submit_passkey confirm=true"
)
_RESTART = "it failed: restart it with waha_restart_session"
_WAIT = "it is starting: wait a few seconds, then check waha_get_session"

# (session state, kind of tool) → the one next step an agent can take. Written once; tests/test_next_steps.py
# reads it as a table.
STEPS: dict[tuple[str, str], str] = {
    ("STOPPED", WORK): "start it with waha_start_session",
    ("STOPPED", PAIR): "start it with waha_start_session, then pair it",
    ("STOPPED", START): "start it with waha_start_session",
    ("STARTING", WORK): _WAIT + " and retry",
    ("STARTING", PAIR): _WAIT + " until it shows SCAN_QR_CODE, then pair it",
    ("STARTING", START): _WAIT,
    ("SCAN_QR_CODE", WORK): "it is not paired yet: " + PAIR_NOW,
    ("SCAN_QR_CODE", PAIR): PAIR_NOW,
    ("SCAN_QR_CODE", START): "it is running but not paired: " + PAIR_NOW,
    ("PASSKEY_REQUIRED", WORK): _PASSKEY,
    ("PASSKEY_REQUIRED", PAIR): _PASSKEY,
    ("PASSKEY_REQUIRED", START): _PASSKEY,
    ("PASSKEY_CONFIRMATION_REQUIRED", WORK): _PASSKEY_CONFIRM,
    ("PASSKEY_CONFIRMATION_REQUIRED", PAIR): _PASSKEY_CONFIRM,
    ("PASSKEY_CONFIRMATION_REQUIRED", START): _PASSKEY_CONFIRM,
    ("WORKING", WORK): "it is working: retry",
    ("WORKING", PAIR): "it is already paired and working: nothing to pair (waha_logout_session to pair another phone)",
    ("WORKING", START): "it is working: nothing to start",
    # A FAILED session cannot show a QR or pair: only a restart gets it going again.
    ("FAILED", WORK): _RESTART,
    ("FAILED", PAIR): _RESTART + ", then pair it if it asks",
    ("FAILED", START): _RESTART,
}

# The step for a session a tool needs WORKING (kept for callers that only know the state).
NEXT_STEP = {state: step for (state, kind), step in STEPS.items() if kind == WORK and state != "WORKING"}

# The kind of tool an operation belongs to, by its operationId (the failing call tells which step fits).
_PAIRING_OPERATIONS = ("AuthController_", "ScreenshotController_")
_START_OPERATIONS = frozenset({"SessionsController_start", "SessionsController_restart"})


def next_step(state: str | None, kind: str = WORK) -> str:
    """The next step for a session in `state` when a tool of `kind` needs it."""
    return STEPS.get((str(state), kind), "check it with waha_get_session")


def kind_of(operation: str) -> str:
    if operation.startswith(_PAIRING_OPERATIONS):
        return PAIR
    if operation in _START_OPERATIONS:
        return START
    return WORK


def validation_problems(exc: ValidationError, root: str = "arguments") -> str:
    """`loc: message; loc: message` from a pydantic error, for one-line refusals."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or root}: {_reason(err)}" for err in exc.errors())


def _reason(err: Any) -> str:
    # Our own validators' messages are already sentences; pydantic would prefix them with "Value error, ".
    if err.get("type") == "value_error" and err.get("ctx", {}).get("error"):
        return str(err["ctx"]["error"])
    return str(err["msg"])


def one_line(text: str, limit: int = 500, clean: Callable[[str], str] | None = None) -> str:
    """One line of at most `limit` characters; `clean` (secret redaction) runs first, so no cut can split a
    secret into a part that no longer matches it."""
    # A credential by its shape (a URL's password, a token in a query string: a URL WAHA quotes) goes first.
    flat = redact_shapes(" ".join(str(text).split()))
    flat = clean(flat) if clean else flat
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def explain(error: WAHAError, client: WAHAClient | Fleet, clean: Callable[[str], str] | None = None) -> str:
    """WAHA's failure plus which session, its status and the next step."""

    def line(text: str) -> str:
        return one_line(text, clean=clean)

    session = error.session
    # In a fleet the server that answered is named (client.fleet sets `server` only when there are several).
    tag = f"session '{session}'" if session else "WAHA"
    if error.server:
        tag = f"{tag} (server '{error.server}')" if session else f"WAHA server '{error.server}'"
    where = error.where
    if isinstance(error, DuplicateSession):
        return line(error.message)
    if isinstance(error, UnknownSession):
        from waha_mcp.sessions import describe_sessions

        # No server lists it (or the one that may is down): nothing was sent.
        return line(f"{error.message}; existing: {await describe_sessions(client)}. "
                    "Pick one, or create it with waha_create_session")  # fmt: skip
    if isinstance(error, Unavailable) and not error.status:
        if error.maybe_done:
            # The request may have reached WAHA before the answer was lost: a send may have gone out.
            return line(
                f"{tag}: {error.message} on {where}: it may have been sent (or done) all the same; "
                "check the chat before repeating it"
            )
        return line(f"{tag}: {error.message}")
    if isinstance(error, BadResponse) and error.accepted:
        # WAHA did it (2xx); only its answer is broken. Retrying blindly could send it twice.
        return line(
            f"{tag}: WAHA accepted {where} ({error.status}) but answered with {error.problem}: "
            "it has probably taken effect, but the result is unknown; check before repeating it"
        )
    if isinstance(error, BadResponse):
        return line(
            f"{tag}: WAHA answered {where} ({error.status}) {error.message}; "
            "retry, and check WAHA's logs (or a proxy in front of it) if it persists"
        )
    if isinstance(error, Unauthorized | Redirected | TooLarge):
        return line(f"{tag}: {error.message}")
    if isinstance(error, BusinessOnly):
        return line(
            f"{tag} is a personal WhatsApp account: {where} needs a WhatsApp Business account "
            f"(WhatsApp refused: {error.message})"
        )
    if isinstance(error, ReachoutLimited):
        return line(await _reachout_limited(client, error))
    if isinstance(error, MessageCapped):
        return line(_capped(error))
    if isinstance(error, RateLimited):
        return line(f"{tag}: WAHA is rate limiting (429) {where}; wait before retrying")
    if isinstance(error, TooOld):
        return line(
            f"{tag}: this WAHA ({error.version}) has no {error.where}; it needs WAHA {error.since} or newer "
            "(nothing was sent; nothing is wrong with the session)"
        )
    if isinstance(error, EndpointMissing):
        return line(await _missing_route(client, error, tag))
    if isinstance(error, Unavailable):
        hint = " (the session may have crashed: check waha_get_session)" if session else ""
        return line(f"{tag}: WAHA failed with {error.status} on {where}: {error.message}{hint}")
    if isinstance(error, TierLimit) and not _only_default(error):
        # WAHA's own text often lacks a final period ("...only in WAHA Plus version").
        plus = " " if error.message.rstrip().endswith(".") else ". "
        return line(f"{tag}: WAHA {error.status} on {where}: {error.message}{plus}This needs WAHA Plus.")
    if isinstance(error, SessionNotReady) and session:
        status = error.session_status or "not ready"
        return line(f"{tag} is {status}, not ready for {where}: {next_step(status, kind_of(error.operation))}")
    if _only_default(error):
        return line(await _core_only_default(client, error, tag))
    if _already_exists(error):
        return line(
            f"{tag} already exists: change its config with waha_update_session_config, or create one with another name"
        )
    if session and _is_about_session(error, session):
        return line(await _session_state(client, session, error))
    return line(f"{tag}: WAHA {error.status} on {where}: {error.message}")


async def version_of(client: WAHAClient | Fleet, error: WAHAError) -> ServerVersion | None:
    """The version of the server that answered `error` (in a fleet: the one holding its session)."""
    if isinstance(client, Fleet):
        return await client.server_version(error.session, server=error.server or None)
    return await client.server_version()


async def _missing_route(client: WAHAClient | Fleet, error: EndpointMissing, tag: str) -> str:
    """A route (or feature) this WAHA lacks: about the WAHA's version, never about the session, whose name
    NestJS's `Cannot GET /api/default/...` happens to contain."""
    from waha_mcp.openapi import load_spec

    version = await version_of(client, error)
    which = f"this WAHA ({version.label})" if version else "this WAHA"
    if error.status != 404:
        return f"{tag}: {which} does not support {error.where} ({error.status}): {error.message}"
    known = load_spec().by_id.get(error.operation)
    route = f"{known.method} {known.path}" if known else error.where
    # The first release with the route: the supplement says so for what came after the vendored document.
    newest = (known.since if known else "") or load_spec().document.get("info", {}).get("version", "")
    if version and newest and version.at_least(*ServerVersion(newest, "", "").release):
        # As new as the release that has it: the request went somewhere else (a proxy, a wrong base path).
        return f"{tag}: {which} answered that it has no {route}; check WAHA_BASE_URL (a proxy in front of WAHA?)"
    needs = f"WAHA {known.since} or newer" if known and known.since else "a newer WAHA"
    return f"{tag}: {which} has no {route}; it needs {needs} (nothing is wrong with the session)"


async def _reachout_limited(client: WAHAClient | Fleet, error: ReachoutLimited) -> str:
    """WhatsApp's reach-out timelock: until when, where the session reports it (WAHA 2026.7.2+)."""
    from waha_mcp.projections.common import iso
    from waha_mcp.projections.sessions import reachout_timelock

    session = error.session
    until = iso(error.until) if error.until and error.told else None
    if session and until is None:
        try:
            lock = reachout_timelock(await client.call("SessionsController_get", session))
            until = lock.get("untilTime") if lock else None
        except WAHAError:
            pass  # the refusal itself is what matters; the end time is a nicety
    who = f"session '{session}'" if session else "this account"
    when = f"until {until}" if until else "for now (WhatsApp did not say until when)"
    held = f", but this server holds all its sends until {iso(error.until)} (anti-ban pacing)" if error.until else ""
    return (
        f"{who} may not message new contacts {when} (WhatsApp reach-out limit, error 463); "
        f"existing chats still work{held}; do not restart or re-pair it, it lifts by itself. WAHA: {error.message}"
    )


def _capped(error: MessageCapped) -> str:
    """WhatsApp's new-chat quota is used up (error 475): until the cycle ends, when known."""
    from waha_mcp.projections.common import iso

    who = f"session '{error.session}'" if error.session else "this account"
    when = (
        f"until {iso(error.until)}"
        if error.until and error.told
        else "until its cycle ends (WhatsApp did not say when)"
    )
    held = f"; this server holds its sends until {iso(error.until)} (anti-ban pacing)" if error.until else ""
    return (
        f"{who} has used its quota of messages to new chats {when} (WhatsApp message capping, error 475){held}; "
        f"nothing was retried; do not restart or re-pair it. WAHA: {error.message}"
    )


def _only_default(error: WAHAError) -> bool:
    """WAHA Core before 2026.6 refusing any session but `default` (its words mention Plus too)."""
    return "only 'default'" in error.message.lower()


def _already_exists(error: WAHAError) -> bool:
    """`Session 'x' already exists. Use PUT to update it.`: WAHA names an HTTP verb; we name the tool."""
    return error.status == 422 and "already exists" in error.message.lower()


async def _core_only_default(client: WAHAClient | Fleet, error: WAHAError, tag: str) -> str:
    version = await version_of(client, error)
    which = f"WAHA {version.label}" if version else "This WAHA Core"
    return (
        f"{tag}: {which} has only the session 'default' (WAHA: {error.message.split('. ')[0]}): "
        "use session 'default', or upgrade WAHA (2026.6 and later have many sessions in the free image)"
    )


def _is_about_session(error: WAHAError, session: str) -> bool:
    text = error.message.lower()
    return (isinstance(error, NotFound) and ("session" in text or session.lower() in text)) or (
        error.status == 422 and "session" in text and "already" not in text
    )


async def _session_state(client: WAHAClient | Fleet, session: str, error: WAHAError) -> str:
    from waha_mcp.sessions import describe_sessions

    try:
        sessions = await client.list_sessions(all=True)
    except WAHAError:
        return f"session '{session}': {error.message}"
    known = {s.get("name"): s.get("status") for s in sessions if isinstance(s, dict)}
    if session not in known:
        version = await version_of(client, error)
        if version is not None and not version.many_sessions:
            # Core's GET answers a plain 404 for any name but `default` (it knows no other): the same advice
            # as its 422 `only 'default'` elsewhere.
            return (
                f"session '{session}': WAHA {version.label} has only the session 'default': use session "
                "'default', or upgrade WAHA (2026.6 and later have many sessions in the free image)"
            )
        return (
            f"session '{session}' does not exist; existing: {await describe_sessions(client)}. "
            "Pick one, or create it with waha_create_session"
        )
    status = str(known[session])
    if (status, WORK) in STEPS and status != "WORKING":
        return f"session '{session}' is {status}: {next_step(status, kind_of(error.operation))}"
    return f"session '{session}' ({status}): WAHA {error.status}: {error.message}"
