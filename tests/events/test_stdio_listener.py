"""The stdio-mode webhook listener: a real `waha-mcp` process, a real loopback socket, a real SQLite file."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.e2e.servers import serving
from tests.e2e.test_stdio import EXE, env_for
from tests.helpers import data
from waha_mcp.events.webhook import PATH, signature
from waha_mcp.sandbox import Sandbox

KEY = "stdio-listener-key-0123456789"


@pytest.fixture
def waha_url(sandbox: Sandbox) -> Iterator[str]:
    with serving(sandbox.app) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_signed_webhook_reaches_the_stdio_servers_inbox(waha_url: str, tmp_path: Path) -> None:
    port, db_path = free_port(), tmp_path / "inbox.sqlite3"
    env = env_for(
        waha_url,
        WAHA_MCP_WEBHOOK_PORT=str(port),
        WAHA_MCP_WEBHOOK_HMAC_KEY=KEY,
        WAHA_MCP_STORE=str(db_path),
        WAHA_MCP_EVENTS="webhook",
        WAHA_TOOLSETS="events",
    )
    body = json.dumps(
        {"id": "evt_stdio", "timestamp": int(time.time() * 1000), "session": "default", "event": "message",
         "payload": {"id": "false_1@c.us_A", "from": "1@c.us", "body": "over the listener"}}
    ).encode()  # fmt: skip
    async with Client(StdioServerParameters(command=EXE, args=[], env=env), mode="legacy") as client:
        deadline = time.monotonic() + 10
        while True:
            try:
                async with httpx2.AsyncClient() as http:
                    response = await http.post(
                        f"http://127.0.0.1:{port}{PATH}", content=body, headers={"X-Webhook-Hmac": signature(KEY, body)}
                    )
                break
            except httpx2.ConnectError:
                assert time.monotonic() < deadline, "the listener never started"
                time.sleep(0.05)
        assert response.status_code == 200, response.text
        unsigned = httpx2.post(f"http://127.0.0.1:{port}{PATH}", content=body)
        assert unsigned.status_code == 401
        found = data(await client.call_tool("waha_get_events", {"session": "default"}))
        assert [e["text"] for e in found["events"]] == ["over the listener"]
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT id FROM inbox_events").fetchall() == [("evt_stdio",)]
    db.close()
