"""Replicas on one PostgreSQL: an event stored by one reaches the others' waiters and subscribers (the store's
LISTEN/NOTIFY hint, then a read by cursor), even across a lost listening connection; a webhook delivered to
every replica is stored once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.pg import _admin, pg_dsn
from waha_mcp.config import load_settings
from waha_mcp.events import Events, Stored
from waha_mcp.events.follow import Follower
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server
from waha_mcp.store import open_store
from waha_mcp.store.postgres import PostgresStore

__all__ = ["pg_dsn"]


def envelope(eid: str, text: str = "hi") -> dict[str, object]:
    return {
        "id": eid,
        "timestamp": 1_700_000_000_000,
        "session": "default",
        "event": "message",
        "payload": {"id": f"false_111@c.us_{eid}", "from": "111@c.us", "fromMe": False, "body": text},
    }


@pytest.fixture
def two_replicas(pg_dsn: str) -> Iterator[tuple[Events, Events]]:
    a, b = open_store(pg_dsn), open_store(pg_dsn)
    yield Events(a), Events(b)
    a.close()
    b.close()


@contextlib.asynccontextmanager
async def following(events: Events) -> AsyncIterator[Follower]:
    follower = Follower(events.inbox, events.ingest)
    task = asyncio.ensure_future(follower.run())
    try:
        for _ in range(200):
            if follower.listening:
                break
            await asyncio.sleep(0.05)
        assert follower.listening
        yield follower
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def next_events(queue: asyncio.Queue[list[Stored]]) -> list[str]:
    return [row.summary.id for row in await asyncio.wait_for(queue.get(), 10)]


async def test_an_event_stored_by_one_replica_wakes_a_waiter_on_another_once(
    two_replicas: tuple[Events, Events],
) -> None:
    a, b = two_replicas
    heard: list[list[Stored]] = []
    b.ingest.listeners.append(heard.append)  # what resources/updated is sent from
    async with following(a), following(b):
        waiter = b.waiters.open()
        own = a.waiters.open()
        await a.ingest.accept(envelope("e1"), "webhook")
        assert await next_events(waiter) == ["e1"]
        assert await next_events(own) == ["e1"]
        await b.ingest.accept(envelope("e2"), "webhook")
        assert await next_events(own) == ["e2"]
        assert await next_events(waiter) == ["e2"]
        await asyncio.sleep(0.5)  # its own NOTIFY came back to each: not published a second time
        assert waiter.empty() and own.empty()
        assert [[r.summary.id for r in batch] for batch in heard] == [["e1"], ["e2"]]


async def test_a_replica_that_lost_its_listening_connection_catches_up(
    two_replicas: tuple[Events, Events], pg_dsn: str
) -> None:
    a, b = two_replicas
    async with following(b):
        waiter = b.waiters.open()
        store = b.inbox.store
        assert isinstance(store, PostgresStore)
        good, store.dsn = store.dsn, "postgresql://nobody@127.0.0.1:1/none"  # it cannot reconnect for now
        # Every listening connection dropped (a restart, a network cut) …
        await _admin(pg_dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
                     " AND pid <> pg_backend_pid()")  # fmt: skip
        # … and events stored meanwhile: their notifications went nowhere, the rows wait by cursor.
        for i in range(3):
            await a.ingest.accept(envelope(f"gap{i}"), "webhook")
        await asyncio.sleep(0.5)
        assert waiter.empty()
        store.dsn = good
        got: list[str] = []
        while len(got) < 3:
            got += await next_events(waiter)
        assert got == ["gap0", "gap1", "gap2"]


async def test_a_webhook_delivered_to_every_replica_is_stored_once(two_replicas: tuple[Events, Events]) -> None:
    a, b = two_replicas
    outcomes = await asyncio.gather(
        *(replica.ingest.accept(envelope(f"w{i}"), "webhook") for i in range(20) for replica in (a, b))
    )
    assert sum(o.new for o in outcomes) == 20
    assert await a.inbox.count() == 20


async def test_resources_updated_on_a_replica_that_did_not_ingest(pg_dsn: str, sandbox: Sandbox) -> None:
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_MCP_STORE=pg_dsn)
    a, b = (build_server(settings, transport=sandbox_transport(sandbox)) for _ in range(2))
    try:
        updated: list[str] = []
        b.subscription_bus.subscribe(lambda event: updated.append(str(getattr(event, "uri", ""))))
        async with following(b.events()):
            await a.events().ingest.accept(envelope("r1"), "webhook")
            for _ in range(200):
                if updated:
                    break
                await asyncio.sleep(0.05)
        assert "waha://inbox?session=default" in updated, updated
    finally:
        a.close()
        b.close()


class Clock:
    """`time` for the summary and the inbox (the minute an id-less event is received in), set by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


async def test_an_event_without_id_received_either_side_of_a_minute_is_stored_once(
    two_replicas: tuple[Events, Events], monkeypatch: pytest.MonkeyPatch
) -> None:
    """WAHA Core's envelopes have no id and a `session.status` payload none either: the derived id is the content
    and the minute it arrived in. Two replicas hearing one such event 2 ms apart, across a minute boundary, must
    still store it once; the same content again more than a minute after the stored copy is a new event (the
    session reached that state again), and copies of that arrive on both replicas too."""
    from waha_mcp.events import inbox, summary

    clock = Clock(1_700_000_039.999)  # 59.999 s into a minute
    assert int(clock.now * 1000) // 60_000 != int((clock.now + 0.002) * 1000) // 60_000
    monkeypatch.setattr(summary, "time", clock)
    monkeypatch.setattr(inbox, "time", clock)
    a, b = two_replicas
    status = {"event": "session.status", "session": "default", "payload": {"status": "WORKING"},
              "engine": "NOWEB", "environment": {"version": "2024.10.8", "tier": "CORE"}}  # fmt: skip
    first = await a.ingest.accept(status, "ws")
    clock.now += 0.002
    copy = await b.ingest.accept(status, "ws")
    assert first.new and not copy.new
    clock.now += 59.0  # NOWEB's repeats of one state within the minute after the stored copy: the same row
    assert not (await a.ingest.accept(status, "ws")).new
    clock.now += 1.5  # over a minute after the stored copy: the state reached again
    again = await b.ingest.accept(status, "ws")
    clock.now += 0.002
    assert again.new and not (await a.ingest.accept(status, "ws")).new
    assert await a.inbox.count() == 2
