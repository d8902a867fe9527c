"""Resources over the real Streamable HTTP transport: a connection's narrowing binds them, and one message from
the sandbox's real `/ws` stream gives one `resources/updated` per subscribed URI (both protocol generations)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ResourceUpdatedNotification

from tests.e2e.servers import sandbox_on_socket, serving
from waha_mcp.config import load_settings
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server

GENERATIONS = [("auto", True), ("legacy", False)]  # 2026-07-28 stateless, the one before stateful


def connect(url: str, mode: str, handler: Any = None, **headers: str) -> tuple[httpx2.AsyncClient, Client]:
    http = httpx2.AsyncClient(headers=headers, timeout=30)
    return http, Client(streamable_http_client(url + "/mcp", http_client=http), mode=mode, message_handler=handler)


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
@pytest.mark.parametrize(("mode", "stateless"), GENERATIONS)
async def test_a_connection_narrowed_to_sessions_reads_no_other_resource(
    sandbox: Sandbox, mode: str, stateless: bool
) -> None:
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all",
                             WAHA_MCP_STATELESS=stateless, WAHA_MCP_STORE=":memory:")  # fmt: skip
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    with serving(app) as url:
        http, client = connect(url, mode, **{"X-WAHA-Toolsets": "sessions"})
        async with http, client:
            templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
            assert templates == {"waha://sessions{?session}"}
            assert {str(r.uri) for r in (await client.list_resources()).resources} == {"waha://sessions"}
            await client.read_resource("waha://sessions")
            before = len(sandbox.requests)
            for uri in ("waha://groups", "waha://contacts", "waha://chats/overview", "waha://inbox",
                        "waha://chats/111@c.us/messages?session=business"):  # fmt: skip
                with pytest.raises(Exception, match="not enabled for this connection"):
                    await client.read_resource(uri)
            assert len(sandbox.requests) == before
        http, client = connect(url, mode, **{"X-WAHA-Read-Only": "true"})
        async with http, client:  # read-only keeps every read, so every resource
            assert len((await client.list_resource_templates()).resource_templates) == 6
            await client.read_resource("waha://groups")


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
@pytest.mark.parametrize(("mode", "stateless"), [("auto", True), ("auto", False), ("legacy", False)])
async def test_one_inbound_message_over_the_sandbox_socket_is_one_update(
    tmp_path: Path, mode: str, stateless: bool
) -> None:
    chat = "4915777000111@c.us"
    uris = [f"waha://chats/{chat}/messages?session=default", "waha://chats/overview"]
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    sb = Sandbox()
    async with sandbox_on_socket(sb) as waha:
        settings = load_settings(WAHA_BASE_URL=waha, WAHA_SESSION="default", WAHA_TOOLSETS="all",
                                 WAHA_MCP_EVENTS="ws", WAHA_MCP_STATELESS=stateless,
                                 WAHA_MCP_STORE=str(tmp_path / "store.sqlite3"))  # fmt: skip
        app = build_http_app(build_server(settings), settings)
        with serving(app) as url:
            http, client = connect(url, mode, on_message if mode == "legacy" else None)
            async with http, client, httpx2.AsyncClient() as control:

                async def inbound(text: str) -> None:
                    body = {"chatId": chat, "text": text}
                    answer = await control.post(f"{waha}/__sandbox/default/inbound", json=body)
                    assert answer.status_code == 201, answer.text

                async def count_after(text: str, sub: Any = None) -> None:
                    await inbound(text)
                    deadline = time.monotonic() + 1.0
                    while time.monotonic() < deadline:
                        if sub is None:
                            await asyncio.sleep(0.02)
                            continue
                        with contextlib.suppress(TimeoutError):
                            updates.append((await asyncio.wait_for(sub.__anext__(), 0.1)).uri)

                if mode == "legacy":
                    for uri in uris:
                        await client.subscribe_resource(uri)
                    for n in range(50):  # until the server's /ws consumer hears the sandbox
                        await count_after(f"warm-up {n}")
                        if updates:
                            break
                    updates.clear()
                    await count_after("the one")
                else:
                    async with client.listen(resource_subscriptions=uris) as sub:
                        for n in range(50):
                            await count_after(f"warm-up {n}", sub)
                            if updates:
                                break
                        updates.clear()
                        await count_after("the one", sub)
    assert sorted(updates) == sorted(uris)
