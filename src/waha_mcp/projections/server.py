"""The WAHA server: version, engine, tier, uptime; on request its health and its environment (redacted)."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import Time, drop_empty, iso
from waha_mcp.projections.sessions import SessionInfo
from waha_mcp.redact import REDACTED, redact_named


class Health(TypedDict):
    status: str  # ok | error (WAHA's /health), or reachable (only /ping answers on this WAHA)
    checks: NotRequired[dict[str, str]]  # check name → up, or down: why
    note: NotRequired[str]


class ServerInfo(TypedDict):
    version: NotRequired[str]
    engine: NotRequired[str]
    tier: NotRequired[str]
    browser: NotRequired[str]
    startTime: NotRequired[Time]
    uptimeSeconds: NotRequired[int]
    # `session` is the session's name in every result, so its state goes here.
    sessionInfo: NotRequired[SessionInfo]
    health: NotRequired[Health]
    # WAHA's settings (WAHA_*, WHATSAPP_*): credential-named ones and known secrets show as ***.
    environment: NotRequired[dict[str, str]]
    # What the listed tools reach that this WAHA is too old for: "tool: METHOD /path (WAHA x+)".
    needsNewerWaha: NotRequired[list[str]]
    # A fleet asked as a whole: one entry per server (these keys and `server`, or `server` and `error`).
    servers: NotRequired[list[dict[str, Any]]]


def server_info(
    version: Any,
    status: Any = None,
    session: SessionInfo | None = None,
    health: Health | None = None,
    environment: dict[str, str] | None = None,
    needs_newer: list[str] | None = None,
) -> ServerInfo:
    """`status` is None when the server lacks /api/server/status: the version alone still answers."""
    version = version if isinstance(version, dict) else {}
    out = {k: version.get(k) for k in ("version", "engine", "tier", "browser")}
    if isinstance(status, dict):
        out["startTime"] = iso(status.get("startTimestamp"))
        out["uptimeSeconds"] = round(float(status.get("uptime", 0)) / 1000)
    out["sessionInfo"] = session
    out["health"] = health
    out["environment"] = environment
    out["needsNewerWaha"] = needs_newer
    return cast(ServerInfo, drop_empty(out))


def fleet_info(answers: list[tuple[str, Any]]) -> ServerInfo:
    """Every server of a fleet: its info, or (an exception) why it could not say."""
    servers = [
        {"server": name, "error": str(getattr(info, "message", info))}
        if isinstance(info, Exception)
        else {"server": name, **info}
        for name, info in answers
    ]
    return {"servers": servers}


def health(answer: Any) -> Health:
    """WAHA's health-check object (`{status, info, error, details}`), as one status and a word per check."""
    answer = answer if isinstance(answer, dict) else {}
    checks: dict[str, str] = {}
    for name, check in (answer.get("details") or answer.get("info") or {}).items():
        if isinstance(check, dict):
            checks[str(name)] = str(check.get("status") or "unknown")
    for name, check in (answer.get("error") or {}).items():
        if isinstance(check, dict):
            why = check.get("message")
            checks[str(name)] = f"{check.get('status') or 'down'}: {why}" if why else str(check.get("status") or "down")
    return cast(Health, drop_empty({"status": str(answer.get("status") or "unknown"), "checks": checks}))


def reachable(pong: Any) -> Health:
    """A WAHA without /health (Core before 2026.6): only the ping answered."""
    said = pong.get("message") if isinstance(pong, dict) else None
    return {"status": "reachable", "note": f"this WAHA has no health checks; /ping said {said or 'nothing'}"}


def environment(answer: Any, is_secret: Any = None) -> tuple[dict[str, str], list[str]]:
    """WAHA's environment with every credential hidden: by its name (*KEY*, *TOKEN*, *SECRET*, *PASSWORD*,
    *HMAC*), or because its value is a secret we know (`is_secret(value)`). Also returns the hidden values."""
    clean, hidden = redact_named(answer if isinstance(answer, dict) else {})
    out: dict[str, str] = {}
    for name, value in clean.items():
        if value is None or value == "":
            continue
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        out[str(name)] = REDACTED if is_secret is not None and text != REDACTED and is_secret(text) else text
    return out, hidden
