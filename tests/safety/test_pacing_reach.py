"""What pacing reaches: every action other people see (or that changes a group) is paced, or exempt for a
stated reason; reactions share the send budget and leaving a group shares the group-change budget."""

from __future__ import annotations

from pathlib import Path

import httpx2
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server
from waha_mcp.tools.registry import Effect, all_tools

# VISIBLE tools that are deliberately not paced, each with why.
EXEMPT = {
    # Read receipts only answer what others sent to this account: they reach nobody new, and in the send
    # bucket they would spend the send budget and hold back the replies that follow them.
    "waha_mark_seen": "read receipt",
    "waha_mark_chat_read": "read receipt",
    # Online/typing state is ephemeral and usually set right before a send, which is paced itself.
    "waha_set_presence": "presence",
    # Answers a call someone else placed; waiting would leave it ringing.
    "waha_reject_call": "answers an incoming call",
    # Blocking stops contact with one person; holding it back would only keep an unwanted sender writing.
    "waha_block_contact": "stops contact",
    # The account's own profile: addressed to no chat, so nothing to space per chat or per contact.
    "waha_set_my_profile_name": "own profile",
    "waha_set_my_profile_picture": "own profile",
    "waha_set_my_profile_status": "own profile",
    # Runs other tools, each of which goes through pacing for its own session.
    "waha_for_sessions": "paced per inner call",
}
# Destructive tools others see as a group change (the members are told).
GROUP_CHANGES = {
    "waha_leave_group",
    "waha_remove_group_participants",
    "waha_delete_group",
    "waha_revoke_group_invite",
}


def test_every_visible_tool_is_paced_or_exempt_for_a_reason() -> None:
    visible = {spec.name: spec for spec in all_tools() if spec.effect is Effect.VISIBLE}
    unpaced = {name for name, spec in visible.items() if spec.pacing is None}
    assert unpaced == set(EXEMPT)  # a new visible tool needs a pacing class, or a line above saying why not
    for name in ("waha_react_to_message", "waha_edit_message", "waha_pin_message", "waha_unpin_message"):
        assert visible[name].pacing == "send", name
    assert visible["waha_create_channel"].pacing == "group"
    by_name = {spec.name: spec for spec in all_tools()}
    for name in GROUP_CHANGES:
        assert by_name[name].effect is Effect.DESTRUCTIVE and by_name[name].pacing == "group", name


def strict(tmp_path: Path) -> Settings:
    """One slot a minute for sends and for group changes; a wait over 5 s is refused at once."""
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_MCP_STORE=str(tmp_path / "store.sqlite3"),
        WAHA_MCP_PACING="cap=1,burst=1,perMinute=1,groupPerMinute=1,jitter=0,maxWait=5",
        WAHA_TOOLSETS="messages,groups",
    )
    return settings


async def test_a_reaction_spends_the_send_budget(
    tmp_path: Path, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    async with Client(build_server(strict(tmp_path), transport=transport)) as mcp:
        sent = data(await call(mcp, "waha_send_message", {"chatId": "4915112345678@c.us", "text": "hi"}))
        before = len(sandbox.requests)
        refused = error(await call(mcp, "waha_react_to_message", {"messageId": sent["messageId"], "reaction": "👍"}))
    assert "anti-ban pacing (WAHA_MCP_PACING) would hold this send" in refused and "nothing was sent" in refused
    assert len(sandbox.requests) == before


async def test_leaving_a_group_is_a_paced_group_change(
    tmp_path: Path, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    world = sandbox.sessions["default"].world
    assert world is not None
    group = next(iter(world.groups.values()))
    async with Client(build_server(strict(tmp_path), transport=transport)) as mcp:
        data(await call(mcp, "waha_set_group_info", {"groupId": group.id, "name": "Renamed"}))
        before = len(sandbox.requests)
        args = {"session": "default", "groupId": group.id, "confirm": True}
        refused = error(await call(mcp, "waha_leave_group", args))
    assert "would hold this group" in refused and len(sandbox.requests) == before
    assert group.id in world.groups  # still a member
