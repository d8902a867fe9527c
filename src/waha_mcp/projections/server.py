"""The WAHA server: version, engine, tier, uptime."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import Time, drop_empty, iso
from waha_mcp.projections.sessions import SessionInfo


class ServerInfo(TypedDict):
    version: NotRequired[str]
    engine: NotRequired[str]
    tier: NotRequired[str]
    browser: NotRequired[str]
    startTime: NotRequired[Time]
    uptimeSeconds: NotRequired[int]
    # `session` is the session's name in every result, so its state goes here.
    sessionInfo: NotRequired[SessionInfo]


def server_info(version: Any, status: Any = None, session: SessionInfo | None = None) -> ServerInfo:
    """`status` is None when the server lacks /api/server/status: the version alone still answers."""
    version = version if isinstance(version, dict) else {}
    out = {k: version.get(k) for k in ("version", "engine", "tier", "browser")}
    if isinstance(status, dict):
        out["startTime"] = iso(status.get("startTimestamp"))
        out["uptimeSeconds"] = round(float(status.get("uptime", 0)) / 1000)
    out["sessionInfo"] = session
    return cast(ServerInfo, drop_empty(out))
