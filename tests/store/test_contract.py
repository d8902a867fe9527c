"""The store's contract: every backend (SQLite, PostgreSQL) behaves the same through the domain interfaces.

Each test runs once per backend (tests/store/conftest.py). A second instance opened on the same store plays a
second process or replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time

import pytest

from tests.store.conftest import Opener
from waha_mcp.store import (
    AuditFilter,
    AuditStart,
    FireView,
    NewEvent,
    Query,
    Retention,
    Slot,
    SlotView,
    Store,
    StoreError,
)
from waha_mcp.transcribe.store import Transcript, transcripts_for


def event(eid: str, *, session: str = "default", name: str = "message", chat: str | None = "1@c.us", ts: int = 1000,
          text: str | None = "hi", from_me: bool = False) -> NewEvent:  # fmt: skip
    envelope = json.dumps({"id": eid, "event": name, "session": session, "payload": {"body": text}})
    return NewEvent(eid, ts, session, name, chat, chat, f"m_{eid}", text, None, from_me, None, "webhook", envelope)


async def test_an_event_is_stored_once_and_durable(open_backend: Opener) -> None:
    store = open_backend()
    seqs = await store.inbox.add([event("e1"), event("e2"), event("e1")], 5, None)
    assert seqs[0] is not None and seqs[1] is not None and seqs[1] > seqs[0] and seqs[2] is None
    assert await store.inbox.add([event("e2")], 6, None) == [None]  # a retried delivery
    other = open_backend()  # another process: sees what was committed
    assert await other.inbox.count() == 2
    assert await other.inbox.last_cursor() == seqs[1]
    rows = await other.inbox.query(Query())
    assert [(r.id, r.seq, r.text, r.from_me) for r in rows] == [
        ("e1", seqs[0], "hi", False),
        ("e2", seqs[1], "hi", False),
    ]
    assert json.loads(await other.inbox.envelope("e2") or "null")["id"] == "e2"
    assert await other.inbox.envelope("nope") is None


async def test_an_event_whose_twin_was_received_lately_is_a_duplicate(open_backend: Opener) -> None:
    """An id-less event's copy derived in a neighbouring minute (`NewEvent.twins`): stored once, whichever instance
    receives it, unless the twin was received before `twins_since` (then it is a new event)."""
    a, b = open_backend(), open_backend()
    assert await a.inbox.add([event("dg_x_10")], 600_000, None) != [None]
    twin = event("dg_x_11")._replace(twins=("dg_x_10", "dg_x_12"), twins_since=600_001 - 60_000)
    stored = await b.inbox.add([twin, event("dg_y_11")], 600_001, None)
    assert stored[0] is None and stored[1] is not None
    later = event("dg_x_11")._replace(twins=("dg_x_10", "dg_x_12"), twins_since=600_001)  # the twin is too old
    assert (await b.inbox.add([later], 660_001, None))[0] is not None
    assert [r.id for r in await a.inbox.query(Query())] == ["dg_x_10", "dg_y_11", "dg_x_11"]


async def test_an_empty_inbox(store: Store) -> None:
    assert await store.inbox.count() == 0
    assert await store.inbox.last_cursor() == 0
    assert await store.inbox.query(Query()) == []
    assert await store.inbox.conversations([], 10) == []


async def test_queries_filter_and_page(store: Store) -> None:
    await store.inbox.add(
        [
            event("e1", ts=100),
            event("e2", session="b", chat="2@c.us", ts=200, from_me=True),
            event("e3", session="b", name="session.status", chat=None, ts=300),
            event("e4", name="group.v2.join", chat="g@g.us", ts=400),
            event("e5", name="message.ack", ts=500),
        ],
        1,
        None,
    )
    ids = lambda rows: [r.id for r in rows]  # noqa: E731
    assert ids(await store.inbox.query(Query(sessions=["b"]))) == ["e2", "e3"]
    assert ids(await store.inbox.query(Query(sessions=["b", "default"], limit=2))) == ["e1", "e2"]
    assert ids(await store.inbox.query(Query(events=["message"]))) == ["e1", "e2"]
    assert ids(await store.inbox.query(Query(events=["message*"]))) == ["e1", "e2", "e5"]
    assert ids(await store.inbox.query(Query(events=["group.*", "session.status"]))) == ["e3", "e4"]
    assert ids(await store.inbox.query(Query(chat="2@c.us"))) == ["e2"]
    assert ids(await store.inbox.query(Query(since_ms=300))) == ["e3", "e4", "e5"]
    assert ids(await store.inbox.query(Query(newest_first=True, limit=2))) == ["e5", "e4"]
    first = await store.inbox.query(Query(limit=2))
    rest = await store.inbox.query(Query(after=first[-1].seq))
    assert ids(first) + ids(rest) == ["e1", "e2", "e3", "e4", "e5"]
    assert (await store.inbox.query(Query(sessions=["b"])))[0].from_me is True


async def test_retention_by_age_and_count(store: Store) -> None:
    await store.inbox.add([event(f"e{i}", ts=i * 100) for i in range(1, 7)], 1, None)
    assert await store.inbox.prune(Retention(before_ms=250, keep=100)) == 2  # e1, e2 too old
    assert await store.inbox.prune(Retention(before_ms=0, keep=3)) == 1  # e3 beyond the newest three
    assert [r.id for r in await store.inbox.query(Query())] == ["e4", "e5", "e6"]
    # Retention inside an add: the new event counts among the newest.
    await store.inbox.add([event("e7", ts=700)], 1, Retention(before_ms=0, keep=2))
    assert [r.id for r in await store.inbox.query(Query())] == ["e6", "e7"]


async def test_a_cursor_is_never_reused_after_pruning(store: Store) -> None:
    [first] = await store.inbox.add([event("e1")], 1, None)
    await store.inbox.prune(Retention(before_ms=10**12, keep=0))
    [second] = await store.inbox.add([event("e2")], 1, None)
    assert first is not None and second is not None and second > first


async def test_conversations(store: Store) -> None:
    await store.inbox.add(
        [
            event("e1", chat="1@c.us", text="one"),
            event("e2", chat="2@c.us", text="two"),
            event("e3", chat="1@c.us", text="three"),
            event("e4", session="b", chat="1@c.us", text="other session"),
            event("e5", name="message.ack", chat="3@c.us"),
        ],
        1,
        None,
    )
    got = [(c.session, c.chat, c.received, c.last.text) for c in await store.inbox.conversations([], 10)]
    assert got == [
        ("b", "1@c.us", 1, "other session"),
        ("default", "1@c.us", 2, "three"),
        ("default", "2@c.us", 1, "two"),
    ]
    only = await store.inbox.conversations(["default"], 1)
    assert [(c.chat, c.last.id) for c in only] == [("1@c.us", "e3")]


async def test_concurrent_adds_from_two_instances_get_distinct_growing_cursors(open_backend: Opener) -> None:
    a, b = open_backend(), open_backend()
    results = await asyncio.gather(
        *(s.inbox.add([event(f"{name}{i}")], 1, None) for i in range(20) for name, s in (("a", a), ("b", b)))
    )
    seqs = [r[0] for r in results]
    assert None not in seqs and len(set(seqs)) == 40
    rows = await a.inbox.query(Query(limit=100))
    assert [r.seq for r in rows] == sorted(seqs)  # type: ignore[type-var]


async def test_the_audit_log(open_backend: Opener) -> None:
    store = open_backend()
    one = await store.audit.start(AuditStart(100.0, "default", "waha_send_message", "1@c.us", '{"text":"a"}', None))
    two = await store.audit.start(AuditStart(200.0, "work", "waha_send_message", "22@c.us", '{"text":"b"}', "bulk1"))
    three = await store.audit.start(AuditStart(300.0, "default", "waha_delete_chat", "1@c.us", "{}", "bulk1"))
    assert one < two < three
    store.audit.finish(one, 101.0, "ok", None, "true_1@c.us_X")
    store.audit.finish(three, 301.0, "error", "RuntimeError: no", None)
    rows = await store.audit.query(AuditFilter())  # waits for the queued outcomes
    assert [(r["id"], r["outcome"]) for r in rows] == [(three, "error"), (two, "started"), (one, "ok")]
    assert rows[2] == {
        "id": one, "started": 100.0, "finished": 101.0, "session": "default", "tool": "waha_send_message",
        "target": "1@c.us", "arguments": '{"text":"a"}', "outcome": "ok", "detail": None,
        "message_id": "true_1@c.us_X", "bulk_id": None,
    }  # fmt: skip
    q = store.audit.query
    assert [r["id"] for r in await q(AuditFilter(session="default"))] == [three, one]
    assert [r["id"] for r in await q(AuditFilter(tool="waha_delete_chat"))] == [three]
    assert [r["id"] for r in await q(AuditFilter(target="22@"))] == [two]  # a substring
    assert [r["id"] for r in await q(AuditFilter(outcome="started"))] == [two]
    assert [r["id"] for r in await q(AuditFilter(bulk_id="bulk1", limit=1))] == [three]
    assert [r["id"] for r in await q(AuditFilter(since=150.0))] == [three, two]
    other = open_backend()
    assert [r["outcome"] for r in await other.audit.query(AuditFilter())] == ["error", "started", "ok"]


async def test_a_bulk_run_knows_which_sessions_went_out(store: Store) -> None:
    for session, tool, outcome in (
        ("a", "waha_send_message", "ok"),
        ("b", "waha_send_message", "error"),
        ("c", "waha_send_message", None),  # interrupted: stays started
        ("d", "waha_send_text", "ok"),  # another tool
    ):
        row = await store.audit.start(AuditStart(1.0, session, tool, None, "{}", "run1"))
        if outcome:
            store.audit.finish(row, 2.0, outcome, None, None)
    await store.audit.start(AuditStart(1.0, "e", "waha_send_message", None, "{}", "run2"))
    assert await store.audit.finished_sessions("run1", "waha_send_message") == {"a": "ok", "c": "started"}
    assert await store.audit.finished_sessions("none", "waha_send_message") == {}


async def test_a_send_waiting_for_its_slot_has_not_gone_out(open_backend: Opener) -> None:
    """A paced send's row is `waiting` until it goes out (`sending`): a bulk run resumed after its process died
    while it waited sends it (nothing went out); once sending, it is `started` (outcome unknown if it dies)."""
    store = open_backend()
    held = await store.audit.start(AuditStart(1.0, "a", "waha_send_message", None, "{}", "run1", waiting=True))
    sent = await store.audit.start(AuditStart(1.0, "b", "waha_send_message", None, "{}", "run1", waiting=True))
    await store.audit.sending(sent)
    other = open_backend()  # another replica reads it
    assert await other.audit.finished_sessions("run1", "waha_send_message") == {"b": "started"}
    assert {r["id"]: r["outcome"] for r in await other.audit.query(AuditFilter())} == {held: "waiting", sent: "started"}
    store.audit.finish(sent, 2.0, "ok", None, None)
    await store.audit.query(AuditFilter())  # the queued outcome is recorded
    await store.audit.sending(sent)  # only a waiting row moves
    assert [r["outcome"] for r in await other.audit.query(AuditFilter(session="b"))] == ["ok"]


def _next(view: SlotView) -> Slot:
    """A rule for the tests: one slot a second after the latest, first contact when a chat is new."""
    at = max(view.now, view.last + 1) if view.last is not None else view.now
    return Slot(at=at, first=bool(set(view.chat_last) - view.known), tat=at + 1, remember=True)


async def test_pacing_hands_the_rule_the_session_state(store: Store) -> None:
    views: list[SlotView] = []

    def rule(view: SlotView) -> Slot:
        views.append(view)
        return _next(view)

    at1, rows1 = await store.pacing.reserve("s", "send", ["a", "b"], clock=lambda: 1000.0, keep=120, cap=5, decide=rule)
    assert at1 == 1000.0 and len(rows1) == 2
    at2, rows2 = await store.pacing.reserve("s", "send", ["a"], clock=lambda: 1000.0, keep=120, cap=5, decide=rule)
    assert at2 == 1001.0 and len(rows2) == 1
    await store.pacing.reserve(
        "other", "send", [], clock=lambda: 1000.0, keep=120, cap=5, decide=rule
    )  # another session
    first, second, third = views
    assert first == SlotView(1000.0, None, None, {"a": None, "b": None}, frozenset(), None, [])
    assert second == SlotView(1000.0, 1001.0, 1000.0, {"a": 1000.0}, frozenset({"a"}), 1000.0, [1000.0])
    assert third == SlotView(1000.0, None, None, {}, frozenset(), None, [])
    # A slot older than `keep` is dropped at the next reservation.
    await store.pacing.reserve("s", "send", ["a"], clock=lambda: 5000.0, keep=120, cap=5, decide=rule)
    assert views[-1].last is None and views[-1].chat_last == {"a": None} and views[-1].tat == 1002.0
    assert views[-1].known == {"a"}  # known chats stay known


async def test_a_refusing_rule_reserves_nothing(store: Store) -> None:
    def refuse(view: SlotView) -> Slot:
        raise LookupError("too long")

    with pytest.raises(LookupError):
        await store.pacing.reserve("s", "send", ["a"], clock=lambda: 1.0, keep=120, cap=5, decide=refuse)
    seen: list[SlotView] = []
    await store.pacing.reserve(
        "s", "send", ["a"], clock=lambda: 1.0, keep=120, cap=5, decide=lambda v: seen.append(v) or _next(v)
    )
    assert seen == [SlotView(1.0, None, None, {"a": None}, frozenset(), None, [])]


async def test_firing_a_slot(store: Store) -> None:
    _, rows = await store.pacing.reserve(
        "s", "send", ["a"], clock=lambda: 10.0, keep=120, cap=5, decide=lambda v: _next(v)
    )
    views: list[FireView] = []

    def wait(seconds: float) -> object:
        return lambda view: views.append(view) or seconds

    assert await store.pacing.fire("s", "send", rows, clock=lambda: 10.0, cap=5, decide=wait(2.5)) == 2.5
    assert await store.pacing.fire("s", "send", rows, clock=lambda: 12.5, cap=5, decide=wait(0)) == 0.0
    assert views[0] == FireView(10.0, ["a"], True, {"a": None}, None, [])  # nothing went out yet
    _, rows2 = await store.pacing.reserve(
        "s", "send", ["a"], clock=lambda: 13.0, keep=120, cap=5, decide=lambda v: _next(v)
    )
    await store.pacing.fire("s", "send", rows2, clock=lambda: 14.0, cap=5, decide=wait(0))
    assert views[-1] == FireView(14.0, ["a"], False, {"a": 12.5}, None, [12.5])
    store.pacing.done(rows2, 20.0)  # went out at 20: counts from then
    _, rows3 = await store.pacing.reserve(
        "s", "send", ["a"], clock=lambda: 21.0, keep=120, cap=5, decide=lambda v: _next(v)
    )
    await store.pacing.fire("s", "send", rows3, clock=lambda: 22.0, cap=5, decide=wait(0))
    assert views[-1].chat_fired == {"a": 20.0} and views[-1].recent_fired == [20.0, 12.5]


async def test_a_slot_is_never_granted_twice_across_instances(open_backend: Opener) -> None:
    """Two instances (processes, replicas) reserving at once: each sees every slot granted before it."""
    a, b = open_backend(), open_backend()

    async def take(store: Store) -> float:
        at, _ = await store.pacing.reserve(
            "s", "send", [], clock=lambda: 0.0, keep=10**9, cap=1, decide=lambda v: _next(v)
        )
        return at

    slots = await asyncio.gather(*(take(s) for _ in range(15) for s in (a, b)))
    assert sorted(slots) == [float(i) for i in range(30)]


async def test_the_clock_is_read_once_the_session_is_locked(open_backend: Opener) -> None:
    """A reservation that waited for another's lock does not decide on a clock read before it waited."""
    a, b = open_backend(), open_backend()
    ticks = itertools.count()
    decided: list[float] = []

    def rule(view: SlotView) -> Slot:
        decided.append(view.now)
        return _next(view)

    async def take(store: Store) -> None:
        await store.pacing.reserve("s", "send", [], clock=lambda: float(next(ticks)), keep=10**9, cap=1, decide=rule)

    await asyncio.gather(*(take(s) for _ in range(15) for s in (a, b)))
    assert decided == sorted(decided) and len(set(decided)) == 30


