"""Two real `waha-mcp serve --http --stateless` processes on one PostgreSQL: a message delivered (signed webhook)
to one replica wakes `waha_wait_for_message` waiting on the other."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.replicas import healthy
from tests.events.test_kill import EXE, free_port
from tests.helpers import data
from tests.pg import pg_dsn
from waha_mcp.events.webhook import PATH, signature

__all__ = ["pg_dsn"]
KEY = "replicas-e2e-hmac-key-0123456789"


@pytest.fixture
def replicas(pg_dsn: str) -> Iterator[list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHA_")} | {
        "WAHA_MCP_STORE": pg_dsn,
        "WAHA_MCP_EVENTS": "webhook",
        "WAHA_MCP_WEBHOOK_HMAC_KEY": KEY,
        "WAHA_MCP_STATE_KEY": "replicas-e2e-state-key-0123456789abcdef",
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [EXE, "serve", "--http", "--stateless", "--sandbox"],
            env=env | {"WAHA_MCP_PORT": str(p)},
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    try:
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)


async def ready(http: httpx2.AsyncClient, url: str) -> None:
    await healthy(http, url, time.monotonic() + 30)


async def test_a_message_delivered_to_one_replica_wakes_a_waiter_on_the_other(replicas: list[str]) -> None:
    a, b = replicas
    async with httpx2.AsyncClient(timeout=30) as http:
        await asyncio.gather(ready(http, a), ready(http, b))
        async with Client(streamable_http_client(f"{b}/mcp", http_client=http)) as client:
            waiting = asyncio.ensure_future(
                client.call_tool("waha_wait_for_message", {"session": "default", "text": "ping", "timeout": 20})
            )
            await asyncio.sleep(2.0)  # the waiter is in place on B (a loaded machine included)
            envelope = {"id": "evt_replica_1", "timestamp": int(time.time() * 1000), "session": "default",
                        "event": "message",
                        "payload": {"id": "false_4915112345678@c.us_R1", "from": "4915112345678@c.us",
                                    "fromMe": False, "body": "ping from A"}}  # fmt: skip
            body = json.dumps(envelope).encode()
            delivered = await http.post(f"{a}{PATH}", content=body, headers={"X-Webhook-Hmac": signature(KEY, body)})
            assert delivered.status_code == 200, delivered.text
            started = time.monotonic()
            result = data(await asyncio.wait_for(waiting, 25))
            assert time.monotonic() - started < 10
    assert "ping from A" in json.dumps(result), result
