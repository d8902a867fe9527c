"""A narrowing header sent more than once (issue 18, item 11): the strictest value wins, over a real socket.

`X-WAHA-Read-Only` repeated is read-only if any line says so; `X-WAHA-Toolsets` repeated is the intersection of
the lines. A client (or a proxy adding its own line) can never widen what another line narrowed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.servers import serving
from tests.e2e.test_http import TOKEN, http_settings
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server


@pytest.fixture
def mcp_url(sandbox: Sandbox) -> Iterator[str]:
    settings = http_settings(WAHA_MCP_AUTH_TOKEN=TOKEN)
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    with serving(app) as url:
        yield url + "/mcp"


def _client(mcp_url: str, headers: list[tuple[str, str]]) -> Client:
    # A list keeps both lines of a repeated header (a dict could not hold them).
    http = httpx2.AsyncClient(headers=[("Authorization", f"Bearer {TOKEN}"), *headers], timeout=30)
    return Client(streamable_http_client(mcp_url, http_client=http), mode="legacy")


@pytest.mark.parametrize("lines", [("false", "true"), ("true", "false"), ("0", "1")])
async def test_a_repeated_read_only_header_is_read_only_if_any_line_says_so(
    mcp_url: str, sandbox: Sandbox, lines: tuple[str, str]
) -> None:
    async with _client(mcp_url, [("X-WAHA-Read-Only", value) for value in lines]) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools and "waha_send_message" not in tools
        before = len(sandbox.requests)
        sent = await client.call_tool("waha_send_message", {"chatId": "123456789", "text": "hi"})
        assert sent.is_error and "writes, and this connection is read-only" in sent.content[0].text
        assert len(sandbox.requests) == before  # nothing reached WAHA


async def test_a_bad_line_among_read_only_lines_is_refused(mcp_url: str) -> None:
    async with _client(mcp_url, [("X-WAHA-Read-Only", "false"), ("X-WAHA-Read-Only", "maybe")]) as client:
        with pytest.raises(Exception, match="x-waha-read-only must be true or false"):
            await client.list_tools()


async def test_repeated_toolsets_lines_give_their_intersection(mcp_url: str) -> None:
    lines = [("X-WAHA-Toolsets", "chats,sessions"), ("X-WAHA-Toolsets", "chats,messages")]
    async with _client(mcp_url, lines) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "waha_get_chats" in names
        assert "waha_get_session" not in names and "waha_send_message" not in names
        refused = await client.call_tool("waha_get_session", {})
        assert refused.is_error and "not enabled for this connection" in refused.content[0].text


async def test_all_on_one_line_does_not_widen_another(mcp_url: str) -> None:
    async with _client(mcp_url, [("X-WAHA-Toolsets", "all"), ("X-WAHA-Toolsets", "chats")]) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "waha_get_chats" in names and "waha_get_session" not in names
