"""Compact, secret-free views of WAHA payloads (the one place that shapes what the model reads)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from waha_mcp.redact import REDACTED


def iso(ts: float | int | None) -> str | None:
    """Unix seconds (or milliseconds) → ISO 8601 with offset."""
    if ts is None or isinstance(ts, bool):
        return None
    value = float(ts)
    if value > 1e11:  # milliseconds
        value /= 1000
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def redact_config(config: Any) -> Any:
    """Session config with webhook HMAC keys, proxy passwords and custom header values hidden."""
    if not isinstance(config, dict):
        return config
    out = copy.deepcopy(config)
    proxy = out.get("proxy")
    if isinstance(proxy, dict) and proxy.get("password"):
        proxy["password"] = REDACTED
    for hook in out.get("webhooks") or []:
        if not isinstance(hook, dict):
            continue
        hmac = hook.get("hmac")
        if isinstance(hmac, dict) and hmac.get("key"):
            hmac["key"] = REDACTED
        for header in hook.get("customHeaders") or []:
            if isinstance(header, dict) and "value" in header:
                header["value"] = REDACTED
    return drop_empty(out)


def me(info: Any) -> dict[str, Any] | None:
    if not isinstance(info, dict) or not info.get("id"):
        return None
    return drop_empty({"id": info.get("id"), "name": info.get("pushName"), "lid": info.get("lid")})


def session(info: dict[str, Any], *, with_config: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": info.get("name"), "me": me(info.get("me"))}
    if with_config:
        out["config"] = redact_config(info.get("config"))
        out["active"] = iso((info.get("timestamps") or {}).get("activity"))
    # status stays even when WAHA leaves it out: "unknown" tells more than a missing key.
    return drop_empty(out) | {"status": info.get("status") or "unknown"}


# --- chats, messages, presence -----------------------------------------------------------------------

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
PREVIEW_CHARS = 80
QUOTE_CHARS = 60


def short(text: Any, limit: int = PREVIEW_CHARS) -> str | None:
    """One line, at most `limit` characters (an ellipsis marks a cut)."""
    if not isinstance(text, str) or not text.strip():
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def chat_kind(chat_id: Any) -> str:
    cid = str(chat_id or "")
    if cid.endswith("@g.us"):
        return "group"
    if cid.endswith("@newsletter"):
        return "channel"
    if cid == "status@broadcast":
        return "status"
    if cid.endswith("@broadcast"):
        return "broadcast"
    return "person"


def serialized_id(value: Any) -> str | None:
    """WEBJS nests ids as `{_serialized: ...}`; NOWEB and GOWS use plain strings."""
    if isinstance(value, dict):
        value = value.get("_serialized") or value.get("id")
    return str(value) if value else None


_MEDIA_KINDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "documentWithCaptionMessage": "document",
    "stickerMessage": "sticker",
}


def _engine_media(raw: Any) -> dict[str, Any]:
    """Type, mimetype, filename and size from `_data` (NOWEB's `message.<x>Message`, or WEBJS fields)."""
    if not isinstance(raw, dict):
        return {}
    content = raw.get("message")
    if isinstance(content, dict) and isinstance(content.get("editedMessage"), dict):
        content = content["editedMessage"].get("message")
    if isinstance(content, dict):
        for key, kind in _MEDIA_KINDS.items():
            part = content.get(key)
            if isinstance(part, dict):
                if key == "documentWithCaptionMessage":
                    inner = ((part.get("message") or {}).get("documentMessage")) or {}
                    part = inner if isinstance(inner, dict) else {}
                if kind == "audio" and part.get("ptt"):
                    kind = "voice"
                size = part.get("fileLength")
                return {
                    "type": kind,
                    "mimetype": part.get("mimetype"),
                    "filename": part.get("fileName"),
                    "size": int(size) if str(size or "").isdigit() else None,
                }
    if raw.get("mimetype") or raw.get("size"):
        kind = {"ptt": "voice", "image": "image", "video": "video", "audio": "audio", "sticker": "sticker"}.get(
            str(raw.get("type")), "document"
        )
        return {"type": kind, "mimetype": raw.get("mimetype"), "filename": raw.get("filename"), "size": raw.get("size")}
    return {}


def media_type(mimetype: Any) -> str:
    major = str(mimetype or "").split("/")[0]
    return {"image": "image", "video": "video", "audio": "audio"}.get(major, "document")


def message_media(msg: dict[str, Any]) -> dict[str, Any] | None:
    """The media summary of a WAMessage: type, mimetype, filename, size, and url once downloaded."""
    if not msg.get("hasMedia"):
        return None
    media = msg.get("media") if isinstance(msg.get("media"), dict) else {}
    info = _engine_media(msg.get("_data"))
    mimetype = media.get("mimetype") or info.get("mimetype")
    out = {
        "type": info.get("type") or media_type(mimetype),
        "mimetype": mimetype,
        "filename": media.get("filename") or info.get("filename"),
        "size": info.get("size"),
        "url": media.get("url"),
    }
    if media.get("error"):
        out["error"] = short(str(media["error"]), QUOTE_CHARS)
    return drop_empty(out)


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


def message(msg: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """A WAMessage without `_data` or repeated fields: who, when, what, reply, media, ack."""
    raw = msg.get("_data")
    out: dict[str, Any] = {
        "id": serialized_id(msg.get("id")),
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


def chat(item: dict[str, Any]) -> dict[str, Any]:
    """A chat from the overview (`ChatSummary`) or the plain list: id, name, kind, unread, last, time."""
    raw = item.get("_chat") if isinstance(item.get("_chat"), dict) else {}
    cid = serialized_id(item.get("id"))
    last = item.get("lastMessage") if isinstance(item.get("lastMessage"), dict) else {}
    unread = item.get("unreadCount", raw.get("unreadCount"))
    out: dict[str, Any] = {"id": cid, "name": item.get("name") or raw.get("name"), "kind": chat_kind(cid)}
    if isinstance(unread, int) and not isinstance(unread, bool):
        # WhatsApp's "mark as unread" has no count: NOWEB stores it as -1.
        out["unread"] = unread if unread >= 0 else "marked"
    preview = short(last.get("body"))
    if preview is None and last.get("hasMedia"):
        preview = f"[{(message_media(last) or {}).get('type', 'media')}]"
    if preview is not None:
        out["last"] = f"me: {preview}" if last.get("fromMe") else preview
    stamp = (
        last.get("timestamp")
        or item.get("conversationTimestamp")
        or raw.get("conversationTimestamp")
        or item.get("timestamp")
    )
    out["time"] = iso(stamp) if stamp else None
    if item.get("archived") or raw.get("archived"):
        out["archived"] = True
    if item.get("pinned") or raw.get("pinned"):
        out["pinned"] = True
    return drop_empty(out)


def presence(item: Any) -> dict[str, Any] | None:
    """`WAHAChatPresences` → {chatId, people: [{id, state, lastSeen}]}."""
    if not isinstance(item, dict):
        return None
    people = []
    for entry in item.get("presences") or []:
        if isinstance(entry, dict):
            people.append(
                drop_empty(
                    {
                        "id": entry.get("participant"),
                        "state": entry.get("lastKnownPresence"),
                        "lastSeen": iso(entry.get("lastSeen")) if entry.get("lastSeen") else None,
                    }
                )
            )
    return {"chatId": item.get("id"), "people": people}


def _unix_time(value: Any) -> float | None:
    """Unix time from a number, a digit string, or protobuf's `{low, high}` Long (NOWEB)."""
    if isinstance(value, dict) and "low" in value:
        value = (int(value.get("high") or 0) << 32) + (int(value["low"]) & 0xFFFFFFFF)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def sent(message: Any, chat_id: str) -> dict[str, Any]:
    """A message WAHA just sent → `{messageId, chatId, time}`, whatever the engine's shape (WAMessage,
    WEBJS `{id: {_serialized}}`, NOWEB proto `{key: {fromMe, id}, messageTimestamp}`)."""
    out: dict[str, Any] = {"messageId": None, "chatId": chat_id, "time": None}
    if not isinstance(message, dict):
        return {"chatId": chat_id, "sent": True}
    mid = message.get("id")
    if isinstance(mid, dict):
        mid = mid.get("_serialized") or mid.get("id")
    key = message.get("key")
    if not mid and isinstance(key, dict) and key.get("id"):
        mid = f"{'true' if key.get('fromMe', True) else 'false'}_{chat_id}_{key['id']}"
    out["messageId"] = mid if isinstance(mid, str) else None
    stamp = _unix_time(message.get("timestamp", message.get("messageTimestamp")))
    out["time"] = iso(stamp) if stamp else None
    # An answer without an id still means WAHA accepted the message.
    return drop_empty(out) if out["messageId"] else drop_empty(out) | {"sent": True}
