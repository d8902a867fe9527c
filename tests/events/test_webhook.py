"""`POST /webhooks/waha` on the HTTP app: HMAC-SHA512 of the raw body, caps, bad bodies, ack after the write."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Any

import httpx2
import pytest

from tests.e2e.servers import serving
from waha_mcp.config import load_settings
from waha_mcp.events.webhook import PATH, signature
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import WahaMCP, build_server

KEY = "hmac-key-0123456789abcdef"


def make(sandbox: Sandbox, **extra: Any) -> tuple[WahaMCP, Any]:
    settings = load_settings(
        **{"WAHA_BASE_URL": "http://sandbox", "WAHA_SESSION": "default", "WAHA_MCP_EVENTS": "webhook"} | extra
    )
    server = build_server(settings, transport=sandbox_transport(sandbox))
    return server, build_http_app(server, settings)


def envelope(eid: str = "evt_01", **extra: Any) -> dict[str, Any]:
    return {
        "id": eid,
        "timestamp": int(time.time() * 1000),
        "session": "default",
        "engine": "NOWEB",
        "event": "message",
        "payload": {"id": "false_1@c.us_A", "from": "1@c.us", "fromMe": False, "body": "hello"},
    } | extra


def signed(body: bytes, key: str = KEY) -> dict[str, str]:
    return {"X-Webhook-Hmac": signature(key, body), "X-Webhook-Hmac-Algorithm": "sha512",
            "Content-Type": "application/json"}  # fmt: skip


async def post(app: Any, body: bytes, headers: dict[str, str] | None = None) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        return await http.post(PATH, content=body, headers={"Content-Type": "application/json"} | (headers or {}))


async def stored(server: WahaMCP) -> int:
    return await server.events().inbox.count()


async def test_a_signed_event_is_stored_and_acknowledged(sandbox: Sandbox) -> None:
    server, app = make(sandbox, WAHA_MCP_WEBHOOK_HMAC_KEY=KEY)
    body = json.dumps(envelope()).encode()
    response = await post(app, body, signed(body))
    assert response.status_code == 200 and response.json() == {"ok": True, "stored": True}
    # Acknowledged means durable: another connection to the file already sees it.
    db = sqlite3.connect(server.store().path)
    assert db.execute("SELECT id, text FROM inbox_events").fetchall() == [("evt_01", "hello")]
    db.close()
    again = await post(app, body, signed(body))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await stored(server) == 1
    server.close()


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Webhook-Hmac": "00" * 64}, {"X-Webhook-Hmac": "wrong-key"}, {"X-Webhook-Hmac-Algorithm": "sha256"}],
)
async def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
    sandbox: Sandbox, headers: dict[str, str]
) -> None:
    server, app = make(sandbox, WAHA_MCP_WEBHOOK_HMAC_KEY=KEY)
    body = json.dumps(envelope()).encode()
    if headers.get("X-Webhook-Hmac") == "wrong-key":
        headers = signed(body, "another-key-entirely-0000")
    elif "X-Webhook-Hmac-Algorithm" in headers:
        headers = signed(body) | headers
    response = await post(app, body, headers)
    assert response.status_code == 401 and KEY not in response.text
    assert await stored(server) == 0
    assert server.events().ingest.counters["webhook401"] == 1
    server.close()


async def test_the_signature_covers_the_raw_bytes(sandbox: Sandbox) -> None:
    server, app = make(sandbox, WAHA_MCP_WEBHOOK_HMAC_KEY=KEY)
    body = json.dumps(envelope(), indent=2).encode()  # not our own serialisation: the raw body counts
    assert (await post(app, body, signed(body))).status_code == 200
    tampered = body.replace(b"hello", b"HELLO")
    assert (await post(app, tampered, signed(body))).status_code == 401
    server.close()


async def test_oversized_malformed_and_non_envelope_bodies(sandbox: Sandbox) -> None:
    server, app = make(sandbox, WAHA_MCP_WEBHOOK_MAX_BYTES="2048")
    big = json.dumps(envelope(payload={"body": "x" * 4000})).encode()
    assert (await post(app, big)).status_code == 413
    assert (await post(app, b'{"id": "evt_1", "sess')).status_code == 400
    not_event = await post(app, b'{"hello": "world"}')
    assert not_event.status_code == 400 and "session" in not_event.json()["error"]
    assert (await post(app, b"[1, 2]")).status_code == 400
    assert await stored(server) == 0
    counters = server.events().ingest.counters
    assert counters["webhook413"] == 1 and counters["webhook400"] == 3
    server.close()


async def test_a_stale_event_is_acknowledged_not_stored(sandbox: Sandbox) -> None:
    server, app = make(sandbox, WAHA_MCP_EVENTS_MAX_AGE_DAYS="1")
    old = envelope(timestamp=int((time.time() - 3 * 86400) * 1000))
    response = await post(app, json.dumps(old).encode())
    assert response.status_code == 200 and response.json()["stale"] is True
    assert await stored(server) == 0 and server.events().ingest.counters["stale"] == 1
    server.close()


async def test_unsigned_deliveries_need_a_loopback_bind(sandbox: Sandbox) -> None:
    server, app = make(sandbox, WAHA_MCP_HOST="0.0.0.0", WAHA_MCP_AUTH_TOKEN="t" * 20)
    response = await post(app, json.dumps(envelope()).encode())
    assert response.status_code == 403 and "WAHA_MCP_WEBHOOK_HMAC_KEY" in response.text
    assert await stored(server) == 0
    server.close()


async def test_events_off_has_no_route(sandbox: Sandbox) -> None:
    server, app = make(sandbox, WAHA_MCP_EVENTS="off")
    response = await post(app, json.dumps(envelope()).encode())
    assert response.status_code != 200
    server.close()


def test_over_a_real_socket_the_route_skips_the_bearer_token(sandbox: Sandbox) -> None:
    server, app = make(sandbox, WAHA_MCP_WEBHOOK_HMAC_KEY=KEY, WAHA_MCP_AUTH_TOKEN="bearer-token-1234567890")
    body = json.dumps(envelope("evt_real")).encode()
    with serving(app) as url:
        response = httpx2.post(url + PATH, content=body, headers=signed(body))
        mcp = httpx2.post(url + "/mcp", json={}, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    assert mcp.status_code == 401
    db = sqlite3.connect(server.store().path)
    assert db.execute("SELECT count(*) FROM inbox_events WHERE id = 'evt_real'").fetchone() == (1,)
    db.close()
    server.close()


async def test_events_for_sessions_waha_does_not_have_are_stored_and_counted(sandbox: Sandbox) -> None:
    from waha_mcp.events.background import _learn_sessions

    server, app = make(sandbox)
    learning = asyncio.create_task(_learn_sessions(server))
    try:
        while server.events().ingest.known_sessions is None:
            await asyncio.sleep(0.01)
        assert server.events().ingest.known_sessions == {"default", "business"}
        ghost = envelope("evt_ghost", session="ghost")
        assert (await post(app, json.dumps(ghost).encode())).status_code == 200
        new = {"id": "evt_new", "session": "fresh", "event": "session.status", "payload": {"status": "STARTING"}}
        await post(app, json.dumps(new).encode())
        await post(app, json.dumps(envelope("evt_fresh", session="fresh")).encode())
    finally:
        learning.cancel()
    assert server.events().ingest.counters["unknownSession"] == 1  # "fresh" announced itself first
    assert await stored(server) == 3
    server.close()
