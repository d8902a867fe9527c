"""Confirmation by elicitation over the real HTTP transport (a socket): stateless on 2026-07-28 (the answer comes
back in a new request with `request_state`), stateful on the older generation (elicitation/create mid-call)."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.servers import serving
from tests.helpers import data, error
from tests.safety.test_confirm import User, chat, deletes
from waha_mcp.config import load_settings
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server


@pytest.mark.parametrize(("mode", "stateless"), [("auto", True), ("legacy", False)])
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_elicitation_over_http(mode: str, stateless: bool, action: str, sandbox: Sandbox) -> None:
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_TOOLSETS="all", WAHA_MCP_STATELESS=stateless)
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    user = User(action)
    with serving(app) as url:
        http = httpx2.AsyncClient(timeout=30)
        transport = streamable_http_client(url + "/mcp", http_client=http)
        async with http, Client(transport, mode=mode, elicitation_callback=user) as client:
            result = await client.call_tool("waha_delete_chat", {"session": "default", "chatId": chat(sandbox)})
    assert len(user.asked) == 1 and user.asked[0].startswith("Confirm waha_delete_chat for session default")
    if action == "accept":
        assert data(result)["session"] == "default" and len(deletes(sandbox)) == 1
    else:
        assert "the user did not confirm" in error(result) and deletes(sandbox) == []


def sent(sandbox: Sandbox) -> list[str]:
    return sorted(r.json["session"] for r in sandbox.requests if r.path == "/api/sendText")


BULK_SEND = {
    "tool": "waha_send_message",
    "arguments": {"chatId": "4915112345678@c.us", "text": "hello from both"},
    "sessions": ["default", "business"],
}


@pytest.mark.parametrize(("mode", "stateless"), [("auto", True), ("legacy", False)])
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_elicitation_inside_a_bulk_call_over_http(
    mode: str, stateless: bool, action: str, sandbox: Sandbox
) -> None:
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_TOOLSETS="all", WAHA_MCP_STATELESS=stateless, WAHA_MCP_BULK_CONFIRM_OVER=1
    )
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    user = User(action)
    with serving(app) as url:
        http = httpx2.AsyncClient(timeout=30)
        transport = streamable_http_client(url + "/mcp", http_client=http)
        async with http, Client(transport, mode=mode, elicitation_callback=user) as client:
            result = await client.call_tool("waha_for_sessions", BULK_SEND)
    assert user.asked == ["Confirm waha_send_message for 2 sessions (default, business)?"]
    if action == "accept":
        out = data(result)
        assert out["counts"] == {"ok": 2} and sent(sandbox) == ["business", "default"]
    else:
        assert "the user did not confirm" in error(result) and sent(sandbox) == []


async def test_bulk_keeps_to_what_the_connection_narrowed_to(sandbox: Sandbox) -> None:
    """X-WAHA-Toolsets / X-WAHA-Read-Only bind the inner tool too: bulk is no way around them."""
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_TOOLSETS="all")
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)

    def connect(url: str, **headers: str) -> Client:
        http = httpx2.AsyncClient(headers=headers, timeout=30)
        return Client(streamable_http_client(url + "/mcp", http_client=http), mode="legacy")

    with serving(app) as url:
        async with connect(url, **{"X-WAHA-Toolsets": "chats,bulk"}) as client:
            refused = await client.call_tool("waha_for_sessions", BULK_SEND | {"confirm": True})
            assert "waha_send_message is not enabled for this connection" in error(refused)
            reads = data(
                await client.call_tool("waha_for_sessions", {"tool": "waha_get_chats", "sessions": ["default"]})
            )
            assert reads["counts"] == {"ok": 1}  # a tool of a toolset it asked for still runs
        async with connect(url, **{"X-WAHA-Read-Only": "true"}) as client:
            refused = await client.call_tool("waha_for_sessions", BULK_SEND | {"confirm": True})
            assert "waha_send_message writes, and this connection is read-only" in error(refused)
        async with connect(url, **{"X-WAHA-Toolsets": "all"}) as client:  # narrowing to everything narrows nothing
            assert data(await client.call_tool("waha_for_sessions", BULK_SEND | {"confirm": True}))["counts"] == {
                "ok": 2
            }
    assert sent(sandbox) == ["business", "default"]  # only the last call sent anything
