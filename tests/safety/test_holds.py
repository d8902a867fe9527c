"""A session WhatsApp capped (error 475) or timelocked (error 463) sends nothing more until WhatsApp lets go:
pacing holds it, says until when, and never retries into the refusal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.events import Events
from waha_mcp.events.background import running
from waha_mcp.safety.holds import CAPPING, TIMELOCK, UNKNOWN_END, Holds
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server
from waha_mcp.store import open_store

NEW_PERSON = "15550001234@c.us"
OTHER_NEW = "15550004321@c.us"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_MCP_STORE=str(tmp_path / "store.sqlite3"),
        WAHA_MCP_PACING="scale=0.001,jitter=0",
        WAHA_TOOLSETS="all",
    )


@pytest.fixture
async def mcp(transport: httpx2.AsyncBaseTransport, settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, transport=transport)) as client:
        yield client


def sends(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.path.startswith("/api/send"))


def known_chat(sandbox: Sandbox) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return next(c.id for c in world.chats.values() if c.messages and c.id.endswith("@c.us"))


async def test_a_475_holds_the_session_until_the_cycle_ends(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.capping("default", "CAPPED", seconds=3600)
    ends = sandbox.sessions["default"].capping["cycleEnd"]  # type: ignore[index]
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ends))
    told = error(await call(mcp, "waha_send_message", {"chatId": NEW_PERSON, "text": "hi"}))
    assert f"session 'default' has used its quota of messages to new chats until {until}" in told
    assert "error 475" in told and f"holds its sends until {until}" in told and "nothing was retried" in told
    assert sends(sandbox) == 1  # the refused send, once
    # From now on nothing goes out for this account, not even to a chat WhatsApp would still allow.
    held = error(await call(mcp, "waha_send_message", {"chatId": known_chat(sandbox), "text": "hello again"}))
    assert held.startswith("waha_send_message: session default is under WhatsApp's new-chat message capping")
    assert f"until {until} (as WhatsApp said)" in held and "nothing was sent" in held
    assert sends(sandbox) == 1
    # Another account is not held.
    data(await call(mcp, "waha_send_message", {"session": "business", "chatId": NEW_PERSON, "text": "hi"}))
    # WhatsApp lifts the cap: reading the limits lets the session send again.
    sandbox.capping("default", "NONE", seconds=3600)
    limits = data(await call(mcp, "waha_get_send_limits"))
    assert limits["messageCapping"]["status"] == "NONE" and "heldUntilTime" not in limits
    data(await call(mcp, "waha_send_message", {"chatId": NEW_PERSON, "text": "hi"}))


async def test_a_463_holds_the_session_until_the_timelock_ends(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.timelock("default", seconds=7200)
    ends = sandbox.sessions["default"].reachout["timeEnforcementEnds"]  # type: ignore[index]
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ends))
    told = error(await call(mcp, "waha_send_message", {"chatId": NEW_PERSON, "text": "hi"}))
    assert f"may not message new contacts until {until}" in told and f"holds all its sends until {until}" in told
    held = error(await call(mcp, "waha_send_media", {"chatId": OTHER_NEW, "data": "aGk=", "mimetype": "image/png"}))
    assert "under WhatsApp's reach-out timelock (WhatsApp error 463)" in held and "do not restart" in held
    assert sends(sandbox) == 1
    group = error(await call(mcp, "waha_create_group", {"name": "New", "participants": [OTHER_NEW]}))
    assert "holds its group changes until" in group and not any(
        r.method == "POST" and r.path.endswith("/groups") for r in sandbox.requests
    )
    # The end was read from the timelock route (WAHA 2026.8.1), quietly: the send reached only sendText.
    assert "/api/sessions/default/timelock" in [r.path for r in sandbox.requests]


async def test_a_session_status_event_holds_and_frees_the_session(
    transport: httpx2.AsyncBaseTransport, settings: Settings, sandbox: Sandbox
) -> None:
    server = build_server(settings.model_copy(update={"sandbox": True}), transport=transport)

    async def statuses(mcp: Client, count: int) -> None:
        """Until the embedded sandbox's feed has stored `count` session.status events."""
        for _ in range(100):
            found = data(await call(mcp, "waha_get_events", {"types": ["session.status"], "limit": 10}))
            if len(found["events"]) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the session.status event never came")

    async with Client(server) as mcp, running(server, listener=False):
        sandbox.capping("default", "CAPPED", seconds=3600)  # WhatsApp's capping arrives as a session.status event
        await statuses(mcp, 1)
        held = error(await call(mcp, "waha_send_message", {"chatId": known_chat(sandbox), "text": "x"}))
        assert "new-chat message capping" in held and sends(sandbox) == 0
        sandbox.capping("default", "NONE", seconds=3600)
        await statuses(mcp, 2)
        data(await call(mcp, "waha_send_message", {"chatId": known_chat(sandbox), "text": "x"}))


def test_holds_learn_from_what_waha_reports() -> None:
    now = [1_000_000.0]
    holds = Holds(clock=lambda: now[0])
    holds.learn_status(
        "a", {"payload": {"data": {"reachoutTimelock": {"isActive": True, "timeEnforcementEnds": now[0] + 60}}}}
    )
    held = holds.active("a")
    assert held is not None and (held.cause, held.until, held.told) == (TIMELOCK, now[0] + 60, True)
    holds.learn_status("a", {"me": {"messageCapping": {"cappingStatus": "CAPPED", "cycleEnd": now[0] + 600}}})
    assert holds.active("a").cause == CAPPING  # type: ignore[union-attr]  # the later end wins
    holds.learn_status("a", {"me": {"messageCapping": {"cappingStatus": "FIRST_WARNING", "cycleEnd": None}}})
    assert holds.active("a").cause == TIMELOCK  # type: ignore[union-attr]  # a warning does not block
    holds.learn_timelock("a", {"isActive": True, "timeEnforcementEnds": None})
    assert holds.active("a").until == now[0] + UNKNOWN_END  # type: ignore[union-attr]  # no end given: held an hour
    now[0] += UNKNOWN_END + 1
    assert holds.active("a") is None and holds.active("b") is None  # it ended
    holds.learn_capping("a", {"cappingStatus": "CAPPED", "cycleEnd": now[0] - 1})
    assert holds.active("a") is None  # a cycle already over holds nothing


async def test_the_events_and_the_tools_share_one_holds(tmp_path: Path) -> None:
    events = Events(open_store(str(tmp_path / "s.sqlite3")))
    envelope = {
        "id": "evt_1",
        "timestamp": int(time.time() * 1000),
        "session": "default",
        "event": "session.status",
        "payload": {"status": "WORKING"},
        "me": {"id": "1@c.us", "messageCapping": {"cappingStatus": "CAPPED", "cycleEnd": int(time.time()) + 60}},
    }
    await events.ingest.accept(envelope, "webhook")
    assert events.ingest.holds.active("default") is not None
