"""🖼️ Media: voice/video conversion, and the file server that `downloadMedia=true` URLs point at.

Real WAHA serves downloaded media at `/api/files/<session>/<message id>.<ext>` (same API key) and
deletes each file after WHATSAPP_FILES_LIFETIME; downloading again (`downloadMedia=true`) brings
it back. The sandbox serves them there too (not a route of WAHA's OpenAPI document, so neither recorded
nor contract-checked, like `/__sandbox/`): a file exists once a message was rendered with
`downloadMedia=true`, until it expires.

- `set_files_lifetime(sandbox, seconds)`: files expire that long after their download (None: never);
  the setting lives in the sandbox model, so a reset brings back the default (never).
- `expire_files(sandbox, session)`: delete every downloaded file now, as WAHA's cleanup would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .. import errors
from ..images import SCREENSHOT_JPEG, base64_file
from ..registry import Ctx, route
from ..world import Message, World

if TYPE_CHECKING:
    from ..app import Sandbox


def set_files_lifetime(sb: Sandbox, seconds: float | None) -> None:
    sb.model.files_lifetime = seconds


def expire_files(sb: Sandbox, session: str | None = None) -> int:
    """Forget every downloaded file (of one session, or all); returns how many were removed."""
    count = 0
    for name, state in sb.sessions.items():
        if session not in (None, name) or state.world is None:
            continue
        for chat in state.world.chats.values():
            for msg in chat.messages:
                if msg.media is not None and msg.media.downloaded_at is not None:
                    msg.media.downloaded_at = None
                    count += 1
    return count


# --- file bytes ------------------------------------------------------------------------------------


def _filler(seed: str, size: int) -> bytes:
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def jpeg_of_size(size: int, seed: str = "") -> bytes:
    """A valid JPEG of exactly `size` bytes (the tiny image, padded with comment segments)."""
    pad = max(size - len(SCREENSHOT_JPEG), 0)
    segments = bytearray()
    while pad >= 4:
        take = min(pad, 65535 + 2)
        body = _filler(f"{seed}:{len(segments)}", take - 4)
        segments += b"\xff\xfe" + struct.pack(">H", take - 2) + body
        pad -= take
    return SCREENSHOT_JPEG[:2] + bytes(segments) + SCREENSHOT_JPEG[2:] + b"\x00" * pad


_CRC_TABLE = []
for _i in range(256):
    _c = _i << 24
    for _ in range(8):
        _c = ((_c << 1) ^ 0x04C11DB7) if _c & 0x80000000 else (_c << 1)
    _CRC_TABLE.append(_c & 0xFFFFFFFF)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) ^ _CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]) & 0xFFFFFFFF
    return crc


def _ogg_page(packet: bytes, seq: int, flags: int) -> bytes:
    lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    header = b"OggS" + bytes([0, flags]) + struct.pack("<qII", 0, 0x5A4841, seq) + b"\x00\x00\x00\x00"
    page = header + bytes([len(lacing)]) + lacing + packet
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg_opus(size: int = 0, seed: str = "") -> bytes:
    """A valid Ogg Opus stream (OpusHead + OpusTags pages, no audio), padded in the tags to `size`."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    vendor = b"waha-mcp sandbox (not WhatsApp)"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    first = _ogg_page(head, 0, 0x02)
    base = len(first) + len(_ogg_page(tags, 1, 0x04))
    if size > base + 300:  # pad inside the tags packet so the stream stays valid
        extra = size - base - 20
        comment = b"PAD=" + _filler(seed, extra).hex().encode()[: max(extra - 4, 0)]
        tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 1)
        tags += struct.pack("<I", len(comment)) + comment
    return first + _ogg_page(tags, 1, 0x04)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(size: int = 0, seed: str = "") -> bytes:
    """A structurally valid MP4 (ftyp + moov/mvhd, no tracks), padded with a `free` box to `size`."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        bytes(4) + struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x10000, 0x100) + bytes(10) + matrix + bytes(24) + b"\0\0\0\1",
    )
    out = ftyp + _box(b"moov", mvhd)
    if size > len(out) + 8:
        out += _box(b"free", _filler(seed, size - len(out) - 8))
    return out


def file_bytes(msg: Message) -> bytes:
    assert msg.media is not None
    if msg.media.data is not None:
        return msg.media.data
    mimetype, size = msg.media.mimetype.split(";")[0], msg.media.size
    if mimetype.startswith("image/"):
        return jpeg_of_size(size, msg.id)
    if mimetype.startswith("audio/"):
        return ogg_opus(size, msg.id)
    if mimetype.startswith("video/"):
        return mp4(size, msg.id)
    return _filler(msg.id, size)


def _find(world: World, message_id: str) -> Message | None:
    for chat in world.chats.values():
        for msg in chat.messages:
            if msg.id == message_id:
                return msg
    return None


FILE_NOT_FOUND = {
    "error": {
        "code": 404,
        "key": "FILE_NOT_FOUND",
        "message": "File not found",
        "details": "File not found or no longer available",
    }
}


def serve_file(sb: Sandbox, parts: list[str], raw_path: str) -> Response:
    """GET /api/files/<session>/<message id>.<ext> (`parts` decoded): the media, or 404 once expired."""
    from ..app import json_response

    # serve-static's ENOENT, turned into this 404 by WAHA's AllExceptionsFilter (src/api/exception.filter.ts).
    missing = json_response(FILE_NOT_FOUND, 404)
    if len(parts) != 2:
        return missing
    session = sb.get_session(parts[0])
    name = parts[1]
    if session is None or session.world is None or "." not in name:
        return missing
    msg = _find(session.world, name.rsplit(".", 1)[0])
    if msg is None or msg.media is None or msg.media.downloaded_at is None:
        return missing
    lifetime = sb.model.files_lifetime
    if lifetime is not None and time.time() - msg.media.downloaded_at >= lifetime:
        msg.media.downloaded_at = None  # WAHA's cleanup deleted it
        return missing
    mimetype = msg.media.mimetype
    return Response(file_bytes(msg), media_type=mimetype)


# --- conversion ------------------------------------------------------------------------------------


def _source(ctx: Ctx) -> str:
    body = ctx.body or {}
    url, data = body.get("url"), body.get("data")
    if url:
        if not str(url).startswith(("http://", "https://")):
            raise errors.bad_request(["url must be a URL address"])
        return str(url)  # the sandbox fetches nothing: nothing leaves the process
    if data:
        try:
            base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise errors.bad_request(["data must be base64 encoded"]) from None
        return hashlib.sha256(str(data).encode()).hexdigest()
    raise errors.bad_request(["url or data must be provided"])


def _converted(ctx: Ctx, mimetype: str, data: bytes) -> Any:
    if "application/json" in ctx.request.headers.get("accept", ""):
        return base64_file(mimetype, data)
    return Response(data, status_code=200, media_type=mimetype)


@route("MediaController_convertVoice")
async def convert_voice(ctx: Ctx) -> Any:
    await ctx.working_session()
    return _converted(ctx, "audio/ogg; codecs=opus", ogg_opus(seed=_source(ctx)))


@route("MediaController_convertVideo")
async def convert_video(ctx: Ctx) -> Any:
    await ctx.working_session()
    return _converted(ctx, "video/mp4", mp4(seed=_source(ctx)))