async def test_reopening_keeps_the_schema_version(open_backend: Opener) -> None:
    first = open_backend()
    assert first.version >= 1
    assert open_backend().version == first.version


async def test_a_store_from_a_newer_release_is_refused(open_backend: Opener, request: pytest.FixtureRequest) -> None:
    store = open_backend()
    if request.node.callspec.params["open_backend"] == "sqlite":
        store.write_sync(lambda db: db.execute("PRAGMA user_version = 999"))  # type: ignore[attr-defined]
    else:
        await store.run(lambda db: db.execute("INSERT INTO waha_mcp_schema VALUES (999)"))  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="schema version 999, written by a newer waha-mcp"):
        open_backend()


async def test_flush_writes_what_was_queued(open_backend: Opener) -> None:
    store, other = open_backend(), open_backend()
    row = await store.audit.start(AuditStart(1.0, "s", "t", None, "{}", None))
    _, slots = await store.pacing.reserve(
        "s", "send", ["a"], clock=lambda: 1.0, keep=120, cap=5, decide=lambda v: _next(v)
    )
    store.audit.finish(row, 2.0, "ok", None, "m1")
    store.pacing.done(slots, 7.0)
    await store.flush()
    assert [(r["outcome"], r["message_id"]) for r in await other.audit.query(AuditFilter())] == [("ok", "m1")]
    seen: list[SlotView] = []
    await other.pacing.reserve(
        "s", "send", ["a"], clock=lambda: 8.0, keep=120, cap=5, decide=lambda v: seen.append(v) or _next(v)
    )
    assert seen[0].chat_last == {"a": 7.0}


