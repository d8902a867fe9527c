"""Toolset `presence` end to end."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox


def a_group(sandbox: Sandbox) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return next(iter(world.groups))


async def test_online_is_account_wide_and_typing_needs_a_chat(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_set_presence", {"presence": "online"}))
    assert out == {"session": "default", "presence": "online"}
    # WAHA refuses a chatId with online, the document requires one: the empty string satisfies both.
    assert sandbox.requests[-1].json == {"chatId": "", "presence": "online"}
    out = data(await call(mcp, "waha_set_presence", {"presence": "typing", "chatId": "+1 202 555 0100"}))
    assert out == {"session": "default", "presence": "typing", "chatId": "12025550100@c.us"}
    # Typing goes through WAHA's typing routes, which every engine implements.
    typing = sandbox.requests[-1]
    assert (typing.method, typing.path) == ("POST", "/api/startTyping")
    assert typing.json == {"session": "default", "chatId": "12025550100@c.us"}
    data(await call(mcp, "waha_set_presence", {"presence": "paused", "chatId": "12025550100@c.us"}))
    assert sandbox.requests[-1].path == "/api/stopTyping"
    data(await call(mcp, "waha_set_presence", {"presence": "recording", "chatId": "12025550100@c.us"}))
    assert sandbox.requests[-1].json == {"chatId": "12025550100@c.us", "presence": "recording"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"presence": "typing"}, "give chatId"),
        ({"presence": "offline", "chatId": "123@c.us"}, "leave chatId out"),
        ({"presence": "recording", "chatId": "nope"}, "not a WhatsApp id"),
        ({"presence": "away"}, "presence"),
    ],
)
async def test_bad_presence_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, args: dict[str, Any], needle: str
) -> None:
    assert needle in error(await call(mcp, "waha_set_presence", args))
    assert sandbox.requests == []


async def test_get_one_subscribes_and_then_shows_in_all(mcp: Client, sandbox: Sandbox) -> None:
    assert data(await call(mcp, "waha_get_presence")) == {"session": "default", "chats": []}
    group = a_group(sandbox)
    one = data(await call(mcp, "waha_get_presence", {"chatId": group}))
    assert one["chatId"] == group and one["people"]
    for person in one["people"]:
        assert person["state"] in ("online", "offline")
        assert ("lastSeenTime" in person) == (person["state"] == "offline")
    data(await call(mcp, "waha_subscribe_presence", {"chatId": "12025550100"}))
    assert sandbox.requests[-1].path == "/api/default/presence/12025550100%40c.us/subscribe"
    every = data(await call(mcp, "waha_get_presence"))
    assert [c["chatId"] for c in every["chats"]] == [group, "12025550100@c.us"]
