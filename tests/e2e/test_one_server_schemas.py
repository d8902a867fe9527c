"""`server` is listed only where it can choose: with one WAHA server no tool schema carries it (every schema byte is
paid on every turn), with several every server-wide tool does, as before. Over a real stdio process (both protocol
generations) and a real HTTP socket (narrowing headers included); a call that still passes `server` is checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.contract_plugin import ContractRecorder
from tests.e2e.servers import serving
from tests.e2e.test_http import TOKEN, http_settings
from tests.e2e.test_sandbox_mode import sandbox_env
from tests.e2e.test_stdio import EXE
from tests.fleet.conftest import fleet
from tests.helpers import data, error
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server
from waha_mcp.tools.registry import all_tools

# The server-wide tools: the registration says which take `server` (registry.FLEET_ARGUMENTS).
FLEET_TOOLS = {spec.name for spec in all_tools() if "server" in spec.fleet_arguments}


def _listed(tools: list[Any]) -> list[dict[str, Any]]:
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


def _compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _with_server(listed: list[dict[str, Any]]) -> set[str]:
    return {tool["name"] for tool in listed if "server" in tool["inputSchema"].get("properties", {})}


async def _stdio_listing(args: list[str], mode: str) -> list[dict[str, Any]]:
    params = StdioServerParameters(command=EXE, args=["--toolsets", "all", *args], env=sandbox_env())
    async with Client(params, mode=mode) as client:
        return _listed((await client.list_tools()).tools)


def test_the_server_wide_tools_are_known() -> None:
    assert len(FLEET_TOOLS) == 8 and {"waha_get_server_info", "waha_create_session", "waha_stop_server"} <= FLEET_TOOLS


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_one_server_lists_no_server_argument_and_a_fleet_lists_it_as_before(mode: str) -> None:
    single = await _stdio_listing(["--sandbox"], mode)
    several = await _stdio_listing(["--sandbox", "--sandbox-servers", "current,current"], mode)
    whole = _compact(several) - _compact(single)
    assert [tool["name"] for tool in single] == [tool["name"] for tool in several]
    assert _with_server(single) == set()
    assert _with_server(several) == FLEET_TOOLS
    # The same listing but for `server`: nothing else moved, and it costs what `server` weighed.
    removed = 0
    for tool in several:
        props = tool["inputSchema"].get("properties", {})
        if "server" in props:
            removed += _compact({"server": props.pop("server")}) - 2 + 1  # `"server":{…}` and its comma
    assert several == single
    # The figure docs/benchmarks.md records (bench/one_server_schemas.py), here bounded: about 80 bytes a tool.
    assert 50 * len(FLEET_TOOLS) <= whole == removed <= 120 * len(FLEET_TOOLS)


async def test_a_single_server_call_may_name_its_server_but_no_other() -> None:
    params = StdioServerParameters(command=EXE, args=["--sandbox"], env=sandbox_env())
    async with Client(params, mode="legacy") as client:
        named = data(await client.call_tool("waha_get_server_info", {"server": "waha"}))
        plain = data(await client.call_tool("waha_get_server_info", {}))
        assert named["version"] == plain["version"] and "servers" not in named
        wrong = error(await client.call_tool("waha_get_server_info", {"server": "b"}))
        one = "this MCP server has one WAHA server, 'waha'; leave `server` out"
        assert wrong == f"waha_get_server_info: unknown server 'b': {one}"
        created = error(await client.call_tool("waha_create_session", {"name": "elsewhere", "server": "a"}))
        assert "unknown server 'a'" in created
        listed = data(await client.call_tool("waha_list_sessions", {"all": True}))
        assert "elsewhere" not in {s["name"] for s in listed["sessions"]}  # nothing was created
        # A tool that has no `server` anywhere refuses it as any unknown argument.
        assert "unknown argument `server`" in error(await client.call_tool("waha_get_session", {"server": "waha"}))


@pytest.fixture
def single_url(sandbox: Sandbox) -> Iterator[str]:
    settings = http_settings(WAHA_MCP_AUTH_TOKEN=TOKEN, WAHA_TOOLSETS="all")
    with serving(build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)) as url:
        yield url + "/mcp"


def _client(url: str, **headers: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}", **headers}, timeout=30)
    return Client(streamable_http_client(url, http_client=http), mode="legacy")


HEADERS: list[dict[str, str]] = [{}, {"X-WAHA-Toolsets": "admin,server,sessions"}, {"X-WAHA-Read-Only": "true"}]


@pytest.mark.parametrize("headers", HEADERS, ids=["whole", "narrowed", "read-only"])
async def test_over_http_one_server_lists_no_server_argument_narrowed_or_not(
    single_url: str, headers: dict[str, str]
) -> None:
    async with _client(single_url, **headers) as client:
        listed = _listed((await client.list_tools()).tools)
        assert listed and _with_server(listed) == set()
        if headers:  # narrowed: still some tools that take `server` with several servers
            assert {tool["name"] for tool in listed} & FLEET_TOOLS


async def test_over_http_a_fleet_lists_server_narrowed_or_not(contract: ContractRecorder) -> None:
    layout = {"a": ("current", ("a1",)), "b": ("current", ("b1",))}
    async with fleet(contract, layout, WAHA_MCP_AUTH_TOKEN=TOKEN, WAHA_TOOLSETS="all") as (_, server):
        with serving(build_http_app(server, server.waha_settings)) as url:
            for headers in HEADERS:
                async with _client(url + "/mcp", **headers) as client:
                    listed = _listed((await client.list_tools()).tools)
                    names = {tool["name"] for tool in listed}
                    assert _with_server(listed) == FLEET_TOOLS & names and FLEET_TOOLS & names, headers
