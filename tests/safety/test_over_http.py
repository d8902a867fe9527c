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
