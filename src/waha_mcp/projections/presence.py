"""Presence: who is online or typing, and your own state."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import Time, drop_empty, iso


class Person(TypedDict, total=False):
    id: str
    state: str  # online | offline | typing | recording | paused
    lastSeenTime: Time


class ChatPresence(TypedDict):
    chatId: str
    people: list[Person]


class Presences(TypedDict, total=False):
    """One chat's presence (chatId given), or every subscribed chat's."""

    chatId: str
    people: list[Person]
    chats: list[ChatPresence]


class PresenceSet(TypedDict):
    presence: str
    chatId: NotRequired[str]


class PresenceSubscribed(TypedDict):
    chatId: str
    subscribed: bool


def presence_of(item: Any, chat_id: str | None = None) -> ChatPresence | None:
    """`WAHAChatPresences` → {chatId, people: [{id, state, lastSeenTime}]}; `chat_id` when WAHA names none."""
    if not isinstance(item, dict) or not (item.get("id") or chat_id):
        return None
    people = [
        cast(
            Person,
            drop_empty(
                {
                    "id": entry.get("participant"),
                    "state": entry.get("lastKnownPresence"),
                    "lastSeenTime": iso(entry.get("lastSeen")) if entry.get("lastSeen") else None,
                }
            ),
        )
        for entry in item.get("presences") or []
        if isinstance(entry, dict)
    ]
    return {"chatId": str(item.get("id") or chat_id), "people": people}


def chat_presence(item: Any, chat_id: str) -> Presences:
    return cast(Presences, presence_of(item, chat_id) or {"chatId": chat_id, "people": []})


def presences(items: Any) -> Presences:
    found = [presence_of(i) for i in items] if isinstance(items, list) else []
    return {"chats": [p for p in found if p]}


def presence_set(presence: str, chat_id: str | None) -> PresenceSet:
    return {"presence": presence, "chatId": chat_id} if chat_id else {"presence": presence}


def presence_subscribed(chat_id: str) -> PresenceSubscribed:
    return {"chatId": chat_id, "subscribed": True}