async def test_changes_signal_at_once_then_what_another_instance_stores(
    open_backend: Opener, request: pytest.FixtureRequest
) -> None:
    a, b = open_backend(), open_backend()
    signals = b.inbox.changes()
    try:
        await asyncio.wait_for(anext(signals), 10)  # the first one: listening, catch up
        nxt = asyncio.ensure_future(anext(signals))
        await a.inbox.add([event("from-a")], 1, None)
        if "postgres" in request.node.callspec.id:
            await asyncio.wait_for(nxt, 10)  # another replica's commit reaches this one
        else:
            # SQLite: one process writes; it publishes its own events, the store has nothing to signal.
            await asyncio.sleep(0.3)
            assert not nxt.done()
        nxt.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await nxt
    finally:
        await signals.aclose()


async def test_a_slot_given_back_counts_for_nothing(store: Store) -> None:
    """A send that did not go out: its rows go, its first contact is forgotten, the bucket moves back."""
    views: list[SlotView] = []

    def rule(view: SlotView) -> Slot:
        views.append(view)
        return _next(view)

    _, kept = await store.pacing.reserve("s", "send", ["a"], clock=lambda: 100.0, keep=120, cap=5, decide=rule)
    _, rows = await store.pacing.reserve("s", "send", ["b"], clock=lambda: 100.0, keep=120, cap=5, decide=rule)
    assert views[-1].tat == 101.0 and views[-1].known == frozenset()
    await store.pacing.release("s", "send", rows, clock=lambda: 100.0, interval=1.0)
    await store.pacing.reserve("s", "send", ["b"], clock=lambda: 100.0, keep=120, cap=5, decide=rule)
    after = views[-1]
    assert after.tat == 101.0  # one interval back: as if the given-back send had never been reserved
    assert after.chat_last == {"b": None} and after.known == frozenset()  # its slot and first contact are gone
    assert after.recent == [100.0] and after.last == 100.0  # the kept one still counts
    # The bucket never moves back before now.
    await store.pacing.release("s", "send", kept, clock=lambda: 500.0, interval=1000.0)
    await store.pacing.reserve("s", "send", ["c"], clock=lambda: 500.0, keep=1000, cap=5, decide=rule)
    assert views[-1].tat == 500.0


