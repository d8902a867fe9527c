"""🔍 Observability: ping, health, version, status, environment. Says plainly it is the sandbox."""

from __future__ import annotations

import os
import platform
from typing import Any

from ..registry import Ctx, route
from ..state import now_ms

VERSION = "2026.1.4"
BROWSER = "waha-mcp sandbox (not WhatsApp)"


def environment() -> dict[str, Any]:
    return {
        "version": VERSION,
        "engine": "NOWEB",
        "tier": "PLUS",
        "browser": BROWSER,
        "platform": f"{platform.system().lower()}/{platform.machine()}",
        "worker": {"id": "waha-mcp-sandbox"},
        "sandbox": True,
    }


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
