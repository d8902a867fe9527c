"""🔍 Observability: ping, health, version, status, environment. Says plainly it is the sandbox."""

from __future__ import annotations

import os
from typing import Any

from ..environment import environment
from ..registry import Ctx, route
from ..state import now_ms


@route("PingController_ping")
async def ping(ctx: Ctx) -> dict[str, str]:
    return {"message": "pong"}


@route("HealthController_check")
async def health(ctx: Ctx) -> dict[str, Any]:
    details = {"sandbox": {"status": "up", "note": "WAHA emulator, not WhatsApp"}}
    return {"status": "ok", "info": details, "error": {}, "details": details}


@route("ServerController_get")
async def version(ctx: Ctx) -> dict[str, Any]:
    return environment()


@route("ServerController_status")
async def status(ctx: Ctx) -> dict[str, Any]:
    started = ctx.sandbox.started_ms
    return {"startTimestamp": started, "uptime": now_ms() - started, "worker": {"id": "waha-mcp-sandbox"}}


@route("ServerController_environment")
async def server_environment(ctx: Ctx) -> dict[str, Any]:
    env = {
        "WAHA_DEFAULT_ENGINE": "NOWEB",
        "WAHA_API_KEY": "***" if ctx.sandbox.api_key else None,  # never echo the key
        "WAHA_PRINT_QR": "False",
        "WAHA_SANDBOX": "waha-mcp sandbox (not WhatsApp)",
    }
    if ctx.q_bool("all", False):
        env["TZ"] = os.environ.get("TZ", "UTC")
    return env
