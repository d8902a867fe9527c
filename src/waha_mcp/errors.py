"""Turning failures into the one-line messages an agent can act on (the only place that does)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from waha_mcp.client.errors import (
    BadResponse,
    BusinessOnly,
    EndpointMissing,
    NotFound,
    RateLimited,
    ReachoutLimited,
    Redirected,
    SessionNotReady,
    TierLimit,
    TooLarge,
    Unauthorized,
    Unavailable,
    WAHAError,
)
from waha_mcp.client.version import ServerVersion

if TYPE_CHECKING:
    from waha_mcp.client import WAHAClient


class ToolInputError(Exception):
    """Bad input caught before any HTTP call; the message is shown to the agent as is."""


NEXT_STEP = {
    "STOPPED": "start it with waha_start_session",
    "STARTING": "it is starting: wait a few seconds and retry (waha_get_session shows progress)",
    "SCAN_QR_CODE": "it is not paired yet: show the QR with waha_get_qr_code "
    "or get a code with waha_request_pairing_code",
    "PASSKEY_REQUIRED": "it waits for a passkey: waha_get_passkey_challenge, then waha_submit_passkey",
    "PASSKEY_CONFIRMATION_REQUIRED": "compare the code from waha_get_passkey_challenge with the phone, "
    "then waha_submit_passkey confirm=true",
    "FAILED": "restart it with waha_restart_session (re-pair with waha_get_qr_code if asked)",
}


# `scheme://user:password@host` in a message (a base URL, a proxy URL quoted by WAHA): the password goes.
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s/@]+@", re.IGNORECASE)


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
    flat = _URL_PASSWORD.sub(r"\1***@", " ".join(str(text).split()))
    flat = clean(flat) if clean else flat
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def explain(error: WAHAError, client: WAHAClient, clean: Callable[[str], str] | None = None) -> str:
    """WAHA's failure plus which session, its status and the next step."""

    def line(text: str) -> str:
        return one_line(text, clean=clean)

    session = error.session
    tag = f"session '{session}'" if session else "WAHA"
    where = error.where
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
    if isinstance(error, RateLimited):
        return line(f"{tag}: WAHA is rate limiting (429) {where}; wait before retrying")
    if isinstance(error, EndpointMissing):
        return line(await _missing_route(client, error, tag))
    if isinstance(error, Unavailable):
        hint = " (the session may have crashed: check waha_get_session)" if session else ""
        return line(f"{tag}: WAHA failed with {error.status} on {where}: {error.message}{hint}")
    if isinstance(error, TierLimit):
        # WAHA's own text often lacks a final period ("...only in WAHA Plus version").
        plus = " " if error.message.rstrip().endswith(".") else ". "
        return line(f"{tag}: WAHA {error.status} on {where}: {error.message}{plus}This needs WAHA Plus.")
    if isinstance(error, SessionNotReady) and session:
        status = error.session_status or "not ready"
        step = NEXT_STEP.get(status, "check it with waha_get_session")
        return line(f"{tag} is {status}, not ready for {where}: {step}")
    if session and _is_about_session(error, session):
        return line(await _session_state(client, session, error))
    return line(f"{tag}: WAHA {error.status} on {where}: {error.message}")


async def _missing_route(client: WAHAClient, error: EndpointMissing, tag: str) -> str:
    """A route (or feature) this WAHA lacks: about the WAHA's version, never about the session, whose name
    NestJS's `Cannot GET /api/default/...` happens to contain."""
    from waha_mcp.openapi import load_spec

    version = await client.server_version()
    which = f"this WAHA ({version.label})" if version else "this WAHA"
    if error.status != 404:
        return f"{tag}: {which} does not support {error.where} ({error.status}): {error.message}"
    known = load_spec().by_id.get(error.operation)
    route = f"{known.method} {known.path}" if known else error.where
    newest = load_spec().document.get("info", {}).get("version", "")
    if version and newest and version.at_least(*ServerVersion(newest, "", "").release):
        # As new as the document that has it: the request went somewhere else (a proxy, a wrong base path).
        return f"{tag}: {which} answered that it has no {route}; check WAHA_BASE_URL (a proxy in front of WAHA?)"
    return f"{tag}: {which} has no {route}; it needs a newer WAHA (nothing is wrong with the session)"


async def _reachout_limited(client: WAHAClient, error: WAHAError) -> str:
    """WhatsApp's reach-out timelock: until when, where the session reports it (WAHA 2026.7.2+)."""
    from waha_mcp.projections.sessions import reachout_timelock

    session = error.session
    until = None
    if session:
        try:
            until = (reachout_timelock(await client.call("SessionsController_get", session)) or {}).get("untilTime")
        except WAHAError:
            pass  # the refusal itself is what matters; the end time is a nicety
    who = f"session '{session}'" if session else "this account"
    when = f"until {until}" if until else "for now (WhatsApp did not say until when)"
    return (
        f"{who} may not message new contacts {when} (WhatsApp reach-out limit, error 463); "
        f"existing chats still work. WAHA: {error.message}"
    )


def _is_about_session(error: WAHAError, session: str) -> bool:
    text = error.message.lower()
    return (isinstance(error, NotFound) and ("session" in text or session.lower() in text)) or (
        error.status == 422 and "session" in text and "already" not in text
    )


async def _session_state(client: WAHAClient, session: str, error: WAHAError) -> str:
    from waha_mcp.sessions import describe_sessions

    try:
        sessions = await client.list_sessions(all=True)
    except WAHAError:
        return f"session '{session}': {error.message}"
    known = {s.get("name"): s.get("status") for s in sessions if isinstance(s, dict)}
    if session not in known:
        return (
            f"session '{session}' does not exist; existing: {await describe_sessions(client)}. "
            "Pick one, or create it with waha_create_session"
        )
    status = str(known[session])
    step = NEXT_STEP.get(status)
    if step:
        return f"session '{session}' is {status}: {step}"
    return f"session '{session}' ({status}): WAHA {error.status}: {error.message}"
