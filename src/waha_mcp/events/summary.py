"""One normalised line per WAHA event: who, where, what, for filters, waiters and compact results.

Each event name has a small reader (`READERS`); the envelope fields every event has are read once in
`summarise`. WAHA Core before 2026 sends no envelope `id` (nor `timestamp`): such an event gets a content
digest as its id (`derived_id`), so a copy arriving twice (by webhook and by /ws) is stored once.

The envelope is kept whole beside it (`inbox.py`); this is only what an agent scans and what the
store indexes: session, event, chat, sender (a `@lid` shown as its phone id when the session's
`LidCache` knows it, as everywhere else), text preview, message id, media kind, status.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waha_mcp.people import LidCache, is_lid, phone_id
from waha_mcp.projections.common import obj, serialized_id, short
from waha_mcp.projections.media import message_media
from waha_mcp.projections.sessions import message_capping, reachout_timelock
from waha_mcp.times import iso

PREVIEW = 160
# The event names WAHA 2026.x sends (API.md); anything else is stored and counted as unknown.
KNOWN_EVENTS = frozenset(
    "session.status message message.reaction message.any message.ack message.ack.group message.waiting "
    "message.revoked message.edited state.change group.join group.leave group.v2.join group.v2.leave "
    "group.v2.update group.v2.participants presence.update poll.vote poll.vote.failed chat.archive "
    "call.received call.accepted call.rejected label.upsert label.deleted label.chat.added "
    "label.chat.deleted event.response event.response.failed engine.event "
    "group.v2.participants.join-request".split()  # WAHA 2026.8.2
)
GAP = "waha-mcp.gap"  # our own marker: the stream was down, events in this span may be missing
MESSAGE_EVENTS = frozenset({"message", "message.any", "message.edited", "message.revoked"})


class BadEnvelope(ValueError):
    """Not a WAHA event envelope (no session or event name)."""


@dataclass(frozen=True)
class Summary:
    id: str
    ts: int  # ms, as WAHA stamped it
    session: str
    event: str
    chat: str | None = None
    sender: str | None = None
    message_id: str | None = None
    text: str | None = None
    media: str | None = None
    from_me: bool = False
    status: str | None = None  # session.status, ack names, call/presence states

    def compact(self, seq: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"cursor": str(seq)} if seq is not None else {}
        out |= {"id": self.id, "time": iso(self.ts), "session": self.session, "event": self.event}
        for key, value in (
            ("chatId", self.chat),
            ("from", "me" if self.from_me else self.sender),
            ("messageId", self.message_id),
            ("text", self.text),
            ("media", self.media),
            ("status", self.status),
        ):
            if value is not None:
                out[key] = value
        return out


def _id(value: Any) -> str | None:
    found = serialized_id(value)
    return found[:200] if found else None


def _sender(session: str, raw: str | None, payload: dict[str, Any], lids: LidCache | None) -> str | None:
    """The phone id behind a `@lid` when known: from the payload's alternate ids, else the session's cache."""
    if not is_lid(raw):
        return raw
    data = payload.get("_data")
    key = data.get("key") if isinstance(data, dict) else None
    for alt in (
        (key or {}).get("participantAlt") if isinstance(key, dict) else None,
        (key or {}).get("remoteJidAlt") if isinstance(key, dict) else None,
        (key or {}).get("senderPn") if isinstance(key, dict) else None,
    ):
        pn = phone_id(alt) if isinstance(alt, str) and not is_lid(alt) else None
        if pn:
            if lids is not None and raw is not None:
                lids.put(session, raw, pn)
            return pn
    if lids is not None and raw is not None:
        cached, pn = lids.known(session, raw)
        if cached and pn:
            return pn
    return raw


def _timelock_note(payload: dict[str, Any]) -> str | None:
    """WhatsApp's reach-out timelock, when a status event carries it (`data.reachoutTimelock`)."""
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("reachoutTimelock"), dict):
        return None
    lock = reachout_timelock(payload)
    if lock is None:
        return "reach-out timelock lifted"
    until = f" until {lock['untilTime']}" if lock.get("untilTime") else ""
    return f"reach-out timelock{until}: {lock['effect']}"


