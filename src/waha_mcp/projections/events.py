"""Events: compact lines from the inbox (waha_mcp.events.summary), pages of them, a wait's outcome."""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict

from waha_mcp.events.inbox import Stored
from waha_mcp.projections.common import Time

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
    },
)


class EventPage(TypedDict):
    events: list[Event]
    cursor: str  # the last event's cursor (or the one given): the next call continues from here
    more: bool


class Waited(TypedDict):
    matched: bool
    event: NotRequired[Event]
    cursor: str
    waited: float  # seconds


def event(row: Stored, phones: dict[str, str] | None = None) -> Event:
    """One inbox line; `phones` (LID → phone id) names a `@lid` sender by the number behind it."""
    out = row.compact()
    who = out.get("from")
    if who and phones and who in phones:
        out["from"] = phones[who]
    return out  # type: ignore[return-value]


def event_page(rows: list[Stored], after: int, limit: int, phones: dict[str, str] | None = None) -> EventPage:
    page = rows[:limit]
    return {
        "events": [event(r, phones) for r in page],
        "cursor": str(page[-1].seq) if page else str(after),
        "more": len(rows) > limit,
    }


def waited(row: Stored | None, cursor: int, seconds: float, phones: dict[str, str] | None = None) -> Waited:
    if row is None:
        return {"matched": False, "cursor": str(cursor), "waited": round(seconds, 2)}
    return {"matched": True, "event": event(row, phones), "cursor": str(row.seq), "waited": round(seconds, 2)}
