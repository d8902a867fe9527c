"""Problem 1 of issue 8: the WAHA version and tier are known, and a route an older WAHA lacks is blamed on the
version, never on the session."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error, on_profiles
from waha_mcp.client import WAHAClient
from waha_mcp.config import load_settings
from waha_mcp.doctor import run_doctor
from waha_mcp.sandbox import Sandbox, sandbox_transport

LABELS = {"current": ("2026.9.1", "PLUS"), "plus-2026.7": ("2026.7.1", "PLUS"), "core-2024.10": ("2024.10.8", "CORE")}


def a_message(sandbox: Sandbox) -> tuple[str, str]:
    world = sandbox.sessions["default"].world
    assert world is not None
    chat = next(c for c in world.chats.values() if c.messages and c.id.endswith("@c.us"))
    return chat.id, chat.messages[-1].id


@on_profiles()
async def test_server_info_shows_the_version_and_tier(mcp: Client, profile: str) -> None:
    info = data(await call(mcp, "waha_get_server_info"))
    assert (info["version"], info["tier"]) == LABELS[profile]


@on_profiles()
async def test_the_version_is_read_once_per_client(waha: WAHAClient, sandbox: Sandbox, profile: str) -> None:
    first = await waha.server_version()
    again = await waha.server_version()
    assert first is again and first is not None
    assert (first.version, first.tier) == LABELS[profile]
    assert [r.path for r in sandbox.requests].count("/api/server/version") == 1


@on_profiles("core-2024.10")
@pytest.mark.parametrize(
    ("tool", "args", "route"),
    [
        (
            "waha_get_message",
            {"messageId": "{message}", "chatId": "{chat}"},
            "GET /api/{session}/chats/{chatId}/messages/{messageId}",
        ),
        ("waha_mark_chat_read", {"chatId": "{chat}"}, "POST /api/{session}/chats/{chatId}/messages/read"),
        (
            "waha_pin_message",
            {"chatId": "{chat}", "messageId": "{message}", "duration": "24h"},
            "POST /api/{session}/chats/{chatId}/messages/{messageId}/pin",
        ),
        ("waha_get_chat_picture", {"chatId": "{chat}"}, "GET /api/{session}/chats/{chatId}/picture"),
    ],
)
async def test_a_route_this_waha_lacks_is_about_the_version_not_the_session(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, Any], route: str
) -> None:
    chat, message = a_message(sandbox)
    filled = {k: v.format(chat=chat, message=message) for k, v in args.items()}
    told = error(await call(mcp, tool, filled))
    assert f"this WAHA (2024.10.8 CORE) has no {route}; it needs a newer WAHA" in told
    assert "session 'default'" in told
    for wrong in ("waha_start_session", "waha_restart_session", "wait", "does not exist", "create it"):
        assert wrong not in told, told


@on_profiles("core-2024.10")
async def test_a_list_message_on_2024_10_is_not_passed_on_as_a_raw_404(mcp: Client, sandbox: Sandbox) -> None:
    chat, _ = a_message(sandbox)
    sections = [{"title": "Menu", "rows": [{"title": "Tea", "id": "tea"}]}]
    args = {"chatId": chat, "title": "Pick", "button": "Open", "sections": sections}
    told = error(await call(mcp, "waha_send_list", args))
    assert told == (
        "session 'default': this WAHA (2024.10.8 CORE) has no POST /api/sendList; it needs a newer WAHA "
        "(nothing is wrong with the session)"
    )


@on_profiles()
async def test_server_health_on_core_is_only_a_ping(mcp: Client, profile: str) -> None:
    health = data(await call(mcp, "waha_get_server_info", {"health": True}))["health"]
    assert health["status"] == ("reachable" if profile == "core-2024.10" else "ok")


@on_profiles()
async def test_get_chats_works_on_every_version(mcp: Client, sandbox: Sandbox, profile: str) -> None:
    world = sandbox.sessions["default"].world
    assert world is not None
    newest = max(world.chats.values(), key=lambda c: c.timestamp)
    page = data(await call(mcp, "waha_get_chats", {"limit": 3}))
    assert len(page["chats"]) == 3 and page["chats"][0]["id"] == newest.id
    again = data(await call(mcp, "waha_get_chats", {"limit": 3, "offset": 3}))
    assert again["chats"][0]["id"] not in {c["id"] for c in page["chats"]}
    paths = [r.path for r in sandbox.requests if r.path.startswith("/api/default/chats")]
    if profile == "core-2024.10":
        # Once told the overview is missing, the client goes straight to the plain list.
        assert paths == ["/api/default/chats/overview", "/api/default/chats", "/api/default/chats"]
    else:
        assert paths == ["/api/default/chats/overview"] * 2
    picked = data(await call(mcp, "waha_get_chats", {"ids": [newest.id]}))
    assert [c["id"] for c in picked["chats"]] == [newest.id]


@on_profiles()
async def test_doctor_says_whether_this_waha_checks_keys(capsys: pytest.CaptureFixture[str], profile: str) -> None:
    sandbox = Sandbox(api_key="doctor-key-4411", profile=profile, time_factor=0.01)
    settings = load_settings(WAHA_BASE_URL="http://127.0.0.1:3000", WAHA_API_KEY="doctor-key-4411")
    code = await run_doctor(settings, sandbox_transport(sandbox))
    out = capsys.readouterr().out
    label = " tier=".join(LABELS[profile])
    assert f"version    {label}" in out
    if profile == "core-2024.10":
        assert code == 0 and "does not check API keys (Core before 2026.6)" in out
        assert "accepted" not in out
    else:
        assert code == 0 and "ok   key        accepted" in out
