"""Anti-ban pacing on real clocks, scaled down (`scale`): gaps measured where WAHA receives the requests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx2
import pytest
from mcp import Client

from tests.helpers import call, data, error
from tests.pg import BACKENDS, pg_dsn, store_setting  # noqa: F401  (pg_dsn: a fixture)
from waha_mcp.config import ConfigError, Settings, load_settings
from waha_mcp.safety.pacing import SAFE, PacingRules, parse_pacing
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.app import RecordedRequest
from waha_mcp.server import build_server

# A minute is 1.8 s, the safe 3 s chat gap 90 ms: "no wait" assertions need a margin above a loaded
# machine's scheduling noise (0.01 failed at a load average of 18 on 2 cores).
SCALE = 0.03
# Slots are spaced exactly; requests reach WAHA after a little varying work, measured here.
SLACK = 0.02
A, B, C = "4915100000001@c.us", "4915100000002@c.us", "4915100000003@c.us"


def arrivals(sandbox: Sandbox) -> Callable[[], list[tuple[str, float]]]:
    """(chatId, time) of each send as WAHA received it."""
    seen: list[tuple[str, float]] = []

    def hook(request: RecordedRequest) -> None:
        if request.path == "/api/sendText":
            seen.append((request.json["chatId"], time.monotonic()))

    sandbox.on_request.append(hook)
    return lambda: seen


def paced(store: Path | str, pacing: str) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_MCP_STORE=str(store), WAHA_MCP_PACING=pacing
    )


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every pacing test on SQLite and on PostgreSQL (tests/pg.py)."""
    return store_setting(request, str(tmp_path / "pacing.sqlite3"))


@pytest.fixture
def settings(store: str) -> Settings:
    return paced(store, f"scale={SCALE},jitter=0")


@pytest.fixture
async def mcp(transport: httpx2.AsyncBaseTransport, settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(settings, transport=transport)) as client:
        yield client


async def send(mcp: Client, chat: str, session: str = "default") -> None:
    data(await call(mcp, "waha_send_message", {"session": session, "chatId": chat, "text": "hi"}))


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAHA_MCP_PACING")
    assert parse_pacing("safe") == SAFE == parse_pacing(None) and parse_pacing(" OFF ") is None
    assert parse_pacing("perMinute=20, chatgap=1") == PacingRules(perMinute=20, chatGap=1)
    for bad, why in [("fast", "'fast' is not safe, off or key=value"), ("burst=x", "burst must be a number")]:
        with pytest.raises(ConfigError, match=f"WAHA_MCP_PACING: {why}"):
            load_settings(WAHA_BASE_URL="http://x", WAHA_MCP_PACING=bad)
    assert load_settings(WAHA_BASE_URL="http://x").pacing == "safe"  # on unless turned off


async def test_same_chat_waits_for_its_gap(mcp: Client, sandbox: Sandbox) -> None:
    seen = arrivals(sandbox)
    await send(mcp, A)
    await send(mcp, A)
    (_, first), (_, second) = seen()
    assert second - first >= SAFE.chatGap * SCALE - SLACK


async def test_first_contacts_are_spaced_more(mcp: Client, sandbox: Sandbox) -> None:
    seen = arrivals(sandbox)
    for chat in (A, B, A):
        await send(mcp, chat)
    (_, a1), (_, b), (_, a2) = seen()
    assert b - a1 >= SAFE.newChatGap * SCALE - SLACK  # B is new: 0.6 s after the first contact with A
    assert a2 - b < SAFE.newChatGap * SCALE  # A again is not a first contact


async def test_burst_then_rate_and_other_sessions_are_independent(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, store: str
) -> None:
    rules = "scale=0.3,jitter=0,newChatGap=0,burst=2,perMinute=20"  # 20/min: one per 0.9 s after 2
    seen = arrivals(sandbox)
    async with Client(build_server(paced(store, rules), transport=transport)) as mcp:
        data(await call(mcp, "waha_get_chats", {"limit": 1}))  # the first request's set-up is not pacing
        # Nor is the first send's (its models, the store's first connections): it would delay the first
        # arrival measured below after its slot, and shorten the gap to the third. Another session's bucket.
        await send(mcp, C, session="business")
        warm = len(seen())
        for chat in (A, B, C):
            await send(mcp, chat)
        await send(mcp, A, session="business")
    times = [t for _, t in seen()[warm:]]
    assert times[1] - times[0] < 0.9  # the burst
    assert times[2] - times[0] >= 0.9 - SLACK  # then the rate
    assert times[3] - times[2] < 0.9  # another session has its own bucket


async def test_a_long_wait_is_an_error_with_the_retry_time(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, store: str
) -> None:
    seen = arrivals(sandbox)
    async with Client(build_server(paced(store, "chatGap=600,jitter=0"), transport=transport)) as mcp:
        await send(mcp, A)
        message = error(await call(mcp, "waha_send_message", {"chatId": A, "text": "again"}))
    assert message.startswith("waha_send_message: session default: anti-ban pacing (WAHA_MCP_PACING) would hold")
    assert "over the 30 s limit; retry after" in message and "nothing was sent" in message
    assert len(seen()) == 1


