"""Message rendering, in one place: what routes answer and what the event log records.

- `render_message`: WAHA's `WAMessage` (chats routes, sendText, forward, edit, events, the log).
- `render_proto`: what NOWEB's other send methods answer, the bare WebMessageInfo proto.
"""

from __future__ import annotations

import time
from typing import Any

from .world import ACK_NAMES, Message, is_group

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
