"""`waha_configure_webhooks` / `waha_remove_webhooks` (merge into config.webhooks, keep the rest) and `waha_inbox`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from anyio import sleep as anyio_sleep
from mcp import Client

from tests.conftest import user_says_yes
from tests.helpers import call, data, error
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import WahaMCP, build_server

URL = "https://mcp.example.com/webhooks/waha"
KEY = "manager-hmac-key-0123456789"


@pytest.fixture
def keyed_server(sandbox: Sandbox) -> WahaMCP:
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all",
                             WAHA_MCP_WEBHOOK_URL=URL, WAHA_MCP_WEBHOOK_HMAC_KEY=KEY)  # fmt: skip
    return build_server(settings, transport=sandbox_transport(sandbox))


@pytest.fixture
async def client(keyed_server: WahaMCP) -> AsyncIterator[Client]:
    async with Client(keyed_server, elicitation_callback=user_says_yes) as c:
        yield c


async def test_configure_merges_and_keeps_the_rest_of_the_config(client: Client, sandbox: Sandbox) -> None:
    config = sandbox.sessions["business"].config
    config.update({"metadata": {"team": "sales"}, "proxy": {"server": "proxy:3128"},
                   "webhooks": [{"url": "https://other.example/hook", "events": ["message"]}]})  # fmt: skip
    result = await call(client, "waha_configure_webhooks", {"session": "business", "events": ["message"]})
    out = data(result)
    assert out["sessions"] == [{"session": "business", "webhooks": 2, "changed": True}]
    assert out["signed"] is True and "restarts" in out["note"] and KEY not in str(result.content)
    after = sandbox.sessions["business"].config
    assert after["metadata"] == {"team": "sales"} and after["proxy"] == {"server": "proxy:3128"}
    ours = [h for h in after["webhooks"] if h["url"] == URL]
    assert ours == [{"url": URL, "events": ["message"], "hmac": {"key": KEY},
                     "retries": {"policy": "exponential", "delaySeconds": 2, "attempts": 5}}]  # fmt: skip
    again = data(await call(client, "waha_configure_webhooks", {"session": "business", "events": ["message"]}))
    assert again["sessions"][0]["changed"] is False  # the same webhook is not added twice
    removed = data(await call(client, "waha_remove_webhooks", {"session": "business"}))
    assert removed["sessions"] == [{"session": "business", "webhooks": 1, "changed": True}]
    assert sandbox.sessions["business"].config["webhooks"] == [
        {"url": "https://other.example/hook", "events": ["message"]}
    ]


async def test_configure_all_sessions_and_the_default(client: Client, sandbox: Sandbox) -> None:
    out = data(await call(client, "waha_configure_webhooks", {"all": True}))
    assert {c["session"] for c in out["sessions"]} == set(sandbox.sessions)
    assert "message" in out["events"] and "session.status" in out["events"]
    default = data(await call(client, "waha_remove_webhooks", {}))
    assert [c["session"] for c in default["sessions"]] == ["default"]
    rest = data(await call(client, "waha_remove_webhooks", {"all": True}))
    assert {c["session"]: c["changed"] for c in rest["sessions"]} == {"default": False, "business": True}
    assert all(URL not in str(s.config.get("webhooks")) for s in sandbox.sessions.values())


async def test_configure_needs_a_url(mcp: Client) -> None:
    message = error(await call(mcp, "waha_configure_webhooks", {"session": "default"}))
    assert "WAHA_MCP_WEBHOOK_URL" in message


def envelope(eid: str, chat: str, text: str, session: str = "default") -> dict[str, Any]:
    return {"id": eid, "timestamp": int(time.time() * 1000), "session": session, "event": "message",
            "payload": {"id": f"false_{chat}_{eid}", "from": chat, "fromMe": False, "body": text}}  # fmt: skip


async def test_inbox_puts_unread_first_and_counts_what_arrived(mcp: Client, server: WahaMCP, sandbox: Sandbox) -> None:
    ingest = server.events().ingest
    await ingest.accept(envelope("evt_i1", "4900000000001@c.us", "new person"), "ws")
    await ingest.accept(envelope("evt_i2", "4900000000001@c.us", "again"), "ws")
    out = data(await call(mcp, "waha_inbox", {"sessions": ["default", "business"], "limit": 10}))
    chats = out["chats"]
    assert {c["session"] for c in chats} == {"default", "business"}
    unread = [bool(c.get("unread")) for c in chats]
    assert unread == sorted(unread, reverse=True)  # unread conversations first
    arrived = next(c for c in chats if c["chatId"] == "4900000000001@c.us")
    assert arrived["received"] == 2 and arrived["last"] == "again" and arrived["session"] == "default"
    assert out["received"]["stored"] == 2  # what reached the inbox since start, by outcome
    every = data(await call(mcp, "waha_inbox", {}))  # without names: every WORKING session
    assert {c["session"] for c in every["chats"]} <= {"default", "business"} and every["chats"]


async def test_sessions_named_in_the_setting_get_the_webhook_at_start(sandbox: Sandbox, tmp_path: Any) -> None:
    """WAHA_MCP_WEBHOOK_SESSIONS: the server merges its webhook into those sessions when it starts, through the
    pipeline (the audit log has it), and leaves the others alone."""
    from waha_mcp.events.background import running

    settings = load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_MCP_EVENTS="webhook",
        WAHA_MCP_WEBHOOK_URL=URL,
        WAHA_MCP_WEBHOOK_SESSIONS="business",
        WAHA_MCP_STORE=str(tmp_path / "s.sqlite3"),
    )
    server = build_server(settings, transport=sandbox_transport(sandbox))
    try:
        async with running(server, listener=False):
            deadline = time.monotonic() + 5
            while not sandbox.sessions["business"].config.get("webhooks") and time.monotonic() < deadline:
                await anyio_sleep(0.02)
        assert [h["url"] for h in sandbox.sessions["business"].config["webhooks"]] == [URL]
        assert not sandbox.sessions["default"].config.get("webhooks")
        # Through the writer's queue, so the outcome queued after the call is in.
        rows = await server.store().write(lambda db: db.execute("SELECT tool, outcome FROM audit_log").fetchall())
        assert ("waha_configure_webhooks", "ok") in rows
    finally:
        server.close()
