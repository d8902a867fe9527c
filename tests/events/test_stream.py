"""Events from the sandbox over real sockets: its /ws stream into the consumer (reconnect, gap marker), and
its signed webhooks into the HTTP app's receiver (retries on non-2xx)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import websockets

from tests.e2e.servers import serving
from waha_mcp.config import load_settings
from waha_mcp.events import Events, Query
from waha_mcp.events.summary import GAP
from waha_mcp.events.webhook import PATH
from waha_mcp.events.ws import WSConsumer, ws_url
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server
from waha_mcp.store import SQLiteStore

KEY = "sandbox-api-key-123456"
HMAC = "webhook-hmac-key-abcdef0123"


@pytest.fixture
def keyed() -> Sandbox:
    return Sandbox(api_key=KEY)


@pytest.fixture
def waha(keyed: Sandbox) -> Iterator[str]:
    with serving(keyed.app) as url:
        yield url


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def inbound(url: str, text: str, session: str = "default", chat: str = "4915111111111@c.us") -> None:
    async with httpx2.AsyncClient(headers={"X-Api-Key": KEY}) as http:
        response = await http.post(f"{url}/__sandbox/{session}/inbound", json={"chatId": chat, "text": text})
        assert response.status_code == 201, response.text


async def test_the_ws_stream_needs_the_api_key(waha: str) -> None:
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(ws_url(waha, "wrong-key")):
            pass
    async with websockets.connect(ws_url(waha, KEY, events=("message",))) as ws:
        await inbound(waha, "filtered stream")
        envelope = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert envelope["event"] == "message" and envelope["payload"]["body"] == "filtered stream"
    assert envelope["id"].startswith("evt_") and envelope["session"] == "default" and envelope["engine"] == "NOWEB"


async def test_the_consumer_stores_what_the_stream_sends_and_marks_a_gap(waha: str, tmp_path: Any) -> None:
    store = SQLiteStore(tmp_path / "ws.sqlite3")
    events = Events(store)
    consumer = WSConsumer(waha, KEY, events.ingest, backoff=(0.05, 0.2))
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.connected.wait(), 10)
        await inbound(waha, "first")

        async def has(text: str) -> bool:
            rows = await events.inbox.query(Query(events=["message"]))
            return any(r.summary.text == text for r in rows)

        await until(lambda: has("first"))
        async with httpx2.AsyncClient(headers={"X-Api-Key": KEY}) as http:
            dropped = (await http.post(f"{waha}/__sandbox/ws/drop")).json()["dropped"]
        assert dropped == 1
        await until(lambda: has_gap(events))
        await asyncio.wait_for(consumer.connected.wait(), 10)
        await inbound(waha, "second")
        await until(lambda: has("second"))
        assert consumer.counters["connects"] == 2
        (gap,) = await events.inbox.query(Query(events=[GAP]))
        span = (await events.inbox.envelope(gap.summary.id))["payload"]
        assert span["from"] <= span["to"]
    finally:
        task.cancel()
        store.close()


async def has_gap(events: Events) -> bool:
    return bool(await events.inbox.query(Query(events=[GAP])))


async def test_the_consumer_survives_bad_frames_and_an_unreachable_waha(tmp_path: Any) -> None:
    store = SQLiteStore(tmp_path / "ws.sqlite3")
    events = Events(store)
    consumer = WSConsumer("http://127.0.0.1:9", None, events.ingest, backoff=(0.01, 0.02))
    task = asyncio.create_task(consumer.run())
    await until(lambda: _at_least(consumer.counters, "failures", 3))
    task.cancel()
    slots = asyncio.Semaphore(2)
    await slots.acquire()
    await consumer._store("{not json", slots)
    await slots.acquire()
    await consumer._store('{"no": "envelope"}', slots)
    assert consumer.counters["malformed"] == 2 and await events.inbox.count() == 0
    store.close()


async def _at_least(counters: Any, name: str, n: int) -> bool:
    return counters[name] >= n


async def test_sandbox_webhooks_are_signed_retried_and_stored_once(keyed: Sandbox, waha: str) -> None:
    settings = load_settings(WAHA_BASE_URL=waha, WAHA_API_KEY=KEY, WAHA_MCP_WEBHOOK_HMAC_KEY=HMAC,
                             WAHA_MCP_EVENTS="webhook")  # fmt: skip
    server = build_server(settings, transport=sandbox_transport(keyed))
    keyed.webhooks.delay_scale = 0.01
    with serving(build_http_app(server, settings)) as mcp_url:
        good = {"url": mcp_url + PATH, "events": ["message", "session.status"], "hmac": {"key": HMAC}}
        bad = {"url": mcp_url + PATH, "events": ["message"], "hmac": {"key": "not-the-key-000000"},
               "retries": {"attempts": 3, "delaySeconds": 1, "policy": "constant"}}  # fmt: skip
        keyed.sessions["default"].config["webhooks"] = [good, bad]
        await inbound(waha, "hello over a webhook")

        async def settled() -> bool:  # the sandbox delivers from its own thread: watch what it recorded
            return len(keyed.webhooks.attempts) >= 4 and not keyed.webhooks._tasks

        await until(settled)
    rows = await server.events().inbox.query(Query(sessions=["default"]))
    assert [r.summary.text for r in rows] == ["hello over a webhook"]
    statuses = [(a.url == good["url"], a.status) for a in keyed.webhooks.attempts]
    # The good hook: one 200. The one signed with another key: 401, retried to the limit, nothing stored.
    assert statuses.count((True, 200)) == 1 and statuses.count((True, 401)) == 3
    server.close()
