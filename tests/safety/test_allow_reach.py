"""WAHA_MCP_ALLOW_CHATS against every way a write reaches a chat: the chat inside a message id (as WAHA reads it),
a bare number pattern, a status to all contacts, a group joined by invite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.ids import message_key
from waha_mcp.safety.allow import chat_allowed
from waha_mcp.safety.targets import message_chat
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World
from waha_mcp.server import build_server

ALLOWED = "12025550118@c.us"  # Isaac, who also has a LID (136125136196969@lid)
ISAAC_LID = "136125136196969@lid"
OUTSIDE = "12025550132"  # Farah


def world(sandbox: Sandbox) -> World:
    w = sandbox.sessions["default"].world
    assert w is not None
    return w


def book_club(sandbox: Sandbox) -> str:
    return next(g.id for g in world(sandbox).groups.values() if g.subject == "Book club")


@pytest.fixture
def settings(sandbox: Sandbox) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_ALLOW_CHATS=f"12025550118,{book_club(sandbox)}",
    )


@pytest.fixture
async def mcp(transport: httpx2.AsyncBaseTransport, settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, transport=transport)) as client:
        yield client


# How WAHA reads a serialized message id (src/core/utils/ids.ts, parseMessageIdSerialized): split on `_`, three
# or four parts, the chat is the second whatever the first says; a bare id names no chat.
@pytest.mark.parametrize(
    ("mid", "chat"),
    [
        ("true_331@c.us_3EB0AA", "331@c.us"),
        ("TRUE_331@c.us_3EB0AA", "331@c.us"),
        ("False_331@c.us_3EB0AA", "331@c.us"),
        ("x_331@c.us_3EB0AA", "331@c.us"),
        ("_331@c.us_3EB0AA", "331@c.us"),
        ("true_331@s.whatsapp.net_3EB0AA", "331@c.us"),
        ("false_120363000000000001@g.us_3EB0AA_4915100000001@c.us", "120363000000000001@g.us"),
        ("false_120363000000000001@g.us_3EB0AA_136125136196969@lid", "120363000000000001@g.us"),
        ("3EB0ABCDEF", None),
        ("true_3EB0ABCDEF", None),  # two parts: WAHA refuses it; no chat we could check
        ("true_331@c.us_AA_BB_CC", None),  # five parts: likewise
        ("true_331_3EB0AA", None),  # a chat without a server part
    ],
)
def test_the_chat_of_a_message_id(mid: str, chat: str | None) -> None:
    assert message_chat(mid) == chat


def test_message_key_parts() -> None:
    key = message_key("false_120363000000000001@g.us_3EB0AA_4915100000001@c.us")
    assert (key.from_me, key.chat, key.id, key.participant) == (
        False,
        "120363000000000001@g.us",
        "3EB0AA",
        "4915100000001@c.us",
    )
    assert message_key("3EB0AA").chat is None and message_key("3EB0AA").id == "3EB0AA"


@pytest.mark.parametrize(
    ("chat", "ok"),
    [
        ("12025550132@c.us", True),
        ("12025550132@s.whatsapp.net", True),
        ("12025550132@lid", False),
        ("12025550132@g.us", False),
        ("12025550132@newsletter", False),
        ("120255501320000@g.us", False),
    ],
)
def test_a_number_pattern_matches_phone_chats_only(chat: str, ok: bool) -> None:
    assert chat_allowed(chat, ["12025550132"]) is ok
    assert chat_allowed(chat, ["1202*"]) is ok
    assert chat_allowed(chat, ["*@g.us", "1202*"]) is (ok or chat.endswith("@g.us"))


async def test_message_ids_reach_only_allowed_chats(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    outside_ids = [
        "TRUE_12025550132@c.us_3EB0AA",
        "x_12025550132@c.us_3EB0AA",
        "false_12025550132@s.whatsapp.net_3EB0AA",
    ]
    for mid in outside_ids:
        reacted = error(await call(mcp, "waha_react_to_message", {"messageId": mid, "reaction": "👍"}))
        assert "12025550132@c.us not in WAHA_MCP_ALLOW_CHATS" in reacted, reacted
    # A bare id names no chat: whatever the rest of the call says, WAHA may find it anywhere.
    calls = [
        ("waha_react_to_message", {"messageId": "3EB0ABCDEF12", "reaction": "👍"}),
        ("waha_mark_seen", {"chatId": ALLOWED, "messageIds": ["3EB0ABCDEF12"]}),
        ("waha_send_message", {"chatId": ALLOWED, "text": "hi", "replyTo": "3EB0ABCDEF12"}),
        ("waha_forward_message", {"chatId": ALLOWED, "messageId": "3EB0ABCDEF12"}),
    ]
    for tool, args in calls:
        message = error(await call(mcp, tool, args))
        assert "names no chat" in message and "WAHA_MCP_ALLOW_CHATS" in message, (tool, message)
    forwarded = error(await call(mcp, "waha_forward_message", {"chatId": ALLOWED, "messageId": outside_ids[1]}))
    assert "12025550132@c.us not in" in forwarded
    assert len(sandbox.requests) == before


async def test_a_group_members_message_in_an_allowed_group_works(mcp: Client, sandbox: Sandbox) -> None:
    group = book_club(sandbox)
    mid = f"false_{group}_3EB0AA01_12025550126@c.us"
    out = data(await call(mcp, "waha_react_to_message", {"messageId": mid, "reaction": "👍"}))
    assert out["session"] == "default"
    assert any(r.path == "/api/reaction" for r in sandbox.requests)


async def test_a_lid_is_allowed_as_the_number_behind_it(mcp: Client, sandbox: Sandbox) -> None:
    sent = data(await call(mcp, "waha_send_message", {"chatId": ISAAC_LID, "text": "hi"}))
    assert sent["chatId"] == ISAAC_LID
    refused = error(await call(mcp, "waha_send_message", {"chatId": "175594773349967@lid", "text": "hi"}))
    assert "175594773349967@lid not in WAHA_MCP_ALLOW_CHATS" in refused  # Gabriel's LID: his number is not listed


async def test_a_status_needs_its_audience_named(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    everyone = error(await call(mcp, "waha_send_text_status", {"text": "hello"}))
    assert "all your contacts" in everyone and "WAHA_MCP_ALLOW_CHATS" in everyone, everyone
    others = error(await call(mcp, "waha_send_text_status", {"text": "hello", "contacts": [ALLOWED, OUTSIDE]}))
    assert "12025550132@c.us not in" in others
    assert len(sandbox.requests) == before
    posted = data(await call(mcp, "waha_send_text_status", {"text": "hello", "contacts": [ALLOWED]}))
    assert posted["session"] == "default"


async def test_joining_by_invite_checks_the_group(mcp: Client, sandbox: Sandbox) -> None:
    outside = next(iter(world(sandbox).outside.values()))
    refused = error(await call(mcp, "waha_join_group", {"code": outside.invite_code}))
    assert f"{outside.id} not in WAHA_MCP_ALLOW_CHATS" in refused, refused
    assert outside.id not in world(sandbox).groups
    assert not any(r.path.endswith("/groups/join") for r in sandbox.requests)


async def test_joining_an_allowed_group_by_invite_works(transport: httpx2.AsyncBaseTransport, sandbox: Sandbox) -> None:
    outside = next(iter(world(sandbox).outside.values()))
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all", WAHA_MCP_ALLOW_CHATS=outside.id
    )
    async with Client(build_server(settings, transport=transport)) as mcp:
        joined = data(await call(mcp, "waha_join_group", {"code": outside.invite_code}))
    assert joined["groupId"] == outside.id and outside.id in world(sandbox).groups
