"""The inbox: stored once by envelope id, summarised, filtered by cursor, pruned by age and count."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from waha_mcp.events import BadEnvelope, Events, Query, summarise
from waha_mcp.events import inbox as inbox_module
from waha_mcp.people import LidCache
from waha_mcp.store import SQLiteStore, Store


def envelope(eid: str, event: str = "message", session: str = "default", **payload: Any) -> dict[str, Any]:
    body = {"id": "false_111@c.us_A", "from": "111@c.us", "to": "999@c.us", "fromMe": False, "body": "hi"} | payload
    return {"id": eid, "timestamp": int(time.time() * 1000), "session": session, "engine": "NOWEB",
            "event": event, "payload": body}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = SQLiteStore(tmp_path / "inbox.sqlite3")
    yield s
    s.close()


async def test_an_envelope_is_stored_once_by_id(store: Store) -> None:
    events = Events(store)
    first = await events.ingest.accept(envelope("evt_1"), "webhook")
    again = await events.ingest.accept(envelope("evt_1"), "webhook")
    assert first.new and not again.new and again.seq is None
    assert await events.inbox.count() == 1
    assert events.ingest.stats() == {"stored": 1, "duplicate": 1}
    # Durable: another connection sees it with the whole envelope.
    db = sqlite3.connect(store.path)
    (raw,) = db.execute("SELECT envelope FROM inbox_events WHERE id = 'evt_1'").fetchone()
    assert '"body":"hi"' in raw
    db.close()


async def test_concurrent_duplicates_in_one_batch_store_one_row(store: Store) -> None:
    events = Events(store)
    outcomes = await asyncio.gather(*(events.ingest.accept(envelope("evt_same"), "webhook") for _ in range(20)))
    assert sum(o.new for o in outcomes) == 1
    assert await events.inbox.count() == 1


def test_message_summary_names_chat_sender_text_and_media() -> None:
    s = summarise(envelope("evt_1", body="a " * 200, hasMedia=True, media={"mimetype": "image/jpeg"}))
    assert (s.session, s.event, s.chat, s.sender, s.message_id, s.media) == (
        "default", "message", "111@c.us", "111@c.us", "false_111@c.us_A", "image",
    )  # fmt: skip
    assert s.text is not None and len(s.text) <= 160 and s.text.endswith("…")
    mine = summarise(envelope("evt_2", "message.any", fromMe=True, to="222@c.us", id="true_222@c.us_B"))
    assert mine.chat == "222@c.us" and mine.from_me and mine.compact()["from"] == "me"


def test_group_sender_lid_is_resolved_from_the_cache_or_the_payload() -> None:
    lids = LidCache()
    lids.put("default", "555@lid", "4915@c.us")
    s = summarise(envelope("evt_1", **{"from": "123@g.us", "participant": "555@lid"}), lids)
    assert (s.chat, s.sender) == ("123@g.us", "4915@c.us")
    other = summarise(envelope("evt_1", session="other", **{"from": "123@g.us", "participant": "555@lid"}), lids)
    assert other.sender == "555@lid"  # per session: another account may not know this LID
    alt = envelope("evt_2", **{"from": "123@g.us", "participant": "777@lid"})
    alt["payload"]["_data"] = {"key": {"participantAlt": "4977@s.whatsapp.net"}}
    assert summarise(alt, lids).sender == "4977@c.us"
    assert lids.known("default", "777@lid") == (True, "4977@c.us")


def test_other_event_summaries() -> None:
    status = summarise({"id": "e", "session": "s", "event": "session.status", "payload": {"status": "FAILED"}})
    assert status.status == "FAILED" and status.chat is None
    ack = summarise(envelope("e", "message.ack", ackName="READ", fromMe=True))
    assert ack.status == "READ" and ack.chat == "999@c.us"
    react = summarise(envelope("e", "message.reaction", reaction={"text": "👍", "messageId": "true_1@c.us_X"}))
    assert (react.text, react.message_id, react.chat) == ("👍", "true_1@c.us_X", "111@c.us")
    group = summarise({"id": "e", "session": "s", "event": "group.v2.join", "payload": {"group": {"id": "1@g.us"}}})
    assert group.chat == "1@g.us"


@pytest.mark.parametrize(
    "bad",
    [[], {"id": "e", "event": "message"}, {"id": "e", "session": "s"}, {"id": 7, "session": "s", "event": "m"}],
)
def test_not_an_envelope(bad: Any) -> None:
    with pytest.raises(BadEnvelope):
        summarise(bad)


def core(event: str = "message", session: str = "default", **payload: Any) -> dict[str, Any]:
    """An envelope as WAHA Core 2024.10 sends it (src/core/webhooks.core.ts): no id, no timestamp."""
    body = {"id": "false_111@c.us_A", "from": "111@c.us", "fromMe": False, "body": "hi"} | payload
    return {"event": event, "session": session, "me": {"id": "999@c.us", "pushName": "Me"}, "payload": body,
            "engine": "NOWEB", "environment": {"version": "2024.10.8", "tier": "CORE"}}  # fmt: skip


async def test_an_envelope_without_id_is_stored_once_by_its_content(store: Store) -> None:
    events = Events(store)
    first = await events.ingest.accept(core(), "webhook")
    again = await events.ingest.accept(core(), "ws")  # the same event by the other road
    other = await events.ingest.accept(core(id="false_111@c.us_B", body="second"), "webhook")
    assert first.new and not again.new and other.new
    assert first.summary.id.startswith("dg_") and first.summary.id != other.summary.id
    # Each ack level of one message is its own event; a repeated one is not.
    acks = [core("message.ack", ack=n, fromMe=True, id="true_111@c.us_C") for n in (1, 2, 2, 3)]
    stored = [(await events.ingest.accept(a, "webhook")).new for a in acks]
    assert stored == [True, True, False, True]
    # No id in the payload either (session.status): the payload itself, so NOWEB's STARTING every 2 s is one row.
    starting = [(await events.ingest.accept(core("session.status", status="STARTING", id=None), "ws")).new
                for _ in range(3)]  # fmt: skip
    assert starting == [True, False, False]
    assert await events.inbox.count() == 6


async def test_an_id_less_event_whose_payload_id_names_a_chat_or_label_is_told_apart_by_its_content(
    store: Store,
) -> None:
    """`presence.update`'s payload `id` is the chat (WAHAChatPresences), `chat.archive`'s the chat, `label.upsert`'s
    the label: each names what changed, not the change, so Core's id-less envelopes are told apart by content."""
    events = Events(store)

    def presence(state: str) -> dict[str, Any]:
        return core("presence.update", id="111@c.us", presences=[{"participant": "111@c.us",
                                                                  "lastKnownPresence": state}])  # fmt: skip

    stored = [(await events.ingest.accept(e, "ws")).new for e in (presence("typing"), presence("paused"),
                                                                   presence("typing"))]  # fmt: skip
    assert stored == [True, True, False]  # the third is the first again within its minute: one event
    labels = [core("label.upsert", id="1", name=name, color=1) for name in ("New", "Renamed")]
    assert [(await events.ingest.accept(e, "webhook")).new for e in labels] == [True, True]
    archive = [core("chat.archive", id="111@c.us", archived=flag) for flag in (True, False)]
    assert [(await events.ingest.accept(e, "webhook")).new for e in archive] == [True, True]


