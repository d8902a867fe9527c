"""Media: what a message carries, files downloaded or converted, calls."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import QUOTE_CHARS, drop_empty, obj, short
from waha_mcp.transcribe.service import TranscriptView


class MediaSummary(TypedDict):
    type: str  # image | video | audio | voice | document | sticker
    mimetype: NotRequired[str]
    filename: NotRequired[str]
    size: NotRequired[int]
    url: NotRequired[str]  # once downloaded
    error: NotRequired[str]
    transcript: NotRequired[TranscriptView]  # voice and audio (waha_mcp.transcribe)


class MediaFile(TypedDict):
    messageId: str
    mimetype: str
    bytes: int
    filename: NotRequired[str]
    saved: NotRequired[str]


class Converted(TypedDict):
    kind: str
    mimetype: str
    bytes: int
    saved: NotRequired[str]


class Transcribed(TranscriptView):
    messageId: str
    session: str
    engine: NotRequired[str]


class CallRejected(TypedDict):
    callId: str
    rejected: bool


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
                    "size": int(str(size)) if str(size or "").isdigit() else None,
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


def message_media(msg: dict[str, Any]) -> MediaSummary | None:
    """The media summary of a WAMessage: type, mimetype, filename, size, and url once downloaded."""
    if not msg.get("hasMedia"):
        return None
    media = obj(msg.get("media"))
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
    return cast(MediaSummary, drop_empty(out))


def media_file(message_id: str, mimetype: str, data: bytes, filename: Any = None) -> MediaFile:
    out: MediaFile = {"messageId": message_id, "mimetype": mimetype, "bytes": len(data)}
    if filename:
        out["filename"] = str(filename)
    return out


def converted(kind: str, mimetype: str, data: bytes) -> Converted:
    return {"kind": kind, "mimetype": mimetype, "bytes": len(data)}


def call_rejected(call_id: str) -> CallRejected:
    return {"callId": call_id, "rejected": True}
