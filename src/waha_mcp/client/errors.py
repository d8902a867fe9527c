"""Every failure talking to WAHA is a `WAHAError` of a type saying what went wrong; the API key never appears.

`from_response` and `from_transport` are the one place that decides which type a failure is.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2


class WAHAError(Exception):
    """A failed WAHA call: HTTP status (0 when no response), method, path, session and WAHA's message.

    Used as is for a refusal with no more specific type (400, 403, 409, most 422s).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        method: str = "",
        path: str = "",
        session: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.session = session
        self.body = body
        self.operation = ""  # the document's operationId, once the client knows which one failed
        self.server = ""  # the WAHA server that answered, named only when several are configured (client.fleet)

    @property
    def where(self) -> str:
        return f"{self.method} {self.path}".strip()

    @property
    def session_status(self) -> str | None:
        """The session status WAHA reported in its status-mismatch error body, if any."""
        status = self.body.get("status") if isinstance(self.body, dict) else None
        return status if isinstance(status, str) else None

    @property
    def expected_statuses(self) -> list[str]:
        if isinstance(self.body, dict) and isinstance(self.body.get("expected"), list):
            return [str(s) for s in self.body["expected"]]
        return []

    def __str__(self) -> str:
        status = f" {self.status}" if self.status else ""
        return f"WAHA{status} on {self.where}: {self.message}" if self.where else self.message


class NotFound(WAHAError):
    """404 for something named in the request: a session, chat or message WAHA does not know."""


class UnknownSession(NotFound):
    """In a fleet: no configured server lists the session (nothing was sent)."""


class DuplicateSession(WAHAError):
    """In a fleet: two servers list the same session name; its calls are refused, nothing sent."""


class EndpointMissing(WAHAError):
    """This WAHA lacks the route or the feature: NestJS's 404 `Cannot GET /api/...`, or 501."""


class TooOld(EndpointMissing):
    """Refused before sending: the route came with a later WAHA release (`since`) than the one connected."""

    def __init__(self, message: str, *, since: str, version: str, **where: Any) -> None:
        super().__init__(message, **where)
        self.since = since
        self.version = version


class SessionNotReady(WAHAError):
    """WAHA's status-mismatch answer: the session exists but is not in a state that allows the call."""


class TierLimit(WAHAError):
    """A feature only WAHA Plus has."""


class BusinessOnly(WAHAError):
    """WhatsApp refused a WhatsApp Business feature (labels) to a personal account."""


class ReachoutLimited(WAHAError):
    """WhatsApp's reach-out timelock (error 463): the account may not message new contacts for a while.

    WAHA passes the engine's refusal through, usually as an unhandled exception (500); it is not an outage.
    `until` is when the timelock ends, once known.
    """

    until: float | None = None
    told: bool = False  # WhatsApp gave `until`; else it is how long this server holds the session


class MessageCapped(WAHAError):
    """WhatsApp's new-chat message capping (error 475): the account used its quota of new chats for this cycle.

    Like error 463, WAHA passes the engine's refusal through (WAHA 2026.8 docs: "sends fail with `server returned
    error 475` while the session looks perfectly fine"). `until` is when the cycle ends, once known.
    """

    until: float | None = None
    told: bool = False  # WhatsApp gave `until`; else it is how long this server holds the session


class Unauthorized(WAHAError):
    """401: WAHA rejected the API key."""


class RateLimited(WAHAError):
    """429."""


class Unavailable(WAHAError):
    """No usable answer: cannot connect, timed out, connection closed, or a 5xx (status 0 when none came).

    `maybe_done` is True for a write whose request may have reached WAHA (timed out or dropped after sending):
    it may have taken effect.
    """

    maybe_done: bool = False


class BadResponse(WAHAError):
    """A 2xx whose body cannot be used. `accepted` is True for a write: WAHA did it, the result is unknown."""

    def __init__(self, message: str, *, problem: str, accepted: bool, **where: Any) -> None:
        super().__init__(message, **where)
        self.problem = problem
        self.accepted = accepted


class Redirected(WAHAError):
    """A 3xx answer (never followed): WAHA_BASE_URL names the wrong scheme or path, or a proxy is in the way."""


class TooLarge(WAHAError):
    """A file over the configured size limit; nothing beyond the limit was read."""


class NotOnFileServer(WAHAError):
    """Refused before sending: `url` is not on the file server of the WAHA at `file_server` (its `/api/files/...`),
    so it is not fetched (the API key goes nowhere else)."""

    def __init__(self, message: str, *, url: str, file_server: str, **where: Any) -> None:
        super().__init__(message, **where)
        self.url = url
        self.file_server = file_server