def _capping_note(envelope: dict[str, Any]) -> str | None:
    """WhatsApp's new-chat quota, when a status event's `me.messageCapping` warns of it (WAHA 2026.8.1+)."""
    capping = message_capping(envelope)
    if capping is None:
        return None
    used = f" ({capping['used']}/{capping['total']} used)" if "used" in capping and "total" in capping else ""
    until = f" until {capping['cycleEndTime']}" if capping.get("cycleEndTime") and capping["status"] == "CAPPED" else ""
    return f"message capping {capping['status']}{used}{until}"


Fields = dict[str, Any]
Reader = Callable[[str, dict[str, Any], dict[str, Any], "LidCache | None"], Fields]
_SPECIAL = ("@g.us", "@newsletter", "@broadcast")  # a chat that is never a person: it is the chat when present


def _me(envelope: dict[str, Any]) -> str | None:
    me = envelope.get("me")
    return _id(me.get("id")) if isinstance(me, dict) else None


def _same_person(a: str, b: str | None) -> bool:
    return bool(b) and a.split("@")[0].split(":")[0] == (b or "").split("@")[0].split(":")[0]


def _chat(p: dict[str, Any], me: str | None) -> str | None:
    """The chat a message (or its ack) belongs to, whichever engine sent it.

    NOWEB puts the chat in `from` for every message, mine too, and `to`/`participant` only in groups
    (`getFromToParticipant`, src/core/engines/noweb/session.noweb.core.ts); GOWS the chat in `from` and, in
    groups, the sender as both `to` and `participant` (session.gows.core.ts); WEBJS me in `from` and the chat
    in `to` for my own messages. So: a group, channel or broadcast id wins; else the first of (`to`, `from`)
    for mine, (`from`, `to`) for others', that is not me; else whatever is there.
    """
    ends = (_id(p.get("from")), _id(p.get("to")))
    for found in ends:
        if found and found.endswith(_SPECIAL):
            return found
    order = (ends[1], ends[0]) if p.get("fromMe") else ends
    present = [c for c in order if c]
    return next((c for c in present if not (me and _same_person(c, me))), present[0] if present else None)