async def test_the_session_directory_is_shared_and_replaced_per_server(open_backend: Opener) -> None:
    store, other = open_backend(), open_backend()  # two replicas on one store
    assert await store.directory.load() == {}
    await store.directory.replace("a", ["s2", "s1", "s1"], 10.0)
    await store.directory.replace("b", ["s3"], 10.0)
    assert await other.directory.load() == {"a": ("s1", "s2"), "b": ("s3",)}
    # A later list replaces the server's whole list (s1 moved away from `a`); `b` keeps its own.
    await other.directory.replace("a", ["s2"], 11.0)
    await other.directory.replace("b", ["s1", "s3"], 11.0)
    assert await store.directory.load() == {"a": ("s2",), "b": ("s1", "s3")}
    # A server listed empty is known to hold nothing (not forgotten).
    await store.directory.replace("a", [], 12.0)
    assert await other.directory.load() == {"a": (), "b": ("s1", "s3")}
    await store.directory.replace("a", ["s9"], 13.0)
    assert await other.directory.load() == {"a": ("s9",), "b": ("s1", "s3")}


async def test_concurrent_replacements_of_one_server_leave_one_whole_list(open_backend: Opener) -> None:
    one, two = open_backend(), open_backend()
    lists = [[f"s{i}-{n}" for n in range(20)] for i in range(6)]
    await asyncio.gather(*((one if i % 2 else two).directory.replace("a", names, float(i)) for i, names in
                           enumerate(lists)))  # fmt: skip
    held = (await one.directory.load())["a"]
    assert list(held) in [sorted(names) for names in lists]  # never a mix of two lists


