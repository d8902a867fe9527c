"""PostgreSQL gone while running (a relay cut in front of it): readiness (`/healthz`) says so with a 503 and no
password, a write that would go unaudited is refused with the reason, and all recovers by itself."""

from __future__ import annotations

from typing import Any

import httpx2
from mcp import Client

from tests.helpers import call, data, error
from tests.pg import pg_dsn
from tests.pg_cut import Relay
from waha_mcp.config import load_settings
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server

__all__ = ["pg_dsn"]


PERSON = "4915112345678@c.us"


async def healthz(app: Any) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        return await http.get("/healthz")


async def test_the_database_going_away_and_coming_back(pg_dsn: str, sandbox: Sandbox) -> None:
    relay = Relay(pg_dsn)
    relay.start()
    password = relay.target.password or "no-password-in-dsn"
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_MCP_STORE=relay.dsn,
                             WAHA_TOOLSETS="all")  # fmt: skip
    server = build_server(settings, transport=sandbox_transport(sandbox))
    app = build_http_app(server, settings)
    sends: list[str] = []
    sandbox.on_request.append(lambda r: sends.append(r.path) if r.path == "/api/sendText" else None)
    try:
        assert (await healthz(app)).status_code == 200
        async with Client(server) as mcp:
            data(await call(mcp, "waha_send_message", {"chatId": PERSON, "text": "before"}))
            relay.cut()
            down = await healthz(app)
            assert down.status_code == 503
            assert "cannot be reached" in down.json()["store"] and password not in down.text
            data(await call(mcp, "waha_get_chats", {"limit": 1}))  # reading WAHA needs no store
            refused = error(await call(mcp, "waha_send_message", {"chatId": PERSON, "text": "while down"}))
            assert "audit log" in refused and "nothing was sent" in refused and password not in refused, refused
            assert sends == ["/api/sendText"]  # nothing went out unaudited
            relay.start()  # the same port: the database is back
            up = await healthz(app)
            assert up.status_code == 200, up.text
            data(await call(mcp, "waha_send_message", {"chatId": PERSON, "text": "after"}))
            entries = data(await call(mcp, "waha_get_audit_log", {}))["entries"]
            assert [e["outcome"] for e in entries] == ["ok", "ok"]
    finally:
        server.close()
        relay.stop()
