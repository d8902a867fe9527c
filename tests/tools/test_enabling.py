"""A tool this server or connection does not expose: the refusal names its toolset and how to turn it on
(in-process, over real HTTP and inside `waha_for_sessions`); read-only mode keeps bulk reads."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.servers import serving
from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server


def settings(**env: str) -> Settings:
    return load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", **env)


@pytest.fixture
async def default_set(transport: httpx2.AsyncBaseTransport) -> AsyncIterator[Client]:
    async with Client(build_server(settings(), transport=transport)) as client:
        yield client


async def test_a_tool_off_by_default_says_how_to_enable_it(default_set: Client) -> None:
    message = error(await call(default_set, "waha_get_audit_log"))
    assert "unknown tool" not in message
    assert "waha_get_audit_log is in the toolset `audit`, which this server does not expose" in message
    assert "WAHA_TOOLSETS" in message and "WAHA_TOOLS" in message and "--toolsets" in message
    # A tool that does not exist anywhere is still unknown.
    assert error(await call(default_set, "waha_no_such_tool")) == "unknown tool 'waha_no_such_tool': see tools/list"
    # A misspelt name gets the closest one, as inside waha_for_sessions (one visibility check for both).
    assert (
        error(await call(default_set, "waha_send_mesage"))
        == "unknown tool 'waha_send_mesage': did you mean waha_send_message?"
    )


async def test_the_hint_adds_to_the_toolsets_already_chosen(transport: httpx2.AsyncBaseTransport) -> None:
    async with Client(build_server(settings(WAHA_TOOLSETS="chats,messages"), transport=transport)) as client:
        message = error(await call(client, "waha_get_audit_log"))
    assert "WAHA_TOOLSETS=chats,messages,audit" in message


async def test_read_only_and_sandbox_only_tools_say_why(transport: httpx2.AsyncBaseTransport) -> None:
    async with Client(build_server(settings(WAHA_TOOLSETS="all", WAHA_READ_ONLY="true"), transport=transport)) as c:
        message = error(await call(c, "waha_send_message", {"chatId": "1@c.us", "text": "x"}))
        assert message == "waha_send_message writes, and this server is read-only (WAHA_READ_ONLY)"
        assert "only with --sandbox" in error(await call(c, "waha_sandbox_pair"))


async def test_inside_a_bulk_call(transport: httpx2.AsyncBaseTransport) -> None:
    async with Client(build_server(settings(WAHA_TOOLSETS="bulk"), transport=transport)) as client:
        message = error(await call(client, "waha_for_sessions", {"tool": "waha_get_audit_log"}))
    assert "waha_get_audit_log is in the toolset `audit`" in message and "WAHA_TOOLSETS=bulk,audit" in message


async def test_over_http_the_connection_header_is_named(sandbox: Sandbox) -> None:
    server_settings = settings(WAHA_TOOLSETS="chats,bulk")
    app = build_http_app(build_server(server_settings, transport=sandbox_transport(sandbox)), server_settings)
    with serving(app) as url:
        http = httpx2.AsyncClient(headers={"X-WAHA-Toolsets": "bulk"}, timeout=30)
        async with http, Client(streamable_http_client(url + "/mcp", http_client=http), mode="legacy") as client:
            narrowed = error(await call(client, "waha_get_chats"))
            assert "toolset `chats`" in narrowed and "X-WAHA-Toolsets" in narrowed
            inner = error(await call(client, "waha_for_sessions", {"tool": "waha_get_chats"}))
            assert "toolset `chats`" in inner and "X-WAHA-Toolsets" in inner
            server_wide = error(await call(client, "waha_get_audit_log"))
            assert "toolset `audit`, which this server does not expose" in server_wide


async def test_read_only_mode_keeps_bulk_reads(transport: httpx2.AsyncBaseTransport, sandbox: Sandbox) -> None:
    async with Client(build_server(settings(WAHA_TOOLSETS="all", WAHA_READ_ONLY="true"), transport=transport)) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert "waha_for_sessions" in names and "waha_send_message" not in names
        out = data(await call(c, "waha_for_sessions", {"tool": "waha_get_chats", "sessions": ["default", "business"]}))
        assert out["counts"] == {"ok": 2}
        args = {"tool": "waha_send_message", "arguments": {"chatId": "1@c.us", "text": "x"}, "confirm": True}
        assert "read-only" in error(await call(c, "waha_for_sessions", args))
    assert not [r for r in sandbox.requests if r.path == "/api/sendText"]