async def test_the_first_contact_is_the_send_to_the_chat_that_goes_out_first(store: Store) -> None:
    """Sends to one chat may go out in another order than their slots (a caller woken late, a cap that holds the
    earlier one): the first contact with the chat is whichever goes out first, and a first contact given back
    hands the flag to the chat's next pending send (seen in tests/e2e/test_replicas_waha.py: 32 sends at once)."""
    views: list[FireView] = []

    def go(view: FireView) -> float:
        views.append(view)
        return 0.0

    async def reserve(chat: str) -> list[int]:
        return (await store.pacing.reserve("s", "send", [chat], clock=lambda: 10.0, keep=120, cap=5, decide=_next))[1]

    earlier, later = await reserve("a"), await reserve("a")
    await store.pacing.fire("s", "send", later, clock=lambda: 11.0, cap=5, decide=go)
    assert views[-1].first is True  # nobody wrote to `a` yet: this send is the first contact
    await store.pacing.fire("s", "send", earlier, clock=lambda: 12.0, cap=5, decide=go)
    assert views[-1].first is False and views[-1].chat_fired == {"a": 11.0}
    await store.pacing.fire("s", "send", await reserve("c"), clock=lambda: 13.0, cap=5, decide=go)
    assert views[-1].first is True and views[-1].last_first_fired == 11.0  # the first contact went out at 11
    # A first contact given back: the chat's next pending send is its first contact, and the chat stays known.
    given_back, pending = await reserve("b"), await reserve("b")
    await store.pacing.release("s", "send", given_back, clock=lambda: 14.0, interval=1.0)
    await store.pacing.fire("s", "send", pending, clock=lambda: 15.0, cap=5, decide=go)
    assert views[-1].first is True and views[-1].last_first_fired == 13.0
    seen: list[SlotView] = []
    await store.pacing.reserve(
        "s", "send", ["b"], clock=lambda: 16.0, keep=120, cap=5, decide=lambda v: seen.append(v) or _next(v)
    )
    assert "b" in seen[-1].known


