"""Events: compact lines from the inbox (waha_mcp.events.summary), pages of them, a wait's outcome."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.events.inbox import Stored
from waha_mcp.projections.common import Time
from waha_mcp.transcribe.service import TranscriptView

# Functional form: the sender is `from`, a keyword. `from` is `me`, or the sender's id (a `@lid` as its phone
# id when the session knows it); `cursor` continues after this event.
Event = TypedDict(
    "Event",
    {
        "cursor": str,
        "id": str,
        "time": Time,
        "session": str,
        "event": str,
        "chatId": NotRequired[str],
        "from": NotRequired[str],
        "messageId": NotRequired[str],
        "text": NotRequired[str],
        "media": NotRequired[str],
        "status": NotRequired[str],
        "transcript": NotRequired[TranscriptView],  # a voice note's (waha_mcp.transcribe)
    },
)


class EventPage(TypedDict):
    events: list[Event]
    cursor: str  # the last event's cursor (or the one given): the next call continues from here
    more: bool
    note: NotRequired[str]  # why some events cannot arrive here (a WAHA whose /ws sends only session.status)


class Waited(TypedDict):
    matched: bool
    event: NotRequired[Event]
    cursor: str
    waited: float  # seconds
    note: NotRequired[str]


def event(row: Stored, phones: dict[str, str] | None = None) -> Event:
    """One inbox line; `phones` (LID → phone id) names a `@lid` sender by the number behind it."""
    out = row.compact()
    who = out.get("from")
    if who and phones and who in phones:
        out["from"] = phones[who]
    return cast(Event, out)


def event_page(
    rows: list[Stored], after: int, limit: int, phones: dict[str, str] | None = None, note: str | None = None
) -> EventPage:
    page = rows[:limit]
    out: EventPage = {
        "events": [event(r, phones) for r in page],
        "cursor": str(page[-1].seq) if page else str(after),
        "more": len(rows) > limit,
    }
    if note:
        out["note"] = note
    return out


def waited(
    row: Stored | None, cursor: int, seconds: float, phones: dict[str, str] | None = None, note: str | None = None
) -> Waited:
    if row is None:
        out: Waited = {"matched": False, "cursor": str(cursor), "waited": round(seconds, 2)}
        if note:
            out["note"] = note
        return out
    return {"matched": True, "event": event(row, phones), "cursor": str(row.seq), "waited": round(seconds, 2)}


class WebhookChange(TypedDict):
    session: str
    webhooks: int  # webhooks in the session's config after the change
    changed: bool


class WebhooksConfigured(TypedDict):
    url: str
    events: list[str]
    signed: bool  # an HMAC key (WAHA_MCP_WEBHOOK_HMAC_KEY) was set; the key itself is never shown
    sessions: list[WebhookChange]
    note: str


class InboxChat(TypedDict):
    session: str
    chatId: str
    name: NotRequired[str]
    unread: NotRequired[int | str]
    received: NotRequired[int]  # messages in the inbox (this server's store) from this chat
    last: NotRequired[str]
    time: NotRequired[Time]


class Inbox(TypedDict):
    chats: list[InboxChat]
    problems: NotRequired[list[str]]  # sessions whose chats WAHA could not list
    # events received since start, by outcome: stored, duplicate, stale, unknownEvent, unknownSession, webhook<status>
    received: NotRequired[dict[str, int]]


RESTART_NOTE = "WAHA restarts a session to apply a config change: it reconnects within seconds"


def webhooks_configured(url: str, events: list[str], signed: bool, changes: list[WebhookChange]) -> WebhooksConfigured:
    return {"url": url, "events": events, "signed": signed, "sessions": changes, "note": RESTART_NOTE}


def webhook_change(session: str, webhooks: int, changed: bool) -> WebhookChange:
    return {"session": session, "webhooks": webhooks, "changed": changed}


def inbox(chats: list[InboxChat], problems: list[str], counters: dict[str, int] | None = None) -> Inbox:
    """Unread conversations first, then the most recent."""
    ordered = sorted(chats, key=lambda c: c.get("time") or "", reverse=True)
    ordered.sort(key=lambda c: 0 if c.get("unread") else 1)
    out: Inbox = {"chats": ordered}
    if problems:
        out["problems"] = problems
    if counters:
        out["received"] = counters
    return out


def inbox_chat(session: str, chat: dict[str, Any], received: dict[str, Any] | None) -> InboxChat:
    out: dict[str, Any] = {"session": session, "chatId": chat.get("id") or (received or {}).get("chatId")}
    for key in ("name", "unread", "last", "time"):
        if chat.get(key) is not None:
            out[key] = chat[key]
    if received:
        out["received"] = received["received"]
        last = received["last"]
        if "last" not in out and last.get("text"):
            out["last"] = last["text"]
        if "time" not in out or last["time"] > out["time"]:
            out["time"] = last["time"]
    return cast(InboxChat, out)
