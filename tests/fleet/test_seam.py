"""The seam a fleet builds on: stand-in transports by server name, and a plain client per named server."""

from __future__ import annotations

import pytest

from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server

KEY = "fleet-key-0123456789abcdef"


async def test_each_named_server_gets_its_own_url_key_and_stand_in() -> None:
    settings = load_settings(WAHA_SERVERS="a=http://10.0.0.5:3000,b=http://u:pw@10.0.0.6:3000", WAHA_API_KEY=KEY)
    a = sandbox_transport(Sandbox(api_key=KEY))
    server = build_server(settings, transports={"a": a})
    assert server.server_names == ("a", "b")
    assert server.waha_transports == {"a": a} and server.waha_transport is None
    assert not server.waha_reachable  # a stand-in: no /ws to stream from
    first, second = server.new_client("a"), server.new_client("b")
    assert (first.base_url, first.transport) == ("http://10.0.0.5:3000", a)
    assert (second.base_url, second.transport) == ("http://10.0.0.6:3000", None)
    assert "pw" not in second.base_url
    # The stand-in answers for server `a`: its sandbox's sessions.
    assert [s["name"] for s in await first.list_sessions(all=True)] == ["default", "business"]
    await first.aclose()
    await second.aclose()


def test_with_several_servers_a_client_needs_a_name() -> None:
    server = build_server(load_settings(WAHA_SERVERS="a=http://x:1,b=http://y:2"))
    with pytest.raises(ValueError, match="name one of the servers a, b"):
        server.new_client()
    with pytest.raises(ValueError, match="no WAHA server 'c'; servers: a, b"):
        server.new_client("c")


def test_transport_alone_stands_in_for_the_only_server() -> None:
    transport = sandbox_transport(Sandbox())
    server = build_server(load_settings(WAHA_BASE_URL="http://localhost:3000"), transport=transport)
    assert server.waha_transports == {"waha": transport} and server.waha_transport is transport
    assert server.new_client().transport is transport
    sandboxed = build_server(load_settings(WAHA_MCP_SANDBOX=True), transport=transport)
    assert sandboxed.server_names == ("waha",) and sandboxed.new_client().base_url == "http://sandbox"
    with pytest.raises(ValueError, match="pass transports= by name"):
        build_server(load_settings(WAHA_SERVERS="a=http://x:1,b=http://y:2"), transport=transport)
    with pytest.raises(ValueError, match="transports for unknown servers c"):
        build_server(load_settings(WAHA_SERVERS="a=http://x:1"), transports={"c": transport})


def test_no_stand_in_means_waha_over_the_network() -> None:
    server = build_server(load_settings(WAHA_BASE_URL="http://localhost:3000"))
    assert server.waha_reachable and server.waha_transports == {} and server.waha_transport is None
