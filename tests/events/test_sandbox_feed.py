"""The embedded sandbox feeds the inbox (`waha-mcp --sandbox`): what it logs reaches the same ingest as the
WebSocket path: waiters, `waha_get_events`, `resources/updated`; the subscription ends with the server."""

from __future__ import annotations

import asyncio

from mcp import Client

from tests.helpers import call, data
from waha_mcp.events import Query
from waha_mcp.events.background import running
from waha_mcp.events.local import SandboxFeed
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import WahaMCP

CHAT = "12025550999@c.us"


async def test_an_injected_message_wakes_a_waiter_and_is_listed(mcp: Client, server: WahaMCP, sandbox: Sandbox) -> None:
    before = len(sandbox.model.log.listeners)
    async with running(server, listener=False) as started:
        assert isinstance(started["sandbox"], SandboxFeed) and "ws" not in started
        assert len(sandbox.model.log.listeners) == before + 1

        async def later() -> None:
            await asyncio.sleep(0.1)
            await call(mcp, "waha_sandbox_receive", {"chatId": CHAT, "text": "Is the order ready?"})

        task = asyncio.create_task(later())
        out = data(await call(mcp, "waha_wait_for_message", {"chat": CHAT, "text": "order", "timeout": 5}))
        await task
        assert out["matched"] is True and out["session"] == "default"
        assert out["event"]["text"] == "Is the order ready?" and out["event"]["from"] == CHAT
        listed = data(await call(mcp, "waha_get_events", {"chat": CHAT}))
        # WAHA sends both `message` and `message.any` for a received message.
        assert [(e["event"], e["text"]) for e in listed["events"]] == [
            ("message", "Is the order ready?"),
            ("message.any", "Is the order ready?"),
        ]
        # The stored envelope is the sandbox's own record (its `evt_` id), stored once.
        records = [
            r["id"] for r in sandbox.events() if r["event"].startswith("message") and r["payload"]["from"] == CHAT
        ]
        stored = await server.events().inbox.query(Query(chat=CHAT))
        assert [row.summary.id for row in stored] == records and len(records) == 2
        # A status change is an event too (the inbox is the session monitor).
        await call(mcp, "waha_sandbox_set_state", {"state": "FAILED"})
        args = {"types": ["session.status"], "cursor": listed["cursor"], "timeout": 5}
        status = data(await call(mcp, "waha_wait_for_event", args))
        assert status["matched"] is True and status["event"]["status"] == "FAILED"
    assert len(sandbox.model.log.listeners) == before  # unsubscribed with the server


async def test_a_sandbox_message_sends_resources_updated(server: WahaMCP, sandbox: Sandbox) -> None:
    async with running(server, listener=False), Client(server) as client:
        await client.read_resource("waha://sessions")
        async with client.listen(resource_subscriptions=["waha://chats/overview?session=default"]) as sub:
            sandbox.inject_inbound("default", CHAT, "hello")
            event = await asyncio.wait_for(sub.__anext__(), 5)
            assert event.uri == "waha://chats/overview?session=default"


async def test_the_reachout_timelock_shows_in_the_inbox(mcp: Client, server: WahaMCP, sandbox: Sandbox) -> None:
    async with running(server, listener=False):
        cursor = data(await call(mcp, "waha_get_events", {}))["cursor"]
        sandbox.timelock("default", seconds=3600)
        args = {"types": ["session.status"], "cursor": cursor, "timeout": 5}
        locked = data(await call(mcp, "waha_wait_for_event", args))
        assert locked["event"]["status"] == "WORKING" and locked["event"]["session"] == "default"
        assert (
            locked["event"]["text"].startswith("reach-out timelock until ") and "error 463" in locked["event"]["text"]
        )
        sandbox.timelock("default", seconds=None)
        lifted = data(await call(mcp, "waha_wait_for_event", args | {"cursor": locked["cursor"]}))
        assert lifted["event"]["text"] == "reach-out timelock lifted"


async def test_events_off_subscribes_nothing(sandbox: Sandbox, server: WahaMCP) -> None:
    server.waha_settings = server.waha_settings.model_copy(update={"events": "off"})
    before = len(sandbox.model.log.listeners)
    async with running(server, listener=False) as started:
        assert "sandbox" not in started and len(sandbox.model.log.listeners) == before


async def test_a_record_that_is_no_envelope_is_counted_not_raised(server: WahaMCP, sandbox: Sandbox) -> None:
    async with running(server, listener=False) as started:
        feed: SandboxFeed = started["sandbox"]
        before = len(sandbox.events())
        sandbox.model.log.append("", "message", {"body": "no session"})  # the log itself must not fail
        sandbox.inject_inbound("default", CHAT, "after it")
        good = len(sandbox.events()) - before - 1  # `message` and `message.any`
        for _ in range(500):
            if feed.counters["malformed"] + feed.counters["events"] == good + 1:
                break
            await asyncio.sleep(0.01)
        assert feed.counters == {"malformed": 1, "events": good} and good == 2