def test_my_own_messages_and_acks_name_their_chat_on_every_engine() -> None:
    # NOWEB (and GOWS): the chat in `from` for my messages too, `to`/`participant` only in groups.
    noweb_mine = summarise(core("message.any", fromMe=True, id="true_111@c.us_M", **{"from": "111@c.us"}))
    noweb_ack = summarise(core("message.ack", fromMe=True, ack=3, ackName="READ", id="true_111@c.us_M"))
    noweb_group_ack = summarise(core("message.ack", fromMe=True, ack=2, ackName="DEVICE",
                                     **{"from": "5@g.us", "to": "5@g.us", "participant": "999@c.us"}))  # fmt: skip
    # WEBJS: me in `from`, the chat in `to` for my own messages.
    webjs_mine = summarise(core("message.any", fromMe=True, **{"from": "999@c.us", "to": "111@c.us"}))
    webjs_in = summarise(core("message", **{"from": "111@c.us", "to": "999@c.us"}))
    webjs_group = summarise(core("message", author="222@c.us", **{"from": "5@g.us", "to": "999@c.us"}))
    chats = [s.chat for s in (noweb_mine, noweb_ack, noweb_group_ack, webjs_mine, webjs_in, webjs_group)]
    assert chats == ["111@c.us", "111@c.us", "5@g.us", "111@c.us", "111@c.us", "5@g.us"]
    assert noweb_ack.status == "READ" and noweb_ack.from_me and noweb_ack.sender is None
    assert webjs_group.sender == "222@c.us" and noweb_mine.compact()["from"] == "me"


