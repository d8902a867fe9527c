"""🔍 Observability: ping, health, version, status, environment, stop. Says plainly it is the sandbox.

The environment is answered as WAHA does: its own `WAHA_API_KEY` (and other credentials) in clear, so a
client's redaction is tested for real. With no key set, a fake one stands in. Stop is recorded in the
model and answered like WAHA; the sandbox then carries on as a restarted server (uptime from zero),
the way Docker brings WAHA back.
"""

from __future__ import annotations

import os
from typing import Any

from .. import errors
from ..environment import environment
from ..registry import Ctx, route
from ..state import now_ms


@route("PingController_ping")
async def ping(ctx: Ctx) -> dict[str, str]:
    return {"message": "pong"}


@route("HealthController_check")
async def health(ctx: Ctx) -> dict[str, Any]:
    if not ctx.sandbox.profile.checks_keys:
        # Health checks were a Plus feature until 2026.6: Core answers 422 (BEHAVIOUR.md).
        raise errors.nest(422, "Health check is available only in WAHA Plus version")
    details = {"sandbox": {"status": "up", "note": "WAHA emulator, not WhatsApp"}}
    return {"status": "ok", "info": details, "error": {}, "details": details}


@route("ServerController_get")
async def version(ctx: Ctx) -> dict[str, Any]:
    return environment() | ctx.sandbox.profile.environment()


@route("ServerController_status")
async def status(ctx: Ctx) -> dict[str, Any]:
    started = ctx.sandbox.started_ms
    return {"startTimestamp": started, "uptime": now_ms() - started, "worker": {"id": "waha-mcp-sandbox"}}


FAKE_API_KEY = "sandbox-fake-waha-api-key-0f3c9a"  # what the environment shows when no key is set
URL_SECRETS = ("sandbox-pg-pass-6b1f", "sandbox-mongo-pass-d04e", "sandbox-proxy-pass-2c9a")
FAKE_SECRETS = {
    "WAHA_DASHBOARD_PASSWORD": "sandbox-dashboard-pass-5e1d",
    "WHATSAPP_SWAGGER_PASSWORD": "sandbox-swagger-pass-77ab",
    "WHATSAPP_HOOK_HMAC_KEY": "sandbox-hook-hmac-9c2e",
    "WAHA_S3_SECRET_ACCESS_KEY": "sandbox-s3-secret-41f0",
    "WAHA_CHATWOOT_TOKEN": "sandbox-chatwoot-token-3a7d",
}


@route("ServerController_environment")
async def server_environment(ctx: Ctx) -> dict[str, Any]:
    key = ctx.sandbox.api_key or FAKE_API_KEY
    env: dict[str, Any] = {
        "WAHA_DEFAULT_ENGINE": "NOWEB",
        "WAHA_API_KEY": key,  # in clear, as WAHA answers
        "WAHA_PRINT_QR": "False",
        "WAHA_DASHBOARD_USERNAME": "admin",
        "WHATSAPP_HOOK_URL": f"http://127.0.0.1:9/hook?from=waha&k={key}",  # a key where no name says so
        "WAHA_SANDBOX": "waha-mcp sandbox (not WhatsApp)",
        # WAHA Plus's session stores: credentials inside URLs, where no variable name says so.
        "WHATSAPP_SESSIONS_POSTGRESQL_URL": f"postgres://postgres:{URL_SECRETS[0]}@postgres:5432/postgres",
        "WHATSAPP_SESSIONS_MONGO_URL": f"mongodb://mongo:{URL_SECRETS[1]}@mongo:27017/?authSource=admin",
        **FAKE_SECRETS,
    }
    if ctx.q_bool("all", False):
        env["TZ"] = os.environ.get("TZ", "UTC")
        env["NODE_ENV"] = "production"
        env["HTTPS_PROXY"] = f"http://squid:{URL_SECRETS[2]}@proxy.example:3128"
    return env


@route("ServerController_stop")
async def stop(ctx: Ctx) -> dict[str, bool]:
    ctx.sandbox.model.stops.append({"force": bool(ctx.body.get("force", False)), "time": now_ms()})
    ctx.sandbox.started_ms = now_ms()  # the restarted server: uptime starts again
    return {"stopping": True}
