"""Toolset `sandbox`: the control endpoints' actions as tools, in sandbox mode only."""

from __future__ import annotations

import httpx2
from mcp import Client

from tests.helpers import call, data, error, on_profiles
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server


@on_profiles()
async def test_pair_a_new_session_from_its_qr(mcp: Client, sandbox: Sandbox, profile: str) -> None:
    if profile == "core-2024.10":  # one session only: the seeded one is logged out to pair again
        data(await call(mcp, "waha_logout_session", {"session": "default"}))
        name = "default"
    else:
        data(await call(mcp, "waha_create_session", {"name": "fresh"}))
        name = "fresh"
    sandbox.sessions[name].starting_seconds = 0  # past STARTING at once
    early = error(await call(mcp, "waha_sandbox_pair", {"session": "business"}))
    assert "business" in early
    paired = data(await call(mcp, "waha_sandbox_pair", {"session": name, "phone": "12025550123"}))
    assert paired == {
        "session": name,
        "status": "WORKING",
        "me": "12025550123@c.us",
        "sandbox": "emulator only: nothing reached WhatsApp",
    }
    again = error(await call(mcp, "waha_sandbox_pair", {"session": name}))
    assert "WORKING, not SCAN_QR_CODE" in again


async def test_receive_a_message_then_read_it(mcp: Client) -> None:
    got = data(await call(mcp, "waha_sandbox_receive", {"chatId": "12025550999@c.us", "text": "hi from outside"}))
    assert got["session"] == "default" and got["messageId"].startswith("false_12025550999@c.us_")
    read = data(await call(mcp, "waha_get_messages", {"chatId": "12025550999@c.us", "limit": 1}))
    assert read["messages"][0]["text"] == "hi from outside"


async def test_force_a_state_and_see_the_advice_follow(mcp: Client) -> None:
    forced = data(await call(mcp, "waha_sandbox_set_state", {"state": "FAILED"}))
    assert forced["status"] == "FAILED"
    told = error(await call(mcp, "waha_send_message", {"chatId": "12025550999@c.us", "text": "x"}))
    assert "FAILED" in told and "waha_restart_session" in told
    assert "invalid arguments: state" in error(await call(mcp, "waha_sandbox_set_state", {"state": "GONE"}))


async def test_inject_a_fault_then_clear_it(mcp: Client) -> None:
    rules = data(
        await call(mcp, "waha_sandbox_fault", {"kind": "status", "status": 500, "route": "SessionsController_get"})
    )
    assert [r["kind"] for r in rules["faults"]] == ["status"]
    assert "500" in error(await call(mcp, "waha_get_session"))
    assert data(await call(mcp, "waha_sandbox_fault", {"kind": "clear"}))["faults"] == []
    assert data(await call(mcp, "waha_get_session"))["status"] == "WORKING"


async def test_without_the_sandbox_the_tools_are_not_listed_nor_callable() -> None:
    settings = load_settings(WAHA_BASE_URL="http://127.0.0.1:9", WAHA_TOOLSETS="all")
    server = build_server(settings, transport=httpx2.MockTransport(lambda r: httpx2.Response(500)))
    async with Client(server) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert not {name for name in listed if name.startswith("waha_sandbox_")}
        assert "exists only with --sandbox" in error(await client.call_tool("waha_sandbox_pair", {}))
