"""Events from a WAHA Core 2024.10 (the sandbox's `core-2024.10` profile) over real sockets.

Core's webhooks and /ws frames carry no `id`, `timestamp`, `X-Webhook-*` headers or HMAC, and are never retried
(src/core/webhooks.core.ts); its /ws accepts only `session=*` with `events=*` or `session.status`, closes with
4001 otherwise, sends only `session.status`, and dies on a repeated `events=` (websocket.gateway.core.ts).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import websockets

from tests.conftest import user_says_yes
from tests.e2e.servers import serving
from tests.helpers import call, data, error
from waha_mcp.config import load_settings
from waha_mcp.events import Query
from waha_mcp.events.webhook import PATH
from waha_mcp.events.ws import WSConsumer, ws_url
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.events_ws import streams
from waha_mcp.server import build_server

FACTOR = 0.01


@pytest.fixture
def core() -> Sandbox:
    return Sandbox(sessions=1, profile="core-2024.10", time_factor=FACTOR)


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def inbound(url: str, text: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{url}/__sandbox/default/inbound", json={"chatId": "4915111111111@c.us",
                                                                           "text": text})  # fmt: skip
        assert response.status_code == 201, response.text


async def test_a_core_webhook_without_id_reaches_the_inbox_once(core: Sandbox, tmp_path: Any) -> None:
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_MCP_EVENTS="webhook",
                             WAHA_MCP_STORE=str(tmp_path / "s.sqlite3"))  # fmt: skip
    server = build_server(settings, transport=sandbox_transport(core))
    seen: list[tuple[dict[str, str], dict[str, Any]]] = []
    receiver = build_http_app(server, settings)

    async def spy(scope: Any, receive: Any, send: Any) -> None:  # what reached us, as sent
        if scope["type"] == "http" and scope["path"] == PATH:
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            seen.append(({k.decode(): v.decode() for k, v in scope["headers"]}, json.loads(body)))

            async def replay() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            await receiver(scope, replay, send)
            return
        await receiver(scope, receive, send)

    with serving(core.app) as waha, serving(spy) as mcp_url:
        # Core keeps `hmac` and `retries` in the config but uses neither.
        hook = {"url": mcp_url + PATH, "events": ["message", "message.any"], "hmac": {"key": "k" * 20},
                "retries": {"attempts": 5, "delaySeconds": 1}}  # fmt: skip
        core.sessions["default"].config["webhooks"] = [hook]
        await inbound(waha, "hello from core")

        async def delivered() -> bool:
            return len(core.webhooks.attempts) >= 2 and not core.webhooks._tasks

        await until(delivered)
    headers, envelope = seen[0]
    assert "id" not in envelope and "timestamp" not in envelope and envelope["environment"]["tier"] == "CORE"
    assert not [h for h in headers if h.startswith("x-webhook")] and headers["user-agent"] == "WAHA/2024.10.8"
    assert [a.status for a in core.webhooks.attempts] == [200, 200]
    rows = await server.events().inbox.query(Query(sessions=["default"]))
    assert [(r.summary.event, r.summary.text) for r in rows] == [("message", "hello from core"),
                                                                 ("message.any", "hello from core")]  # fmt: skip
    assert rows[0].summary.id.startswith("dg_") and rows[0].summary.chat == "4915111111111@c.us"
    server.close()


async def test_core_ws_refuses_filters_and_sends_only_session_status(core: Sandbox) -> None:
    with serving(core.app) as waha:
        for url in (ws_url(waha, None, session="default"), ws_url(waha, None, events=("message",))):
            async with websockets.connect(url) as ws:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 4001 and "allowed for now" in json.loads(closed.value.rcvd.reason)["error"]
        async with websockets.connect(ws_url(waha, None)) as ws:
            await inbound(waha, "not on core's stream")
            async with httpx2.AsyncClient() as http:
                assert (await http.post(f"{waha}/api/sessions/default/logout")).status_code == 201
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["event"] == "session.status" and "id" not in frame and "timestamp" not in frame
        # A repeated `events=` kills Core's whole process: the sandbox counts it (every stream drops).
        assert streams(core).crashes == 0
        with pytest.raises((websockets.InvalidStatus, websockets.ConnectionClosed)):
            async with websockets.connect(f"{waha.replace('http', 'ws')}/ws?events=*&events=session.status") as ws:
                await asyncio.wait_for(ws.recv(), 5)
        assert streams(core).crashes == 1


def test_the_consumer_never_repeats_events_in_its_url() -> None:
    url = ws_url("http://waha:3000", "key-123", events=("message", "session.status"))
    query = parse_qs(urlsplit(url).query)
    assert query["events"] == ["message,session.status"] and query["session"] == ["*"]


async def test_the_consumer_stores_core_status_frames(core: Sandbox, tmp_path: Any) -> None:
    from waha_mcp.events import Events
    from waha_mcp.store import SQLiteStore

    store = SQLiteStore(tmp_path / "ws.sqlite3")
    events = Events(store)
    with serving(core.app) as waha:
        consumer = WSConsumer(waha, None, events.ingest, backoff=(0.05, 0.2))
        task = asyncio.create_task(consumer.run())
        try:
            await asyncio.wait_for(consumer.connected.wait(), 10)
            async with httpx2.AsyncClient() as http:
                await http.post(f"{waha}/api/sessions/default/logout")

            async def has_status() -> bool:
                return bool(await events.inbox.query(Query(events=["session.status"])))

            await until(has_status)
            assert streams(core).crashes == 0 and consumer.counters["malformed"] == 0
        finally:
            task.cancel()
    store.close()


async def test_on_core_the_events_tools_and_doctor_say_messages_need_webhooks(
    core: Sandbox, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from mcp import Client

    from waha_mcp.doctor import run_doctor

    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_MCP_EVENTS="ws",
                             WAHA_TOOLSETS="all", WAHA_MCP_STORE=str(tmp_path / "s.sqlite3"))  # fmt: skip
    server = build_server(settings, transport=sandbox_transport(core))
    async with Client(server, elicitation_callback=user_says_yes) as mcp:
        waited = data(await call(mcp, "waha_wait_for_message", {"timeout": 0.1}))
        page = data(await call(mcp, "waha_get_events", {}))
    assert not waited["matched"] and "only by webhook" in waited["note"] and "2024.10.8" in page["note"]
    assert await run_doctor(settings, transport=sandbox_transport(core)) == 0
    assert "streams only session.status" in capsys.readouterr().out
    server.close()


async def test_configure_webhooks_picks_names_core_accepts(core: Sandbox, tmp_path: Any) -> None:
    from mcp import Client

    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all",
                             WAHA_MCP_WEBHOOK_URL="http://127.0.0.1:9/webhooks/waha",
                             WAHA_MCP_STORE=str(tmp_path / "s.sqlite3"))  # fmt: skip
    server = build_server(settings, transport=sandbox_transport(core))
    async with Client(server, elicitation_callback=user_says_yes) as mcp:
        out = data(await call(mcp, "waha_configure_webhooks", {"session": "default"}))
        refused = error(await call(mcp, "waha_configure_webhooks", {"session": "default", "events": ["group.v2.join"]}))
    assert "message.edited" not in out["events"] and "group.join" in out["events"]
    assert out["sessions"] == [{"session": "default", "webhooks": 1, "changed": True}]
    assert "refuses webhook events group.v2.join" in refused and "2024.10.8" in refused
    # The sandbox refuses as Core does: a name outside its list, or `*`.
    async with httpx2.AsyncClient(transport=sandbox_transport(core), base_url="http://sandbox") as http:
        for bad in (["message.edited"], ["*"]):
            config = {"webhooks": [{"url": "http://127.0.0.1:9/h", "events": bad}]}
            answer = await http.put("/api/sessions/default", json={"config": config})
            assert answer.status_code == 400 and "must be one of the following values" in answer.json()["message"][0]
    server.close()


async def test_the_startup_log_says_it_too(core: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    from waha_mcp.events.background import _check_stream

    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_MCP_EVENTS="ws")
    server = build_server(settings, transport=sandbox_transport(core))
    with caplog.at_level("WARNING", logger="waha_mcp.events"):
        await _check_stream(server)
    assert "messages, acks and other events reach this server only by webhook" in caplog.text
    server.close()
