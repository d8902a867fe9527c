"""A confirmation asked by one replica is answered through another (2026-07-28: the question rides an
`InputRequiredResult`, the client's retry carries the sealed `requestState`): the replicas share
WAHA_MCP_STATE_KEY. Without it, stateless HTTP on a PostgreSQL store refuses to start."""

from __future__ import annotations

import json

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.e2e.servers import serving
from tests.helpers import data
from tests.safety.test_confirm import User, chat, deletes
from waha_mcp.config import ConfigError, load_settings
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server

KEY = "state-key-shared-by-every-replica-0123456789"


class Spread(httpx2.AsyncBaseTransport):
    """A balancer: each `tools/call` goes to the next replica in turn (the retry lands on the other one)."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.calls = 0
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        replica = self.urls[0]
        if request.method == "POST" and json.loads(body or b"{}").get("method") == "tools/call":
            replica = self.urls[self.calls % len(self.urls)]
            self.calls += 1
        target = httpx2.URL(replica).join(request.url.path)
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in ("host", "content-length")]
        forwarded = httpx2.Request(request.method, target, headers=headers, content=body)
        return await self.inner.handle_async_request(forwarded)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("shared", [True, False])
async def test_a_confirmation_asked_on_one_replica_is_answered_on_another(shared: bool, sandbox: Sandbox) -> None:
    def replica(key: str | None) -> object:
        settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_TOOLSETS="all", WAHA_MCP_STATELESS=True,
                                 **({"WAHA_MCP_STATE_KEY": key} if key else {}))  # fmt: skip
        return build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)

    user = User("accept")
    with serving(replica(KEY if shared else None)) as a, serving(replica(KEY if shared else None)) as b:
        spread = Spread([a, b])
        http = httpx2.AsyncClient(timeout=30, transport=spread)
        transport = streamable_http_client("http://balancer/mcp", http_client=http)
        async with http, Client(transport, mode="auto", elicitation_callback=user) as client:
            arguments = {"session": "default", "chatId": chat(sandbox)}
            if shared:
                result = await client.call_tool("waha_delete_chat", arguments)
            else:  # each replica's own key: the other cannot open the answer
                with pytest.raises(MCPError, match="requestState"):
                    await client.call_tool("waha_delete_chat", arguments)
    assert spread.calls == 2 and len(user.asked) == 1  # asked by one replica, answered to the other
    if shared:
        assert data(result)["session"] == "default" and len(deletes(sandbox)) == 1
    else:
        assert deletes(sandbox) == []


def test_stateless_replicas_on_postgresql_need_the_shared_key() -> None:
    dsn = "postgresql://waha:pw@127.0.0.1:1/db"
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_MCP_STATELESS=True, WAHA_MCP_STORE=dsn)
    with pytest.raises(ConfigError, match="needs WAHA_MCP_STATE_KEY") as refused:
        build_http_app(build_server(settings), settings)
    assert "pw" not in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(Exception, match="at least 32"):
        load_settings(WAHA_MCP_STATE_KEY="short")