def from_response(
    status: int, raw: bytes, reason: str, *, method: str, path: str, session: str | None, keyed: bool = True
) -> WAHAError:
    """The error for a >= 400 answer, in WAHA's own words where it gave any (`keyed`: an API key was sent)."""
    body = _parse(raw)
    message = message_from_body(body, f"HTTP {status} {reason or 'error'}")
    where: dict[str, Any] = {"status": status, "method": method, "path": path, "session": session, "body": body}
    if status == 401 and not keyed:
        return Unauthorized("WAHA wants an API key (401) and no API key was sent: set WAHA_API_KEY", **where)
    if status == 401:
        return Unauthorized("WAHA rejected the API key (401): check WAHA_API_KEY", **where)
    if status == 429:
        return RateLimited(message, **where)
    if status == 501:
        return EndpointMissing(message, **where)
    if _reachout_limited(message):
        return ReachoutLimited(message, **where)
    if _CAPPED.search(message):
        return MessageCapped(message, **where)
    if _business_only(message):
        # WAHA lets the engine's refusal through as an unhandled exception (500): it is not an outage.
        return BusinessOnly(message, **where)
    if status >= 500:
        return Unavailable(message, **where)
    lowered = message.lower()
    if "plus" in lowered and "waha" in lowered:
        return TierLimit(message, **where)
    if "not implemented by" in lowered and "engine" in lowered:
        # Core 2024.10's NotImplementedByEngineError (422; a 501 in later releases): this WAHA lacks the feature.
        return EndpointMissing(message, **where)
    if isinstance(body, dict) and isinstance(body.get("status"), str) and "expected" in body:
        return SessionNotReady(message, **where)
    if status == 404:
        # NestJS names the route it lacks; the text contains the session name but is not about it.
        if message.startswith(f"Cannot {method} /"):
            return EndpointMissing(message, **where)
        return NotFound(message, **where)
    return WAHAError(message, **where)


# "server returned error 463" (whatsmeow), "NackCallerReachoutTimelocked", "reachout timelock": not a bare
# 463, which may be part of a phone number or an id quoted in the message.
_REACHOUT = re.compile(r"(?:error|code|nack)\W{0,3}463\b|reach[\s_-]?out[\s_-]?time[\s_-]?lock", re.IGNORECASE)


# "server returned error 475" (whatsmeow's wording, as WAHA's 2026.8 release notes quote it); not a bare 475.
_CAPPED = re.compile(r"(?:error|code|nack)\W{0,3}475\b|message[\s_-]?capp(?:ed|ing)", re.IGNORECASE)


def _reachout_limited(message: str) -> bool:
    return _REACHOUT.search(message) is not None


def _business_only(message: str) -> bool:
    """whatsapp-web.js: "[LT01] Only Whatsapp business"; other engines' wording may differ, so match loosely."""
    lowered = message.lower()
    return "business" in lowered and ("only" in lowered or "not a business" in lowered)


def from_redirect(
    status: int, location: str, *, base_url: str, method: str, path: str, session: str | None
) -> Redirected:
    """The error for a 3xx: redirects are not followed (the request, the key and a write's body would go
    wherever the answer points), so the configuration is what needs fixing."""
    where: dict[str, Any] = {"status": status, "method": method, "path": path, "session": session}
    if status == 304:
        return Redirected(
            f"WAHA at {base_url} answered 304 Not Modified to a request that asked for no cache check "
            "(a caching proxy in front of WAHA?); nothing was done",
            **where,
        )
    target = f" to {location[:120]}" if location else ""
    return Redirected(
        f"WAHA at {base_url} answered with a redirect ({status}{target}), which is not followed: "
        "WAHA_BASE_URL probably needs https:// or a different path (no trailing /api)",
        **where,
    )


def from_transport(
    exc: Exception,
    *,
    base_url: str,
    timeout: float,
    method: str,
    path: str,
    session: str | None,
    write: bool = False,
) -> WAHAError:
    """The error for a request that got no answer (an httpx exception or the overall deadline).

    For a `write`, anything but a failed connect may have reached WAHA: the error says it may have been done.
    """
    if isinstance(exc, httpx2.TimeoutException | TimeoutError):
        message = f"WAHA did not answer within {timeout:g} s (WAHA_TIMEOUT)"
    elif isinstance(exc, httpx2.ConnectError):
        text = str(exc).lower()
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            message = f"cannot resolve the WAHA host in {base_url} (DNS): check WAHA_BASE_URL"
        else:
            message = f"cannot connect to WAHA at {base_url}: is it running? (check WAHA_BASE_URL)"
    elif isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError):
        message = f"WAHA at {base_url} closed the connection before answering"
    else:
        message = f"HTTP error: {type(exc).__name__}"
    error = Unavailable(message, method=method, path=path, session=session)
    error.maybe_done = write and not isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
    return error


def message_from_body(body: Any, fallback: str) -> str:
    """WAHA's own words from either real error shape (NestJS, status mismatch, exception)."""
    if isinstance(body, dict):
        exception = body.get("exception")
        if isinstance(exception, dict) and exception.get("message"):
            return str(exception["message"])
        message = body.get("message")
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        if message:
            return str(message)
        nested = body.get("error")
        if isinstance(nested, dict) and (nested.get("message") or nested.get("details")):
            # WAHA's file server: {"error": {"code": 404, "key": "FILE_NOT_FOUND", "message", "details"}}
            return ": ".join(str(nested[k]) for k in ("message", "details") if nested.get(k))
        if body.get("error"):
            error = str(body["error"])
            if body.get("status"):
                error += f" (status {body['status']}, expected {', '.join(map(str, body.get('expected', [])))})"
            return error
    if isinstance(body, str) and body.lstrip()[:1] == "<":
        return f"{fallback} (an HTML page, not WAHA's JSON)"  # a web server or proxy, not WAHA's words
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return fallback


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
