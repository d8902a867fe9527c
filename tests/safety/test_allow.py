"""Allow-lists: a write outside WAHA_MCP_ALLOW_SESSIONS / _CHATS is refused with the reason, before any request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.safety.allow import allowed, chat_allowed
from waha_mcp.safety.targets import message_chat
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server

SENDS = "/api/sendText"


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_ALLOW_SESSIONS="default,team-*",
        WAHA_MCP_ALLOW_CHATS="4915*,*@g.us",
    )


@pytest.fixture
async def mcp(transport: httpx2.AsyncBaseTransport, settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, transport=transport)) as client:
        yield client


def sent(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.requests if r.method == "POST"]


def test_patterns() -> None:
    assert chat_allowed("491511@c.us", ["4915*"])
    assert allowed("team-a", ["default", "team-*"])
    assert not allowed("other", ["default", "team-*"])
    assert chat_allowed("1203@g.us", ["*@g.us"])
    assert not chat_allowed("1203@g.us", ["1203@c.us"])
    assert message_chat("true_491511@c.us_3EB0AB") == "491511@c.us"
    assert message_chat("3EB0ABCDEF") is None


async def test_refused_chat_sends_nothing(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    message = error(await call(mcp, "waha_send_message", {"chatId": "3312345678@c.us", "text": "hi"}))
    assert "3312345678@c.us not in WAHA_MCP_ALLOW_CHATS (4915*, *@g.us)" in message
    assert "session default" in message and "nothing was sent" in message
    assert len(sandbox.requests) == before  # not even a lookup


async def test_allowed_chat_is_sent(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_send_message", {"chatId": "4915112345678", "text": "hi"}))
    assert out["session"] == "default" and out["chatId"] == "4915112345678@c.us"
    assert SENDS in sent(sandbox)


async def test_refused_session(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    message = error(
        await call(mcp, "waha_send_message", {"session": "business", "chatId": "4915112345678", "text": "hi"})
    )
    assert "session 'business' is not in WAHA_MCP_ALLOW_SESSIONS (default, team-*)" in message
    assert len(sandbox.requests) == before


async def test_chat_inside_a_message_id_and_lists(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    reacted = await call(mcp, "waha_react_to_message", {"messageId": "true_3312345678@c.us_3EB0AA", "reaction": "👍"})
    assert "3312345678@c.us not in WAHA_MCP_ALLOW_CHATS" in error(reacted)
    group = await call(
        mcp, "waha_create_group", {"name": "x", "participants": ["4915100000001", "3300000000002", "3300000000003"]}
    )
    assert "3300000000002@c.us, 3300000000003@c.us not in" in error(group)
    assert len(sandbox.requests) == before


async def test_server_wide_writes_refused_when_sessions_are_limited(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    made = error(await call(mcp, "waha_create_session", {"name": "stranger"}))
    assert "session 'stranger' is not in WAHA_MCP_ALLOW_SESSIONS" in made
    stop = error(await call(mcp, "waha_stop_server", {}))
    assert "acts on the whole WAHA server" in stop
    assert len(sandbox.requests) == before


async def test_reads_are_not_limited(mcp: Client) -> None:
    assert data(await call(mcp, "waha_get_chats", {"session": "business", "limit": 1}))["session"] == "business"


async def test_a_session_made_by_its_session_argument_is_checked_too(mcp: Client, sandbox: Sandbox) -> None:
    """waha_create_session takes the new name as `name` or as `session`: the allow-list applies to either."""
    before = len(sandbox.requests)
    made = error(await call(mcp, "waha_create_session", {"session": "stranger"}))
    assert "session 'stranger' is not in WAHA_MCP_ALLOW_SESSIONS" in made
    unnamed = error(await call(mcp, "waha_create_session", {}))  # WAHA would make up a name
    assert "names no session" in unnamed and "give `name`" in unnamed
    assert len(sandbox.requests) == before
    assert data(await call(mcp, "waha_create_session", {"session": "team-a", "start": False}))["session"] == "team-a"


def bulk_rows(result: dict) -> dict[str, dict]:
    return {row["session"]: row for row in result["rows"]}


# (tool, arguments, what the refusal says): writes the guards refuse for reasons beyond the session's name.
REFUSED_IN_BULK = [
    ("waha_react_to_message", {"messageId": "3EB0ABCDEF12", "reaction": "👍"}, "names no chat"),
    ("waha_send_text_status", {"text": "hello"}, "all your contacts"),
    ("waha_stop_server", {}, "acts on the whole WAHA server"),
]


@pytest.mark.parametrize(("tool", "arguments", "why"), REFUSED_IN_BULK, ids=[case[0] for case in REFUSED_IN_BULK])
async def test_a_bulk_dry_run_says_what_the_run_would_hear(
    mcp: Client, sandbox: Sandbox, tool: str, arguments: dict, why: str
) -> None:
    """The dry run asks the guards' own allow-list check, so it never promises a run the guards refuse."""
    before = len([r for r in sandbox.requests if r.method == "POST"])
    asked = {"tool": tool, "arguments": arguments, "sessions": ["default"], "confirm": True}
    dry = bulk_rows(data(await call(mcp, "waha_for_sessions", asked | {"dryRun": True})))["default"]
    assert dry["status"] == "skipped" and why in dry["why"], dry
    real = bulk_rows(data(await call(mcp, "waha_for_sessions", asked)))["default"]
    assert real["status"] == "error" and why in real["error"], real
    assert len([r for r in sandbox.requests if r.method == "POST"]) == before


async def test_a_bulk_dry_run_checks_the_arguments_as_the_run_reads_them(mcp: Client, sandbox: Sandbox) -> None:
    """A number written as people write it is the phone chat the run sends to (4915* allows it)."""
    asked = {"tool": "waha_send_message", "arguments": {"chatId": "+49 151 1234 5678", "text": "hi"}}
    asked |= {"sessions": ["default"]}
    dry = bulk_rows(data(await call(mcp, "waha_for_sessions", asked | {"dryRun": True})))["default"]
    assert dry == {"session": "default", "status": "would run"}
    assert SENDS not in sent(sandbox)
    real = bulk_rows(data(await call(mcp, "waha_for_sessions", asked)))["default"]
    assert real["status"] == "ok" and real["result"]["chatId"] == "4915112345678@c.us"