def test_a_revoked_message_reads_before_and_after() -> None:
    before = {"id": "false_111@c.us_R", "from": "111@c.us", "fromMe": False, "body": "oops"}
    after = {"id": "false_111@c.us_N", "from": "111@c.us", "fromMe": False, "body": ""}
    s = summarise({"event": "message.revoked", "session": "default",
                   "payload": {"before": before, "after": after, "revokedMessageId": "R"}})  # fmt: skip
    assert (s.chat, s.message_id, s.text, s.sender) == ("111@c.us", "R", "oops", "111@c.us")
    unknown = summarise({"event": "message.revoked", "session": "default", "payload": {"before": None, "after": after}})
    assert (unknown.chat, unknown.text) == ("111@c.us", None)


async def test_unknown_events_and_sessions_are_stored_and_counted(store: Store) -> None:
    events = Events(store)
    events.ingest.known_sessions = {"default"}
    await events.ingest.accept(envelope("evt_1", "brand.new.event"), "webhook")
    await events.ingest.accept(envelope("evt_2", session="ghost"), "webhook")
    assert events.ingest.counters["unknownEvent"] == 1 and events.ingest.counters["unknownSession"] == 1
    assert await events.inbox.count() == 2


async def test_query_filters_and_cursor(store: Store) -> None:
    events = Events(store)
    await events.ingest.accept(envelope("evt_1"), "ws")
    await events.ingest.accept(envelope("evt_2", session="b", **{"from": "222@c.us"}), "ws")
    await events.ingest.accept({"id": "evt_3", "session": "b", "event": "session.status", "payload": {}}, "ws")
    await events.ingest.accept(envelope("evt_4", "group.v2.join"), "ws")
    ids = lambda rows: [r.summary.id for r in rows]  # noqa: E731
    assert ids(await events.inbox.query(Query(sessions=["b"]))) == ["evt_2", "evt_3"]
    assert ids(await events.inbox.query(Query(events=["message"]))) == ["evt_1", "evt_2"]
    assert ids(await events.inbox.query(Query(events=["group.*", "session.status"]))) == ["evt_3", "evt_4"]
    assert ids(await events.inbox.query(Query(chat="222@c.us"))) == ["evt_2"]
    first = await events.inbox.query(Query(limit=2))
    rest = await events.inbox.query(Query(after=first[-1].seq))
    assert ids(first) + ids(rest) == ["evt_1", "evt_2", "evt_3", "evt_4"]
    plan = await store.read(
        lambda db: db.execute(
            "EXPLAIN QUERY PLAN SELECT seq FROM inbox_events WHERE chat = ? AND seq > ?", ("x", 0)
        ).fetchall()
    )
    assert "inbox_events_chat" in str(plan)


async def test_retention_by_age_and_count(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_module, "PRUNE_EVERY", 5)
    events = Events(store, max_age_s=3600, max_count=3)
    old = envelope("evt_old") | {"timestamp": int(time.time() * 1000) - 7200_000}
    await events.ingest.accept(old, "webhook")
    for n in range(4):
        await events.ingest.accept(envelope(f"evt_{n}"), "webhook")
    # The fifth new event triggered pruning: the old one by age, then the oldest by count.
    left = [r.summary.id for r in await events.inbox.query(Query())]
    assert left == ["evt_1", "evt_2", "evt_3"]
    await events.ingest.accept(envelope("evt_4"), "webhook")
    assert await events.inbox.prune() == 1
    assert await events.inbox.count() == 3


async def test_a_failed_write_fails_every_caller_of_the_batch(store: Store) -> None:
    events = Events(store)
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await events.ingest.accept(envelope("evt_1"), "webhook")


async def test_waiters_each_see_every_new_event(store: Store) -> None:
    events = Events(store)
    a, b = events.waiters.open(), events.waiters.open()
    await events.ingest.accept(envelope("evt_1"), "ws")
    await events.ingest.accept(envelope("evt_1"), "ws")  # a duplicate is not news
    assert [s.summary.id for s in a.get_nowait()] == ["evt_1"] and a.empty()
    assert [s.summary.id for s in b.get_nowait()] == ["evt_1"] and b.empty()
    events.waiters.close(a)
    assert len(events.waiters) == 1


async def test_a_gap_marker_records_its_span(store: Store) -> None:
    events = Events(store)
    out = await events.ingest.gap("default", 1000, 5000, "WebSocket closed")
    (row,) = await events.inbox.query(Query(events=["waha-mcp.gap"]))
    assert row.seq == out.seq and row.summary.text == "WebSocket closed"
    assert (await events.inbox.envelope(row.summary.id))["payload"] == {
        "from": 1000,
        "to": 5000,
        "reason": "WebSocket closed",
    }
