"""Calls reach the server holding their session, whatever the toolset: three sandboxes on real sockets."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.contract_plugin import ContractRecorder
from tests.fleet.conftest import fleet, holding
from tests.helpers import call, data, error

LAYOUT = {
    "a": ("current", ("ann", "bob")),
    "b": ("current", ("cat",)),
    "c": ("core-2024.10", ()),  # Core 2024.10 holds its one session, `default`
}
# One call per toolset, each for a session (the tool's required arguments given).
CALLS = [
    ("waha_get_session", {}),
    ("waha_get_chats", {"limit": 2}),
    ("waha_send_message", {"chatId": "14155550123", "text": "hi"}),
    ("waha_get_contacts", {"limit": 2}),
    ("waha_get_groups", {}),
    ("waha_get_my_profile", {}),
    ("waha_set_presence", {"presence": "online"}),
    ("waha_check_number", {"phone": "14155550123"}),
]


@pytest.mark.parametrize(("tool", "arguments"), CALLS, ids=[c[0] for c in CALLS])
async def test_each_call_reaches_the_server_holding_its_session(
    contract: ContractRecorder, tool: str, arguments: dict[str, object]
) -> None:
    async with fleet(contract, LAYOUT, WAHA_TOOLSETS="all") as (members, server), Client(server) as mcp:
        for session, holder in (("ann", "a"), ("cat", "b"), ("default", "c")):
            result = await call(mcp, tool, {"session": session, **arguments})
            if result.is_error:  # Core 2024.10 lacks some routes: refused on *its* server, which the message names
                assert holder == "c" and "server 'c'" in error(result), error(result)
            else:
                assert data(result)["session"] == session
            assert members[holder].requests_for(session), f"{tool} for {session} never reached server {holder}"
            for other in members.values():
                if other.name != holder:
                    assert not other.requests_for(session), f"{tool} for {session} reached server {other.name}"


async def test_a_session_that_moved_is_found_on_its_new_server_and_the_call_sent_once(
    contract: ContractRecorder,
) -> None:
    async with fleet(contract, LAYOUT) as (members, server), Client(server) as mcp:
        assert data(await call(mcp, "waha_get_session", {"session": "bob"}))["session"] == "bob"
        # The operator moves `bob` from a to b (WAHA has no move: it is removed on one, created on the other).
        holding(members["a"].sandbox, "ann")
        holding(members["b"].sandbox, "cat", "bob")
        a_before = len(members["a"].requests_for("bob"))
        sent = data(await call(mcp, "waha_send_message", {"session": "bob", "chatId": "14155550123", "text": "hi"}))
        assert sent["session"] == "bob"
        sends_a = [r for r in members["a"].requests_for("bob")[a_before:] if r.path == "/api/sendText"]
        sends_b = [r for r in members["b"].requests_for("bob") if r.path == "/api/sendText"]
        assert len(sends_a) == 1 and len(sends_b) == 1  # a said 404 (nothing done), b sent it: once
        # The directory learnt the move: the next call goes straight to b.
        a_now = len(members["a"].requests_for("bob"))
        data(await call(mcp, "waha_get_session", {"session": "bob"}))
        assert len(members["a"].requests_for("bob")) == a_now


async def test_a_name_on_two_servers_is_refused_naming_both_and_nothing_is_sent(contract: ContractRecorder) -> None:
    layout = {"a": ("current", ("ann", "twin")), "b": ("current", ("cat", "twin"))}
    async with fleet(contract, layout) as (members, server), Client(server) as mcp:
        message = error(await call(mcp, "waha_send_message", {"session": "twin", "chatId": "1415555", "text": "x"}))
        assert "session 'twin' exists on servers 'a' and 'b'" in message and "nothing was sent" in message
        assert not [r for m in members.values() for r in m.requests_for("twin") if r.path != "/api/sessions"]
        # Everything else keeps working.
        assert data(await call(mcp, "waha_get_session", {"session": "cat"}))["session"] == "cat"


async def test_an_unknown_session_is_refused_unsent_naming_the_servers(contract: ContractRecorder) -> None:
    async with fleet(contract, LAYOUT) as (members, server), Client(server) as mcp:
        message = error(await call(mcp, "waha_get_session", {"session": "nobody"}))
        assert "session 'nobody' is on none of the servers (a, b, c)" in message
        assert "existing: " in message and "ann (WORKING)" in message and "default (WORKING)" in message
        assert not any(m.requests_for("nobody") for m in members.values())
