"""Message rendering, in one place: what routes answer and what the event log records.

- `render_message`: WAHA's `WAMessage` (chats routes, sendText, forward, edit, events, the log).
- `render_proto`: what NOWEB's other send methods answer, the bare WebMessageInfo proto.
- `render_event` / `render_ack`: a message or an ack as an event payload, with `from`/`to`/`participant` as
  the engine sends them (`ends`).

Routes keep `to` and `participant` on every message: the documents mark both required. Events follow the
engines: NOWEB sends them only in groups.
"""

from __future__ import annotations

import time
from typing import Any

from .world import ACK_NAMES, Ack, Message, is_group

DEFAULT_BASE_URL = "http://localhost:3000"


def media_url(msg: Message, base_url: str, session: str) -> str:
    """Where the file server serves a message's media: `/api/files/...`, as real WAHA does."""
    assert msg.media is not None
    ext = msg.media.mimetype.split(";")[0].split("/")[-1]
    return f"{base_url.rstrip('/')}/api/files/{session}/{msg.id}.{ext}"


def render_message(
    msg: Message,
    me_id: str,
    *,
    session: str,
    base_url: str = DEFAULT_BASE_URL,
    download_media: bool = True,
) -> dict[str, Any]:
    """A `WAMessage` with NOWEB's `_data`.

    With `download_media`, WAHA downloads the media to its file server to give `media.url`; so does
    this renderer (the file then exists until it expires, see routes/media.py).
    """
    out: dict[str, Any] = {
        "id": msg.id,
        "timestamp": msg.timestamp,
        "from": me_id if msg.from_me else msg.chat_id,
        "fromMe": msg.from_me,
        "source": msg.source,
        "to": msg.chat_id if msg.from_me else me_id,
        # WAHA sets participant for groups; the schema requires a string, so direct chats carry the
        # sender too.
        "participant": msg.sender,
        "body": "" if msg.stub else msg.body,
        "hasMedia": msg.media is not None,
        "mediaUrl": "",
        "ack": msg.ack,
        "ackName": ACK_NAMES[msg.ack],
        "vCards": list(msg.vcards),
        "_data": msg.raw(),
    }
    if is_group(msg.chat_id):
        out["author"] = msg.sender
    if msg.media is not None:
        url = media_url(msg, base_url, session)
        out["mediaUrl"] = url
        if download_media:
            msg.media.downloaded_at = time.time()
            media: dict[str, Any] = {"url": url, "mimetype": msg.media.mimetype}
            if msg.media.filename:
                media["filename"] = msg.media.filename
            out["media"] = media
    if msg.reply_to is not None:
        quoted = msg.reply_to
        out["replyTo"] = {
            "id": quoted.raw_id,
            "participant": quoted.sender,
            "body": quoted.body,
            "hasMedia": quoted.media is not None,  # required since WAHA 2026.7
            "_data": {"conversation": quoted.body},
        }
    if msg.location:
        loc = msg.location
        out["location"] = {
            "latitude": str(loc["latitude"]),
            "longitude": str(loc["longitude"]),
            "live": False,
            **({"name": loc["title"]} if loc.get("title") else {}),
        }
    return out


def render_proto(msg: Message) -> dict[str, Any]:
    """What NOWEB's send methods return: the WebMessageInfo proto (no WAHA id field)."""
    raw = msg.raw()
    return {"key": raw["key"], "message": raw["message"], "messageTimestamp": str(msg.timestamp), "status": "PENDING"}


def ends(msg: Message, me_id: str, engine: str) -> dict[str, Any]:
    """`from`, `to`, `participant` of a message (or its ack) as the engine puts them in an event.

    NOWEB: `getFromToParticipant` (src/core/engines/noweb/session.noweb.core.ts): `from` is always the chat
    (remoteJid), mine too; `to` (the group) and `participant` (the sender) only when the key has a participant,
    i.e. in groups, and absent otherwise. GOWS (src/core/engines/gows/session.gows.core.ts, its own
    `getFromToParticipant`): `from` is the chat; in groups `to` and `participant` are both the sender, else
    both null. WEBJS: whatsapp-web.js's two ends, `from` me and `to` the chat for mine, `from` the chat and `to`
    me otherwise, and the group sender as `participant` (from whatsapp-web.js's Message; WAHA's WEBJS source
    was not read here).
    """
    group = is_group(msg.chat_id)
    if engine == "WEBJS":
        out = {"from": me_id if msg.from_me else msg.chat_id, "to": msg.chat_id if msg.from_me else me_id}
        if group:
            out["participant"] = msg.sender
        return out
    if engine == "GOWS":
        sender = msg.sender if group else None
        return {"from": msg.chat_id, "to": sender, "participant": sender}
    if group:
        return {"from": msg.chat_id, "to": msg.chat_id, "participant": msg.sender}
    return {"from": msg.chat_id}


def render_event(msg: Message, me_id: str, engine: str, *, session: str, base_url: str) -> dict[str, Any]:
    """A message as an event payload (`message`, `message.any`, the `before`/`after` of `message.revoked`)."""
    out = render_message(msg, me_id, session=session, base_url=base_url)
    for key in ("from", "to", "participant"):
        out.pop(key, None)
    return ends(msg, me_id, engine) | out


def render_ack(ack: Ack, me_id: str, engine: str) -> dict[str, Any]:
    """`WAMessageAckBody` of `message.ack`: about a message I sent (NOWEB `convertMessageUpdateToMessageAck`)."""
    msg = ack.msg
    return {
        "id": msg.id,
        **ends(msg, me_id, engine),
        "fromMe": msg.from_me,
        "ack": msg.ack,
        "ackName": ACK_NAMES[msg.ack],
        "_data": {"key": msg.raw()["key"]},
    }
