"""One normalised line per WAHA event: who, where, what, for filters, waiters and compact results.

The envelope is kept whole beside it (`inbox.py`); this is only what an agent scans and what the
store indexes: session, event, chat, sender (a `@lid` shown as its phone id when the session's
`LidCache` knows it, as everywhere else), text preview, message id, media kind, status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from waha_mcp.people import LidCache, is_lid, phone_id
from waha_mcp.projections.common import serialized_id, short
from waha_mcp.projections.media import message_media
from waha_mcp.projections.sessions import message_capping, reachout_timelock

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
    """Not a WAHA event envelope (no id, session or event)."""


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
        out |= {"id": self.id, "time": _iso_ms(self.ts), "session": self.session, "event": self.event}
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


def _iso_ms(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


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


def summarise(envelope: Any, lids: LidCache | None = None) -> Summary:
    """The summary of one envelope; `BadEnvelope` when it is not one."""
    if not isinstance(envelope, dict):
        raise BadEnvelope("the event is not a JSON object")
    eid, session, event = envelope.get("id"), envelope.get("session"), envelope.get("event")
    if not (isinstance(eid, str) and eid and len(eid) <= 200):
        raise BadEnvelope("the event has no `id`")
    if not (isinstance(session, str) and session and len(session) <= 64):
        raise BadEnvelope("the event has no `session`")
    if not (isinstance(event, str) and event and len(event) <= 64):
        raise BadEnvelope("the event has no `event` name")
    ts = envelope.get("timestamp")
    ts_ms = int(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) and ts > 0 else int(time.time() * 1000)
    payload = envelope.get("payload")
    p: dict[str, Any] = payload if isinstance(payload, dict) else {}
    fields: dict[str, Any] = {}
    if event in MESSAGE_EVENTS or event.startswith("message.ack"):
        from_me = bool(p.get("fromMe"))
        chat = _id(p.get("to") if from_me else p.get("from"))
        who = None if from_me else (_id(p.get("author")) or _id(p.get("participant")) or _id(p.get("from")))
        fields |= {"chat": chat, "message_id": _id(p.get("id")), "from_me": from_me}
        fields["sender"] = _sender(session, who, p, lids)
        if event.startswith("message.ack"):
            fields["status"] = str(p.get("ackName") or p.get("ack") or "") or None
        else:
            fields["text"] = short(p.get("body"), PREVIEW)
            media = message_media(p) if p.get("hasMedia") else None
            fields["media"] = media.get("type") if media else None
    elif event == "message.reaction":
        from_me = bool(p.get("fromMe"))
        reaction = p.get("reaction") if isinstance(p.get("reaction"), dict) else {}
        who = None if from_me else (_id(p.get("participant")) or _id(p.get("from")))
        fields |= {
            "chat": _id(p.get("to") if from_me else p.get("from")),
            "sender": _sender(session, who, p, lids),
            "message_id": _id(reaction.get("messageId")),
            "text": short(reaction.get("text"), 20),
            "from_me": from_me,
        }
    elif event == "session.status":
        fields["status"] = str(p.get("status") or "") or None
        notes = [note for note in (_timelock_note(p), _capping_note(envelope)) if note]
        fields["text"] = "; ".join(notes) or None
    elif event == "group.v2.participants.join-request":
        # waha-docs events-group.v2.participants.join-request.md: action created | rejected | revoked
        group = p.get("group") if isinstance(p.get("group"), dict) else {}
        who = _id(p.get("requesterPn")) or _id(p.get("requesterId"))
        fields |= {"chat": _id(group.get("id")), "sender": who, "status": str(p.get("action") or "") or None}
    elif event.startswith("group."):
        group = p.get("group") if isinstance(p.get("group"), dict) else p
        fields["chat"] = _id(group.get("id"))
        fields["status"] = str(p.get("type") or "") or None
    elif event.startswith("call."):
        fields |= {"chat": _id(p.get("from")), "sender": _id(p.get("from")), "status": event.split(".", 1)[1]}
    elif event == "presence.update":
        fields["chat"] = _id(p.get("id"))
        presences = p.get("presences")
        if isinstance(presences, list) and presences and isinstance(presences[0], dict):
            fields["status"] = str(presences[0].get("lastKnownPresence") or "") or None
    elif event.startswith("label.chat"):
        fields["chat"] = _id(p.get("chatId"))
    elif event == "chat.archive":
        fields |= {"chat": _id(p.get("id")), "status": "archived" if p.get("archived") else "unarchived"}
    elif event.startswith("poll.vote"):
        vote = p.get("vote") if isinstance(p.get("vote"), dict) else {}
        fields |= {"chat": _id(vote.get("to")), "sender": _id(vote.get("from")), "message_id": _id(vote.get("id"))}
    elif event == GAP:
        fields["text"] = short(p.get("reason"), PREVIEW)
    return Summary(id=eid, ts=ts_ms, session=session, event=event, **fields)
