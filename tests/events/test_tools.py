"""Tools `waha_get_events`, `waha_wait_for_event`, `waha_wait_for_message` over MCP (both protocol modes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.events import Query
from waha_mcp.server import WahaMCP
from waha_mcp.tools import events as events_tools

N = 0


def envelope(event: str = "message", session: str = "default", **payload: Any) -> dict[str, Any]:
    global N
    N += 1
    body = {"id": f"false_111@c.us_{N}", "from": "111@c.us", "to": "999@c.us", "fromMe": False, "body": "hi"} | payload
    return {"id": f"evt_t{N:05d}", "timestamp": int(time.time() * 1000), "session": session, "engine": "NOWEB",
            "event": event, "payload": body}  # fmt: skip


async def feed(server: WahaMCP, *envelopes: dict[str, Any]) -> None:
    for env in envelopes:
        await server.events().ingest.accept(env, "ws")


@pytest.fixture(params=["legacy", "default"])
async def client(server: WahaMCP, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    kwargs = {"mode": "legacy"} if request.param == "legacy" else {}
    async with Client(server, **kwargs) as c:
        yield c


async def test_get_events_filters_and_pages_with_a_cursor(client: Client, server: WahaMCP) -> None:
    await feed(
        server,
        envelope(body="one"),
        envelope(session="business", body="two"),
        envelope("session.status", payload_status="x") | {"payload": {"status": "FAILED"}},
        envelope(body="three", **{"from": "222@c.us"}),
    )
    everything = data(await call(client, "waha_get_events", {"limit": 2}))
    assert [e.get("text") for e in everything["events"]] == ["one", "two"] and everything["more"] is True
    rest = data(await call(client, "waha_get_events", {"cursor": everything["cursor"]}))
    assert [e["event"] for e in rest["events"]] == ["session.status", "message"] and rest["more"] is False
    assert rest["events"][0]["status"] == "FAILED"
    only = data(await call(client, "waha_get_events", {"sessions": ["business"]}))
    assert [e["text"] for e in only["events"]] == ["two"] and only["events"][0]["session"] == "business"
    chat = data(await call(client, "waha_get_events", {"chat": "222@c.us", "types": ["message*"]}))
    assert [e["text"] for e in chat["events"]] == ["three"] and chat["events"][0]["from"] == "222@c.us"
    future = data(await call(client, "waha_get_events", {"since": "2999-01-01"}))
    assert future["events"] == []


async def test_get_events_refuses_bad_arguments(client: Client) -> None:
    assert "cursor" in error(await call(client, "waha_get_events", {"cursor": "abc"}))
    assert "limit" in error(await call(client, "waha_get_events", {"limit": 1000}))


async def test_wait_for_message_returns_the_reply_that_arrives(client: Client, server: WahaMCP) -> None:
    async def later() -> None:
        await asyncio.sleep(0.2)
        await feed(server, envelope(body="not this one", **{"from": "333@c.us"}))
        await feed(server, envelope(body="Yes, SEE you then", **{"from": "111@c.us"}))

    task = asyncio.create_task(later())
    args = {"chat": "111@c.us", "text": "see you", "timeout": 5}
    out = data(await call(client, "waha_wait_for_message", args))
    await task
    assert out["matched"] is True and out["event"]["text"] == "Yes, SEE you then" and out["session"] == "default"
    assert 0.1 < out["waited"] < 5


async def test_a_wait_times_out_with_the_cursor_to_continue_from(client: Client, server: WahaMCP) -> None:
    started = time.monotonic()
    out = data(await call(client, "waha_wait_for_event", {"types": ["call.received"], "timeout": 0.3}))
    assert out["matched"] is False and 0.25 < time.monotonic() - started < 3


async def test_a_timed_out_wait_never_hands_back_an_earlier_cursor(client: Client, server: WahaMCP) -> None:
    await feed(server, envelope(body="old one"), envelope(body="old two"))
    latest = str(await server.events().inbox.last_cursor())
    # Without a cursor: the inbox position at which the wait started, not "0" (which would replay the old ones).
    out = data(await call(client, "waha_wait_for_event", {"types": ["call.received"], "timeout": 0.2}))
    assert out["matched"] is False and out["cursor"] == latest
    again = data(await call(client, "waha_wait_for_message", {"cursor": out["cursor"], "timeout": 0.2}))
    assert again["matched"] is False and again["cursor"] == latest
    # From an earlier cursor, after looking back past events that do not match: where it looked up to.
    early = data(await call(client, "waha_wait_for_event", {"types": ["call.received"], "cursor": "0", "timeout": 0.2}))
    assert early["cursor"] == latest
    # A cursor beyond the inbox (from a wait that saw later events) is never moved back.
    ahead = str(int(latest) + 5)
    assert data(await call(client, "waha_wait_for_message", {"cursor": ahead, "timeout": 0.2}))["cursor"] == ahead


async def test_a_cursor_finds_what_arrived_before_the_wait(client: Client, server: WahaMCP) -> None:
    page = data(await call(client, "waha_get_events", {}))
    await feed(server, envelope(body="early reply"))
    out = data(await call(client, "waha_wait_for_message", {"cursor": page["cursor"], "timeout": 0.2}))
    assert out["matched"] and out["event"]["text"] == "early reply"


async def test_several_waiters_each_see_every_match(client: Client, server: WahaMCP) -> None:
    calls = [
        asyncio.create_task(call(client, "waha_wait_for_message", {"text": "ping", "timeout": 5})) for _ in range(3)
    ]
    other = asyncio.create_task(call(client, "waha_wait_for_event", {"types": ["message"], "timeout": 5}))
    while len(server.events().waiters) < 4:
        await asyncio.sleep(0.01)
    await feed(server, envelope(body="ping!"))
    results = [data(r) for r in await asyncio.gather(*calls, other)]
    assert [r["event"]["text"] for r in results] == ["ping!"] * 4
    assert len({r["event"]["id"] for r in results}) == 1
    assert len(server.events().waiters) == 0  # every waiter let go of its queue


async def test_own_messages_and_other_sessions_do_not_match(client: Client, server: WahaMCP) -> None:
    async def later() -> None:
        while len(server.events().waiters) < 1:
            await asyncio.sleep(0.01)
        await feed(server, envelope(body="mine", fromMe=True), envelope(session="business", body="theirs"))

    task = asyncio.create_task(later())
    out = data(await call(client, "waha_wait_for_message", {"timeout": 0.5}))
    await task
    assert out["matched"] is False


async def test_progress_is_reported_while_waiting(server: WahaMCP, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_tools, "PROGRESS_EVERY", 0.1)
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with Client(server, mode="legacy") as c:
        result = await c.call_tool("waha_wait_for_event", {"timeout": 0.45}, progress_callback=progress)
    assert data(result)["matched"] is False
    assert len(seen) >= 2 and all(total == 0.45 for _, total, _ in seen)
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


async def test_a_lid_sender_is_named_by_its_number(client: Client, server: WahaMCP, sandbox: Any) -> None:
    (lid, pn), (lid2, pn2), (lid3, pn3) = list(sandbox.model.sessions["default"].world.lids().items())[:3]
    group = {"from": "120363000000000001@g.us", "participant": lid}
    await feed(server, envelope(body="from a hidden number", **group))
    page = data(await call(client, "waha_get_events", {}))
    assert page["events"][-1]["from"] == pn
    # Known now: the next event from that LID is stored with the number already.
    await feed(server, envelope(body="again", **group))
    rows = await server.events().inbox.query(Query())
    assert rows[-1].summary.sender == pn

    async def later(participant: str, text: str) -> None:
        while len(server.events().waiters) < 1:
            await asyncio.sleep(0.01)
        await feed(server, envelope(body=text, **{"from": "120363000000000001@g.us", "participant": participant}))

    # A LID nobody looked up yet: the wait asks WAHA (LIDs) to compare it with the number it waits for.
    task = asyncio.create_task(later(lid2, "from lid2"))
    out = data(await call(client, "waha_wait_for_message", {"sender": pn2, "timeout": 5}))
    await task
    assert out["matched"] and out["event"]["text"] == "from lid2" and out["event"]["from"] == pn2
    task = asyncio.create_task(later(lid3, "from lid3"))
    out = data(await call(client, "waha_wait_for_event", {"types": ["message"], "timeout": 5}))
    await task
    assert out["matched"] and out["event"]["from"] == pn3