async def test_a_voice_note_is_claimed_by_one_of_many_concurrent_claimers(open_backend: Opener) -> None:
    """Replicas that all hear of one voice note claim it at once: exactly one wins (and transcribes it); the
    others, and every reader, see it pending with who holds it until when."""
    caches = [transcripts_for(open_backend()) for _ in range(4)]  # four replicas, several connections each
    until = time.time() + 300
    won = await asyncio.gather(
        *(caches[i % 4].claim("default", "m1", owner=f"replica-{i}", until=until) for i in range(20))
    )
    assert won.count(True) == 1
    held = await caches[1].get("default", "m1")
    assert held is not None and held.status == "pending" and held.retry_at == until
    assert held.owner == f"replica-{won.index(True)}"
    assert await caches[2].claim("default", "m1", owner="late", until=until, retry=True) is False  # a live claim
    assert await caches[0].claim("other", "m1", owner="x", until=until) is True  # keyed by session too
    # The winner's outcome replaces its claim; a transcript done is never claimed again, retry or not.
    done = Transcript("done", text="hello", engine="openai:whisper-1", at=time.time())
    await caches[3].put("default", "m1", done)
    assert await caches[0].get("default", "m1") == done
    assert await caches[0].claim("default", "m1", owner="x", until=until, retry=True) is False
    assert await caches[1].get("default", "m1") == done


