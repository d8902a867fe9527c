"""Time, one rule each way: every tool takes times by one parser, and every time shown is written one way."""

from __future__ import annotations

import re
import time

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import WahaMCP

SHOWN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
NAIVE = "2026-03-01T19:00:00"


def person(sandbox: Sandbox) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return next(iter(world.contacts))


async def test_a_clock_time_without_offset_is_refused_by_every_tool_alike(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    before = len(sandbox.requests)
    for tool, arguments in [
        ("waha_get_messages", {"chatId": chat, "since": NAIVE}),
        ("waha_get_events", {"since": NAIVE}),
        ("waha_send_event", {"chatId": chat, "name": "Dinner", "start": NAIVE}),
    ]:
        message = error(await call(mcp, tool, arguments))
        assert f"{NAIVE!r} has no UTC offset: add one, e.g. +01:00 or Z" in message, (tool, message)
    assert len(sandbox.requests) == before


async def test_a_date_alone_is_that_day_from_midnight_utc_for_every_tool(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    sent = data(await call(mcp, "waha_send_event", {"chatId": chat, "name": "Dinner", "start": "2026-03-01"}))
    assert sent["startTime"] == "2026-03-01T00:00:00Z"
    assert sandbox.requests[-1].json["event"]["startTime"] == 1772323200
    listed = data(await call(mcp, "waha_get_messages", {"chatId": chat, "until": "2000-01-01"}))
    assert listed["messages"] == []


async def test_unix_milliseconds_are_read_as_such_by_every_tool(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    ms = "1772388000000"
    sent = data(await call(mcp, "waha_send_event", {"chatId": chat, "name": "Dinner", "start": ms}))
    assert sent["startTime"] == "2026-03-01T18:00:00Z"


async def test_every_time_shown_is_utc_to_the_second_with_z(mcp: Client, server: WahaMCP, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    sent = data(await call(mcp, "waha_send_message", {"chatId": chat, "text": "hi"}))
    assert SHOWN.fullmatch(sent["time"]), sent
    listed = data(await call(mcp, "waha_get_chats", {"limit": 3}))
    assert all(SHOWN.fullmatch(c["time"]) for c in listed["chats"] if "time" in c)
    envelope = {
        "id": "evt_times1",
        "timestamp": int(time.time() * 1000) // 1000 * 1000 + 123,
        "session": "default",
        "engine": "NOWEB",
        "event": "message",
        "payload": {"id": "false_111@c.us_T1", "from": "111@c.us", "fromMe": False, "body": "hi"},
    }
    await server.events().ingest.accept(envelope, "ws")
    events = data(await call(mcp, "waha_get_events", {}))["events"]
    assert events and all(SHOWN.fullmatch(e["time"]) for e in events), events


@pytest.mark.parametrize("given", ["2026-03-01T18:00:00Z", "2026-03-01T19:00:00+01:00", "1772388000", "1772388000000"])
def test_parse_time_spellings(given: str) -> None:
    from waha_mcp.times import parse_time

    assert parse_time(given, "start") == 1772388000