def _message(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    from_me = bool(p.get("fromMe"))
    who = None if from_me else (_id(p.get("author")) or _id(p.get("participant")) or _id(p.get("from")))
    media = message_media(p) if p.get("hasMedia") else None
    return {
        "chat": _chat(p, _me(e)),
        "message_id": _id(p.get("id")),
        "from_me": from_me,
        "sender": _sender(e["session"], who, p, lids),
        "text": short(p.get("body"), PREVIEW),
        "media": media.get("type") if media else None,
    }


def _ack(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    # An ack is about a message I sent (`fromMe` true), or in groups someone's read of it: no sender shown.
    return {
        "chat": _chat(p, _me(e)),
        "message_id": _id(p.get("id")),
        "from_me": bool(p.get("fromMe")),
        "status": str(p.get("ackName") or p.get("ack") or "") or None,
    }


def _revoked(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    """`message.revoked` is `{after, before, revokedMessageId?}` (WAMessageRevokedBody): `before` is the message
    as it was (null when WAHA never had it), `after` the revoke notice; older shapes sent a message itself."""
    if "after" not in p and "before" not in p:
        return _message(event, p, e, lids)
    before = p.get("before") if isinstance(p.get("before"), dict) else None
    after = p.get("after") if isinstance(p.get("after"), dict) else None
    shown = _message(event, before or after or {}, e, lids)
    shown["message_id"] = _id(p.get("revokedMessageId")) or _id((before or {}).get("id")) or shown["message_id"]
    if before is None:
        shown["text"] = None  # the notice's own body says nothing about what was deleted
    return shown


def _reaction(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    from_me = bool(p.get("fromMe"))
    reaction = obj(p.get("reaction"))
    who = None if from_me else (_id(p.get("participant")) or _id(p.get("from")))
    return {
        "chat": _chat(p, _me(e)),
        "sender": _sender(e["session"], who, p, lids),
        "message_id": _id(reaction.get("messageId")),
        "text": short(reaction.get("text"), 20),
        "from_me": from_me,
    }


def _status(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    notes = [note for note in (_timelock_note(p), _capping_note(e)) if note]
    return {"status": str(p.get("status") or "") or None, "text": "; ".join(notes) or None}


def _join_request(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    # waha-docs events-group.v2.participants.join-request.md: action created | rejected | revoked
    group = obj(p.get("group"))
    who = _id(p.get("requesterPn")) or _id(p.get("requesterId"))
    return {"chat": _id(group.get("id")), "sender": who, "status": str(p.get("action") or "") or None}


def _group(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    group = obj(p.get("group")) or p
    return {"chat": _id(group.get("id")), "status": str(p.get("type") or "") or None}


def _call(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    return {"chat": _id(p.get("from")), "sender": _id(p.get("from")), "status": event.split(".", 1)[1]}


def _presence(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    presences = p.get("presences")
    first = presences[0] if isinstance(presences, list) and presences and isinstance(presences[0], dict) else {}
    return {"chat": _id(p.get("id")), "status": str(first.get("lastKnownPresence") or "") or None}


def _label_chat(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    return {"chat": _id(p.get("chatId"))}


def _archive(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    return {"chat": _id(p.get("id")), "status": "archived" if p.get("archived") else "unarchived"}


def _vote(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    vote = obj(p.get("vote"))
    return {"chat": _id(vote.get("to")), "sender": _id(vote.get("from")), "message_id": _id(vote.get("id"))}


def _gap(event: str, p: dict[str, Any], e: dict[str, Any], lids: LidCache | None) -> Fields:
    return {"text": short(p.get("reason"), PREVIEW)}


# Exact names first; then the first prefix that matches (`message.ack.group`, `group.v2.leave`, `call.*`).
READERS: dict[str, Reader] = {
    "message": _message,
    "message.any": _message,
    "message.edited": _message,
    "message.revoked": _revoked,
    "message.reaction": _reaction,
    "session.status": _status,
    "chat.archive": _archive,
    "presence.update": _presence,
    "group.v2.participants.join-request": _join_request,
    GAP: _gap,
}
PREFIX_READERS: tuple[tuple[str, Reader], ...] = (
    ("message.ack", _ack),
    ("group.", _group),
    ("call.", _call),
    ("label.chat", _label_chat),
    ("poll.vote", _vote),
)


def _reader(event: str) -> Reader | None:
    found = READERS.get(event)
    if found is not None:
        return found
    return next((reader for prefix, reader in PREFIX_READERS if event.startswith(prefix)), None)


def derived_id(envelope: dict[str, Any], received_ms: int) -> str:
    """An id for an envelope WAHA sent without one (Core: src/core/webhooks.core.ts builds `{event, session,
    metadata, me, payload, engine, environment}`, no id or timestamp; its /ws sends the same).

    Stable across a second copy of the same event: session + event + the payload's id (+ the ack level, + an
    edit's text). A payload without an id (session.status…) is digested whole, with the minute it arrived in,
    so a NOWEB session re-sending an identical `STARTING` every 2 s is stored once a minute, and the same
    status reached again later is stored again.
    """
    p = envelope.get("payload")
    payload: dict[str, Any] = p if isinstance(p, dict) else {}
    key: list[Any] = [envelope.get("session"), envelope.get("event")]
    before = obj(payload.get("before"))
    mid = _id(payload.get("id")) or _id(payload.get("revokedMessageId")) or _id(before.get("id"))
    reaction = obj(payload.get("reaction"))
    if mid:
        edit = payload.get("body") if envelope.get("event") == "message.edited" else None
        key += [mid, payload.get("ack"), edit, reaction.get("messageId"), reaction.get("text")]
    else:
        key += [payload, received_ms // 60_000]
    raw = json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "dg_" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def summarise(envelope: Any, lids: LidCache | None = None) -> Summary:
    """The summary of one envelope; `BadEnvelope` when it is not one. An envelope without `id` (WAHA Core)
    gets `derived_id`; one without `timestamp` is stamped with the time it arrived."""
    if not isinstance(envelope, dict):
        raise BadEnvelope("the event is not a JSON object")
    eid, session, event = envelope.get("id"), envelope.get("session"), envelope.get("event")
    if eid is not None and not (isinstance(eid, str) and eid and len(eid) <= 200):
        raise BadEnvelope("the event's `id` is not a short string")
    if not (isinstance(session, str) and session and len(session) <= 64):
        raise BadEnvelope("the event has no `session`")
    if not (isinstance(event, str) and event and len(event) <= 64):
        raise BadEnvelope("the event has no `event` name")
    now = int(time.time() * 1000)
    ts = envelope.get("timestamp")
    ts_ms = int(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) and ts > 0 else now
    payload = envelope.get("payload")
    reader = _reader(event)
    fields = reader(event, payload if isinstance(payload, dict) else {}, envelope, lids) if reader else {}
    return Summary(id=eid or derived_id(envelope, now), ts=ts_ms, session=session, event=event, **fields)