async def test_state_is_shared_through_the_store(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, settings: Settings
) -> None:
    """Two servers (replicas) on one store: the second one's send waits for the first one's gap."""
    seen = arrivals(sandbox)
    one, two = build_server(settings, transport=transport), build_server(settings, transport=transport)
    async with Client(one) as first, Client(two) as second:
        await send(first, A)
        await send(second, A)
    (_, t1), (_, t2) = seen()
    assert t2 - t1 >= SAFE.chatGap * SCALE - SLACK


async def test_waits_report_progress(transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, store: str) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        updates.append((done, total, message))

    async with Client(build_server(paced(store, "scale=0.1,jitter=0"), transport=transport)) as mcp:
        await send(mcp, A)
        args = {"chatId": A, "text": "again"}
        assert not (await mcp.call_tool("waha_send_message", args, progress_callback=progress)).is_error
    assert updates and updates[0][2] is not None and updates[0][2].startswith("paced: sending in 0.")
    done = [u[0] for u in updates]
    assert done == sorted(set(done))  # increasing, as MCP requires


async def test_reads_and_unpaced_writes_do_not_wait(mcp: Client, sandbox: Sandbox) -> None:
    await send(mcp, A)
    started = time.monotonic()
    data(await call(mcp, "waha_get_chats", {"limit": 1}))
    data(await call(mcp, "waha_mark_chat_read", {"chatId": A}))
    assert time.monotonic() - started < SAFE.chatGap  # not asserting speed: only that nothing was held


def test_firing_keeps_the_rate_between_sends_that_really_went_out() -> None:
    """A slot is reserved from the clock at reservation; the send goes after the store's round trips. At the slot,
    the rate holds against the sends' real times too: with a burst of 2 at 20/min, the third send goes 3 s after
    the first really went out, however early its slot was."""
    from waha_mcp.safety.pacing import fire
    from waha_mcp.store import FireView

    rules = PacingRules(perMinute=20, burst=2, chatGap=0, newChatGap=0, jitter=0)
    went = [100.1, 100.0]  # newest first
    view = FireView(now=102.0, chats=["x"], first=False, chat_fired={"x": None}, recent_fired=went)
    assert fire(view, rules, "send") == pytest.approx(1.0)
    assert fire(FireView(now=103.0, chats=["x"], first=False, recent_fired=went), rules, "send") == 0.0
    # Within the burst: no wait.
    assert fire(FireView(now=100.2, chats=["x"], first=False, recent_fired=[100.0]), rules, "send") == 0.0


async def test_sends_that_did_not_go_out_are_not_charged(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, store: str
) -> None:
    """One send a minute: refusals (an unknown session, a chat WAHA refuses) leave the slot to the next send."""
    seen = arrivals(sandbox)
    rules = "perMinute=1,burst=1,jitter=0,chatGap=0,newChatGap=0"
    async with Client(build_server(paced(store, rules), transport=transport)) as mcp:
        for _ in range(2):
            message = error(await call(mcp, "waha_send_message", {"session": "nosuch", "chatId": A, "text": "hi"}))
            assert "session 'nosuch' does not exist" in message and "pacing" not in message
        started = time.monotonic()
        await send(mcp, A)  # its slot is free: the refused ones took none
        assert time.monotonic() - started < 10
        assert "pacing" in error(await call(mcp, "waha_send_message", {"chatId": B, "text": "hi"}))
    assert [chat for chat, _ in seen()] == [A, A, A]  # two refused by WAHA, one sent; B held back by pacing


async def test_a_session_that_cannot_send_is_refused_before_any_wait(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, store: str
) -> None:
    rules = "perMinute=6,burst=1,jitter=0,chatGap=0,newChatGap=0"  # the next send waits 10 s
    async with Client(build_server(paced(store, rules), transport=transport)) as mcp:
        await send(mcp, A)
        sandbox.set_status("default", "STOPPED")
        started = time.monotonic()
        message = error(await call(mcp, "waha_send_message", {"chatId": A, "text": "again"}))
        assert time.monotonic() - started < 5, message
        assert "session 'default' is STOPPED" in message and "waha_start_session" in message
        sandbox.set_status("default", "WORKING")
        started = time.monotonic()
        await send(mcp, A)  # the refused send was not charged: still the first one's 10 s, no more
        assert time.monotonic() - started < 12


async def test_a_send_whose_fate_is_unknown_stays_charged(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, store: str
) -> None:
    """A 5xx (or no answer) may hide a message that went out: its slot is kept, so the next send still waits."""
    sandbox.faults.add("ChattingController_sendText", kind="status", status=500, times=1)
    rules = "perMinute=1,burst=1,jitter=0,chatGap=0,newChatGap=0"
    async with Client(build_server(paced(store, rules), transport=transport)) as mcp:
        assert "500" in error(await call(mcp, "waha_send_message", {"chatId": A, "text": "hi"}))
        assert "pacing" in error(await call(mcp, "waha_send_message", {"chatId": B, "text": "hi"}))