async def test_an_expired_claim_and_a_failure_due_are_claimed_again(open_backend: Opener) -> None:
    one, two = transcripts_for(open_backend()), transcripts_for(open_backend())
    now = time.time()
    # A replica killed mid-transcription leaves its claim; once it expires, another takes the note over.
    assert await one.claim("s", "dead", owner="killed", until=now - 1) is True
    assert await two.claim("s", "dead", owner="alive", until=now + 300) is True
    assert await one.claim("s", "dead", owner="third", until=now + 300) is False
    assert (await one.get("s", "dead") or Transcript("done")).owner == "alive"
    # A failure is claimed again once its retry time has passed, or at once when retrying is asked; a failure
    # retried only when asked (retry_at None) waits for that.
    await one.mark_failed("s", "later", "rate-limiting (429)", retry_at=now + 600, engine="openai:whisper-1")
    assert await two.claim("s", "later", owner="b", until=now + 300) is False
    assert (await two.get("s", "later") or Transcript("done")).status == "failed"  # unchanged
    assert await two.claim("s", "later", owner="b", until=now + 300, retry=True) is True
    await one.mark_failed("s", "due", "timed out", retry_at=now - 1, engine=None)
    assert await two.claim("s", "due", owner="b", until=now + 300) is True
    assert await one.claim("s", "due", owner="a", until=now + 300) is False  # b holds it now
    await one.mark_failed("s", "asked", "not audio", retry_at=None, engine=None)
    assert await two.claim("s", "asked", owner="b", until=now + 300) is False
    assert await two.claim("s", "asked", owner="b", until=now + 300, retry=True) is True


async def test_a_claim_given_back_by_its_holder_is_free_at_once(open_backend: Opener) -> None:
    one, two = transcripts_for(open_backend()), transcripts_for(open_backend())
    until = time.time() + 300
    assert await one.claim("s", "m", owner="a", until=until) is True
    await two.release("s", "m", owner="b")  # not b's to give back
    assert (await two.get("s", "m") or Transcript("done")).owner == "a"
    await one.release("s", "m", owner="a")
    assert await two.get("s", "m") is None
    assert await two.claim("s", "m", owner="b", until=until) is True
    done = Transcript("done", text="hi", at=time.time())
    await two.put("s", "m", done)
    await two.release("s", "m", owner="b")  # an outcome is never given back
    assert await one.get("s", "m") == done
