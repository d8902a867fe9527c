"""The audit log: every write recorded before and after its WAHA call, readable with filters."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.client import WAHAClient
from waha_mcp.client.fleet import Fleet
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.app import RecordedRequest
from waha_mcp.server import build_server
from waha_mcp.store import SQLiteStore
from waha_mcp.tools.pipeline import App, Invocation, invoke
from waha_mcp.tools.registry import REGISTRY

PERSON = "4915112345678@c.us"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.sqlite3"


@pytest.fixture
def settings(store_path: Path) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all", WAHA_MCP_STORE=str(store_path)
    )


@pytest.fixture
async def mcp(transport: httpx2.AsyncBaseTransport, settings: Settings) -> AsyncIterator[Client]:
    server = build_server(settings, transport=transport)
    async with Client(server) as client:
        yield client
    server.close()


def rows(path: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT tool, outcome, finished FROM audit_log ORDER BY id").fetchall()


async def test_recorded_before_and_after_the_call(mcp: Client, sandbox: Sandbox, store_path: Path) -> None:
    seen: list[list[tuple[str, str, str | None]]] = []

    def at_request(request: RecordedRequest) -> None:
        if request.path == "/api/sendText":  # the row is already committed when WAHA gets the request
            seen.append(rows(store_path))

    sandbox.on_request.append(at_request)
    sent = data(await call(mcp, "waha_send_message", {"chatId": PERSON, "text": "hello there"}))
    assert seen == [[("waha_send_message", "started", None)]]
    [entry] = data(await call(mcp, "waha_get_audit_log", {}))["entries"]
    assert entry["session"] == "default" and entry["tool"] == "waha_send_message"
    assert entry["target"] == PERSON and entry["outcome"] == "ok"
    assert entry["messageId"] == sent["messageId"]
    assert entry["arguments"] == {"chatId": PERSON, "text": "hello there", "linkPreview": True}
    assert entry["time"].startswith(str(datetime.now(UTC).year)) and entry["ms"] >= 0
    assert "bulkId" not in entry and "error" not in entry


async def test_reads_are_not_recorded(mcp: Client, store_path: Path) -> None:
    data(await call(mcp, "waha_get_chats", {"limit": 1}))
    assert data(await call(mcp, "waha_get_audit_log", {}))["entries"] == []


async def test_no_media_data_no_secrets(mcp: Client, sandbox: Sandbox) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 300).decode()
    await call(mcp, "waha_send_media", {"chatId": PERSON, "data": png, "mimetype": "image/png", "caption": "c"})
    config = {"proxy": {"server": "proxy.example:3128", "username": "u", "password": "hunter22-very-secret"}}
    await call(mcp, "waha_create_session", {"name": "fresh", "config": config})
    out = await call(mcp, "waha_get_audit_log", {})
    assert png not in str(out) and "hunter22-very-secret" not in str(out)
    made, media = data(out)["entries"]
    assert media["arguments"]["data"] == f"<{len(png)} chars of media>"
    assert made["arguments"]["config"]["proxy"] == {"server": "proxy.example:3128", "username": "u", "password": "***"}


async def test_a_failed_write_is_an_error_entry(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add("ChattingController_sendText", kind="status", status=500, times=1)
    error(await call(mcp, "waha_send_message", {"chatId": PERSON, "text": "x"}))
    [entry] = data(await call(mcp, "waha_get_audit_log", {"outcome": "error"}))["entries"]
    assert entry["tool"] == "waha_send_message" and "500" in entry["error"] and "messageId" not in entry


async def test_filters(mcp: Client, sandbox: Sandbox) -> None:
    data(await call(mcp, "waha_send_message", {"chatId": PERSON, "text": "a"}))
    data(await call(mcp, "waha_send_message", {"session": "business", "chatId": "4915100000009", "text": "b"}))
    data(await call(mcp, "waha_mark_chat_read", {"chatId": PERSON}))

    async def tools(**filters: object) -> list[str]:
        return [e["tool"] for e in data(await call(mcp, "waha_get_audit_log", filters))["entries"]]

    assert await tools() == ["waha_mark_chat_read", "waha_send_message", "waha_send_message"]
    assert await tools(session="business") == ["waha_send_message"]
    assert await tools(tool="waha_mark_chat_read") == ["waha_mark_chat_read"]
    assert await tools(target="4915100000009") == ["waha_send_message"]
    assert await tools(limit=1) == ["waha_mark_chat_read"]
    assert await tools(since="2999-01-01") == []
    assert await tools(outcome="unfinished") == []


async def test_an_interrupted_write_is_unfinished(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, settings: Settings, store_path: Path
) -> None:
    """The WAHA call never answers and the call dies mid-way: the row stays started, shown as unfinished."""
    sandbox.faults.add("ChattingController_sendText", kind="latency", delay=30)
    store = SQLiteStore(store_path)
    client = WAHAClient("http://sandbox", transport=transport)
    app = App(client=Fleet({"waha": client}), settings=settings, store=store)
    spec = REGISTRY["waha_send_message"]
    task = asyncio.ensure_future(invoke(Invocation(spec, {"chatId": PERSON, "text": "lost"}, app)))
    for _ in range(200):
        if any(r.path == "/api/sendText" for r in sandbox.requests):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.aclose()
    store.close()
    assert rows(store_path) == [("waha_send_message", "started", None)]
    sandbox.faults.clear()
    server = build_server(settings, transport=transport)  # a later process reads the same store
    async with Client(server) as mcp:
        [entry] = data(await call(mcp, "waha_get_audit_log", {"outcome": "unfinished"}))["entries"]
    server.close()
    assert entry["tool"] == "waha_send_message" and entry["outcome"] == "unfinished" and "ms" not in entry


async def test_queued_writes_commit_in_order(tmp_path: Path) -> None:
    """Store.write_soon (the audit outcome, the pacing finish): not awaited, yet before any later write."""
    store = SQLiteStore(tmp_path / "order.sqlite3")
    store.write_sync(lambda db: db.execute("CREATE TABLE IF NOT EXISTS seen (n INTEGER)"))
    for n in range(50):
        store.write_soon(lambda db, n=n: db.execute("INSERT INTO seen VALUES (?)", (n,)))
    last = await store.write(lambda db: db.execute("SELECT count(*), max(n) FROM seen").fetchone())
    store.close()
    assert last == (50, 49)


async def test_pages_past_the_limit_with_a_cursor(mcp: Client, sandbox: Sandbox) -> None:
    for n in range(7):
        data(await call(mcp, "waha_mark_chat_read", {"chatId": f"491510000000{n}@c.us"}))
    seen: list[int] = []
    page = data(await call(mcp, "waha_get_audit_log", {"limit": 3}))
    while True:
        seen += [entry["id"] for entry in page["entries"]]
        if not page["more"]:
            assert "cursor" not in page
            break
        page = data(await call(mcp, "waha_get_audit_log", {"limit": 3, "cursor": page["cursor"]}))
    assert len(seen) == 7 and seen == sorted(seen, reverse=True)  # every row once, newest first
    # Filters hold across pages; a number is a cursor too (the MCP Inspector sends them so).
    first = data(await call(mcp, "waha_get_audit_log", {"limit": 1, "tool": "waha_mark_chat_read"}))
    second = data(await call(mcp, "waha_get_audit_log", {"limit": 1, "cursor": int(first["cursor"])}))
    assert second["entries"][0]["id"] == seen[1]
