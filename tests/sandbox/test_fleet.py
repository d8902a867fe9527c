"""The sandbox playing a fleet (`--sandbox-servers`): the entries it reads, the names its sessions take (distinct
across the fleet), each emulator's own profile and latency over a real socket."""

from __future__ import annotations

import time

import httpx2
import pytest

from tests.e2e.servers import sandbox_on_socket
from waha_mcp.sandbox.eventlog import EventLog
from waha_mcp.sandbox.fleet import build_fleet, session_names
from waha_mcp.servers import SandboxEntry, ServersError, parse_sandbox_servers


def test_entries_are_named_a_b_c_unless_named_with_their_profile_and_latency() -> None:
    assert parse_sandbox_servers(" current , current:50ms,x=core-2024.10:0.2s,plus-2026.7") == (
        SandboxEntry("a", "current", 0.0),
        SandboxEntry("b", "current", 0.05),
        SandboxEntry("x", "core-2024.10", 0.2),
        SandboxEntry("d", "plus-2026.7", 0.0),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("current,foo", "entry 2 ('b'): unknown profile 'foo'; one of current, plus-2026.7, core-2024.10"),
        ("current:50", "entry 1 ('a'): latency is a duration such as 50ms or 0.2s, not '50'"),
        ("current:20s", "entry 1 ('a'): latency 20s is over 10s"),
        ("b=current,current", "servers 'b' and 'b': each needs a name of its own"),
        ("a b=current", "entry 1: server names use 1-32 letters, digits, '_' or '-'"),
        (" , ", "no servers listed"),
    ],
)
def test_a_bad_entry_is_one_line_naming_it(value: str, message: str) -> None:
    with pytest.raises(ServersError) as caught:
        parse_sandbox_servers(value)
    assert str(caught.value) == message


def test_session_names_are_distinct_and_default_is_somewhere() -> None:
    entries = parse_sandbox_servers("current,current,core-2024.10")
    # Core 2024.10 can hold only `default`: it holds it, and the others name theirs after themselves.
    assert session_names(entries, 2) == [("a1", "a2"), ("b1", "b2"), ("default",)]
    fleet = build_fleet(entries, sessions=2)
    assert [list(sb.sessions) for sb in fleet.values()] == [["a1", "a2"], ["b1", "b2"], ["default"]]
    # No Core entry: the first keeps the one-server sandbox's names.
    fleet = build_fleet(parse_sandbox_servers("current,current"), sessions=3)
    assert [list(sb.sessions) for sb in fleet.values()] == [["default", "business", "sandbox3"], ["b1", "b2", "b3"]]
    # Seeded apart: each server's accounts are their own.
    a, b = ({s.me["id"] for s in sb.sessions.values() if s.me} for sb in fleet.values())
    assert a and b and not a & b


async def test_each_emulator_answers_with_its_own_profile_and_latency() -> None:
    fleet = build_fleet(parse_sandbox_servers("current:120ms,core-2024.10"), api_key="fleet-key-0123456789")
    async with sandbox_on_socket(fleet["a"]) as a, sandbox_on_socket(fleet["b"]) as b:
        async with httpx2.AsyncClient(headers={"X-Api-Key": "fleet-key-0123456789"}) as http:
            began = time.monotonic()
            slow = await http.get(f"{a}/api/sessions")
            slow_took = time.monotonic() - began
            version = (await http.get(f"{b}/api/server/version")).json()
            quick = await http.get(f"{b}/api/sessions")
    assert [s["name"] for s in slow.json()] == ["a1", "a2"]
    assert [s["name"] for s in quick.json()] == ["default"]
    assert version["version"] == "2024.10.8" and version["tier"] == "CORE"
    assert slow_took >= 0.12  # the latency is a floor every WAHA route pays


def test_two_servers_never_mint_the_same_event_id() -> None:
    """WAHA's ids are ULIDs (80 random bits): the inbox drops a repeated id as a redelivery, so two servers logging
    in the same millisecond must still differ; each server's own ids still only grow."""
    first, second = EventLog(), EventLog()
    ids = [log.append("default", "message", {"n": n})["id"] for n in range(50) for log in (first, second)]
    assert len(set(ids)) == len(ids)
    assert ids[::2] == sorted(ids[::2]) and ids[1::2] == sorted(ids[1::2])
