"""Messages: what was said (who, when, what, reply, media, ack), what was sent, what was done to one."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, Required, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import QUOTE_CHARS, Time, drop_empty, iso, serialized_id, short, unix_time
from waha_mcp.projections.media import MediaSummary, message_media

ACK_NAMES = {-1: "error", 0: "pending", 1: "sent", 2: "delivered", 3: "read", 4: "played"}
# WAHA's `filter.ack` values, by the names the tools use.
ACK_FILTER = {
    "error": "ERROR",
    "pending": "PENDING",
    "sent": "SERVER",
    "delivered": "DEVICE",
    "read": "READ",
    "played": "PLAYED",
}


class ReplyTo(TypedDict):
    id: NotRequired[str]  # as WAHA quotes it: the bare id, not always a full messageId
    text: NotRequired[str]


# `from` is a keyword, hence the functional form.
_Said = TypedDict(
    "_Said",
    {
        "time": Time,
        "from": Required[str],  # me, a contact's name, or the sender's id
        "text": str,
        "event": str,  # a system message (no text): its WhatsApp stub type
        "replyTo": ReplyTo,
        "media": MediaSummary,
        "ack": str,  # error | pending | sent | delivered | read | played
        "edited": bool,
    },
    total=False,
)


class Message(_Said, total=False):
    """A message in a list."""

    id: str


class MessageDetail(_Said, total=False):
    """One message on its own: its chat and id by name."""

    chatId: Required[str]
    messageId: str


class MessageList(TypedDict):
    chatId: str
    messages: list[Message]
    nextOffset: int | None
    people: NotRequired[dict[str, str]]  # in groups: sender name → id (the phone id for a known LID)


class Sent(TypedDict):
    messageId: NotRequired[str]
    chatId: str
    time: NotRequired[Time]
    sent: NotRequired[bool]  # WAHA accepted it but named no id


class MediaSent(Sent):
    type: str  # image | video | file


class VoiceSent(Sent):
    converted: bool


class PollSent(Sent):
    options: int


class ListSent(Sent):
    rows: list[str]


class EventSent(Sent):
    startTime: Time


class Forwarded(Sent):
    forwardedMessageId: str


class PollVoted(TypedDict):
    pollMessageId: str
    chatId: str
    votes: list[str]


class Reacted(TypedDict):
    messageId: str
    reaction: str | None
    removed: bool


class Starred(TypedDict):
    messageId: str
    chatId: str
    starred: bool


class Seen(TypedDict):
    chatId: str
    seen: int | Literal["all"]


class MessagePinned(TypedDict):
    chatId: str
    messageId: str
    pinned: str | bool  # the duration, or false once unpinned


class MessageEdited(TypedDict):
    chatId: str
    messageId: str
    edited: bool
    text: str


class NewMessageId(TypedDict):
    messageId: str  # WhatsApp's own id part, not yet any message's


class MessageDeleted(TypedDict):
    chatId: str
    messageId: str
    deleted: bool


def _edited(raw: Any) -> bool:
    if not isinstance(raw, dict):
        return False
    if raw.get("latestEditMsgKey") or raw.get("latestEditSenderTimestampMs"):
        return True
    content = raw.get("message")
    return isinstance(content, dict) and "editedMessage" in content


def sender(msg: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """`me`, else the contact's name when known, else the sender's id."""
    if msg.get("fromMe"):
        return "me"
    who = serialized_id(msg.get("author")) or serialized_id(msg.get("participant")) or serialized_id(msg.get("from"))
    who = who or "?"
    return (names or {}).get(who) or who


def contact_names(contacts: Any) -> dict[str, str]:
    """Contact id → the best name WAHA knows (address-book name, else push name)."""
    names: dict[str, str] = {}
    for contact in contacts if isinstance(contacts, list) else []:
        if not isinstance(contact, dict):
            continue
        cid = serialized_id(contact.get("id"))
        name = contact.get("name") or contact.get("pushname") or contact.get("notify") or contact.get("verifiedName")
        if cid and name:
            names[cid] = str(name)
    return names


def _said(msg: dict[str, Any], names: dict[str, str] | None) -> dict[str, Any]:
    raw = msg.get("_data")
    out: dict[str, Any] = {
        "time": iso(msg.get("timestamp")),
        "from": sender(msg, names),
        "text": msg.get("body") or None,
    }
    if not out["text"] and isinstance(raw, dict) and raw.get("messageStubType"):
        out["event"] = str(raw["messageStubType"]).lower()
    reply = msg.get("replyTo")
    if isinstance(reply, dict) and reply.get("id"):
        out["replyTo"] = drop_empty({"id": reply.get("id"), "text": short(reply.get("body"), QUOTE_CHARS)})
    out["media"] = message_media(msg)
    ack = msg.get("ack")
    out["ack"] = ACK_NAMES.get(ack) if isinstance(ack, int) and not isinstance(ack, bool) else None
    if _edited(raw):
        out["edited"] = True
    return drop_empty(out)


def message(msg: dict[str, Any], names: dict[str, str] | None = None) -> Message:
    """A WAMessage without `_data` or repeated fields: who, when, what, reply, media, ack."""
    return cast(Message, drop_empty({"id": serialized_id(msg.get("id"))}) | _said(msg, names))


def message_detail(msg: dict[str, Any], chat_id: str, names: dict[str, str] | None = None) -> MessageDetail:
    ids = {"chatId": chat_id} | drop_empty({"messageId": serialized_id(msg.get("id"))})
    return cast(MessageDetail, ids | _said(msg, names))


def message_list(
    chat_id: str,
    items: list[dict[str, Any]],
    names: dict[str, str],
    next_offset: int | None,
    group: bool,
    phones: dict[str, str] | None = None,
) -> MessageList:
    """`names`: id → how to show a sender; `phones`: LID → phone id, for the `people` a group lists."""
    out: MessageList = {"chatId": chat_id, "messages": [message(m, names) for m in items], "nextOffset": next_offset}
    if group:
        senders = {sender(m, names): (phones or {}).get(sender(m), sender(m)) for m in items if not m.get("fromMe")}
        people = {name: who for name, who in senders.items() if name != who}
        if people:
            out["people"] = people
    return out


def sent(message: Any, chat_id: str) -> Sent:
    """A message WAHA just sent → `{messageId, chatId, time}`, whatever the engine's shape (WAMessage,
    WEBJS `{id: {_serialized}}`, NOWEB proto `{key: {fromMe, id}, messageTimestamp}`)."""
    if not isinstance(message, dict):
        return {"chatId": chat_id, "sent": True}
    mid = message.get("id")
    if isinstance(mid, dict):
        mid = mid.get("_serialized") or mid.get("id")
    key = message.get("key")
    if not mid and isinstance(key, dict) and key.get("id"):
        mid = f"{'true' if key.get('fromMe', True) else 'false'}_{chat_id}_{key['id']}"
    stamp = unix_time(message.get("timestamp", message.get("messageTimestamp")))
    out = drop_empty(
        {"messageId": mid if isinstance(mid, str) else None, "chatId": chat_id, "time": iso(stamp) if stamp else None}
    )
    # An answer without an id still means WAHA accepted the message.
    return cast(Sent, out if out.get("messageId") else out | {"sent": True})


def media_sent(message: Any, chat_id: str, kind: str) -> MediaSent:
    return cast(MediaSent, sent(message, chat_id) | {"type": kind})


def voice_sent(message: Any, chat_id: str, converted: bool) -> VoiceSent:
    return cast(VoiceSent, sent(message, chat_id) | {"converted": converted})


def poll_sent(message: Any, chat_id: str, options: int) -> PollSent:
    return cast(PollSent, sent(message, chat_id) | {"options": options})


def list_sent(message: Any, chat_id: str, rows: list[str]) -> ListSent:
    return cast(ListSent, sent(message, chat_id) | {"rows": rows})


def event_sent(message: Any, chat_id: str, start: int) -> EventSent:
    return cast(EventSent, sent(message, chat_id) | {"startTime": iso(start)})


def forwarded(message: Any, chat_id: str, source: str) -> Forwarded:
    return cast(Forwarded, sent(message, chat_id) | {"forwardedMessageId": source})


def poll_voted(poll_id: str, chat_id: str, votes: list[str]) -> PollVoted:
    return {"pollMessageId": poll_id, "chatId": chat_id, "votes": votes}


def reacted(message_id: str, emoji: str) -> Reacted:
    return {"messageId": message_id, "reaction": emoji or None, "removed": not emoji}


def starred(message_id: str, chat_id: str, star: bool) -> Starred:
    return {"messageId": message_id, "chatId": chat_id, "starred": star}


def seen(chat_id: str, message_ids: list[str]) -> Seen:
    return {"chatId": chat_id, "seen": len(message_ids) if message_ids else "all"}


def message_pinned(chat_id: str, message_id: str, pinned: str | bool) -> MessagePinned:
    return {"chatId": chat_id, "messageId": message_id, "pinned": pinned}


def message_edited(chat_id: str, message_id: str, text: str) -> MessageEdited:
    return {"chatId": chat_id, "messageId": message_id, "edited": True, "text": short(text) or ""}


def message_deleted(chat_id: str, message_id: str) -> MessageDeleted:
    return {"chatId": chat_id, "messageId": message_id, "deleted": True}


def new_message_id(answer: Any) -> NewMessageId:
    return {"messageId": str(answer.get("id") or "") if isinstance(answer, dict) else ""}
