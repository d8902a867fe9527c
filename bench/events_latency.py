"""Inbound message → `resources/updated` on a subscribed client, and → a waiting `waha_wait_for_message` returning.

The sandbox (WAHA emulator) runs on a real loopback socket; waha-mcp consumes its `/ws` event stream as it
would WAHA's (WAHA_MCP_EVENTS=ws), stores each event in SQLite, and serves an MCP client (the SDK's in-memory
transport, protocol 2026-07-28) that holds a `subscriptions/listen` stream on the chat's messages resource and
a pending `waha_wait_for_message` call. Each round injects one inbound message through the sandbox's control
endpoint; both delays are measured from just before that request (the sandbox emits the event while handling
it), so they include the HTTP request, the WebSocket hop, the durable write and the MCP notification.

    python bench/events_latency.py [--rounds 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import free_port, machine

from waha_mcp.config import load_settings
from waha_mcp.events.background import running
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.runner import make_config
from waha_mcp.server import build_server

CHAT = "4915777000111@c.us"


def serve_sandbox(sb: Sandbox) -> tuple[str, uvicorn.Server]:
    port = free_port()
    server = uvicorn.Server(make_config(sb, "127.0.0.1", port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def run(rounds: int) -> None:
    sb = Sandbox()
    url, box = serve_sandbox(sb)
    store = Path(tempfile.mkdtemp(prefix="waha-latency-")) / "store.sqlite3"
    settings = load_settings(WAHA_BASE_URL=url, WAHA_SESSION="default", WAHA_TOOLSETS="events,chats",
                             WAHA_MCP_STORE=str(store), WAHA_MCP_EVENTS="ws")  # fmt: skip
    server = build_server(settings)
    updated: list[float] = []
    waited: list[float] = []
    async with running(server, listener=False) as started, Client(server) as client:
        await asyncio.wait_for(started["ws"].connected.wait(), 10)
        await client.read_resource("waha://inbox")  # warms the read path (resources hear events from the start)
        uri = f"waha://chats/{CHAT}/messages?session=default"
        async with client.listen(resource_subscriptions=[uri]) as sub, httpx2.AsyncClient() as http:
            for n in range(rounds):
                call = asyncio.create_task(
                    client.call_tool("waha_wait_for_message", {"chat": CHAT, "text": f"round {n}", "timeout": 10})
                )
                while len(server.events().waiters) < 1:
                    await asyncio.sleep(0.001)
                t0 = time.perf_counter()
                answer = await http.post(
                    f"{url}/__sandbox/default/inbound", json={"chatId": CHAT, "text": f"round {n}"}
                )
                assert answer.status_code == 201, answer.text

                async def first_update() -> Any:
                    async for event in sub:
                        if getattr(event, "uri", None) == uri:
                            return event

                await asyncio.wait_for(first_update(), 10)
                updated.append(time.perf_counter() - t0)
                result = await call
                waited.append(time.perf_counter() - t0)
                assert not result.is_error and result.structured_content["matched"], result
    box.should_exit = True
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, python {info['python']}, commit {info['commit']}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{rounds} inbound messages → resources/updated: p50 {pct(updated, 50):.1f} ms, "
          f"p90 {pct(updated, 90):.1f} ms, max {max(updated) * 1000:.1f} ms")  # fmt: skip
    print(f"{rounds} inbound messages → waha_wait_for_message returned: p50 {pct(waited, 50):.1f} ms, "
          f"p90 {pct(waited, 90):.1f} ms, max {max(waited) * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
