"""Media an agent hands a tool: an http(s) URL (WAHA fetches it), base64 `data`, or a file inside
WAHA_MCP_FILES_DIR (see `waha_mcp.files`); shared by every toolset that sends or sets media."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import Field

from waha_mcp.config import Settings
from waha_mcp.errors import ToolInputError
from waha_mcp.files import read_local_file
from waha_mcp.tools.schema import fetch_marker

VOICE_MIME = "audio/ogg; codecs=opus"
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})
OPUS_MIMES = frozenset({"audio/ogg", "audio/opus", "audio/oga"})
# Magic numbers for base64 data that arrives without a name or mimetype.
_SNIFF: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (0, b"%PDF", "application/pdf"),
    (0, b"OggS", "audio/ogg"),
    (4, b"ftypM4A", "audio/mp4"),
    (4, b"ftyp", "video/mp4"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"PK\x03\x04", "application/zip"),
)
_EXT = {"audio/ogg": ".ogg", "video/mp4": ".mp4", "image/jpeg": ".jpg", "audio/mpeg": ".mp3"}

FileArg = Annotated[str | None, fetch_marker, Field(description="URL, or a file in WAHA_MCP_FILES_DIR")]
DataArg = Annotated[str | None, Field(description="base64")]


@dataclass
class Media:
    mimetype: str
    filename: str
    url: str | None = None
    data: bytes | None = None

    def waha(self, *, with_filename: bool = True, mimetype: str | None = None) -> dict[str, Any]:
        """WAHA's RemoteFile `{mimetype, filename?, url}` or BinaryFile `{mimetype, filename?, data}`."""
        out: dict[str, Any] = {"mimetype": mimetype or self.mimetype}
        if with_filename:
            out["filename"] = self.filename
        if self.url is not None:
            out["url"] = self.url
        else:
            out["data"] = base64.b64encode(self.data or b"").decode()
        return out

    @property
    def base_type(self) -> str:
        return self.mimetype.split(";")[0].strip().lower()

    def voice(self, convert: bool | None) -> tuple[dict[str, Any], bool]:
        """WAHA's voice file and whether WAHA should convert it: only OGG/Opus plays as a voice note, so
        anything else is converted unless `convert` says otherwise; the bytes decide when there are bytes
        (Ogg can hold Vorbis too)."""
        if self.data is not None:
            is_opus = self.data[:4] == b"OggS" and b"OpusHead" in self.data[:256]
        else:
            is_opus = self.base_type in OPUS_MIMES or "opus" in self.mimetype.lower()
        convert = not is_opus if convert is None else convert
        # VoiceRemoteFile has no filename; an unconverted note must be declared as OGG/Opus.
        mime = VOICE_MIME if is_opus and not convert else self.mimetype
        return self.waha(with_filename=self.url is None, mimetype=mime), convert


def _guess(name: str | None) -> str | None:
    if not name:
        return None
    lower = name.lower()
    if lower.endswith((".opus", ".oga", ".ogg")):
        return "audio/ogg"
    guessed, _ = mimetypes.guess_type(lower, strict=False)
    return guessed


def _sniff(data: bytes) -> str | None:
    for offset, magic, mime in _SNIFF:
        if data[offset : offset + len(magic)] == magic:
            return mime
    return None


def _decode(data: str, limit: int) -> tuple[bytes, str | None]:
    """Base64 (optionally a `data:<mime>;base64,` URL) → bytes, refused above `limit` before decoding."""
    raw, mime = data.strip(), None
    if raw.startswith("data:") and "," in raw:
        header, raw = raw.split(",", 1)
        mime = header[5:].split(";")[0] or None
    raw = "".join(raw.split())
    if len(raw) * 3 // 4 > limit + 3:
        raise ToolInputError(
            f"data is about {len(raw) * 3 // 4} bytes, over the {limit}-byte limit (WAHA_MCP_MAX_MEDIA_BYTES)"
        )
    try:
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ToolInputError("data is not valid base64") from None
    if not decoded:
        raise ToolInputError("data is empty")
    if len(decoded) > limit:
        raise ToolInputError(f"data is {len(decoded)} bytes, over the {limit}-byte limit (WAHA_MCP_MAX_MEDIA_BYTES)")
    return decoded, mime


def media_input(
    settings: Settings,
    file: str | None,
    data: str | None,
    filename: str | None,
    mimetype: str | None,
    *,
    default_mime: str,
    default_name: str,
) -> Media:
    """One attachment from exactly one of `file` (URL or local path) and `data` (base64)."""
    if bool(file) == bool(data):
        raise ToolInputError("give exactly one of `file` (http(s) URL or local path) and `data` (base64)")
    url: str | None = None
    content: bytes | None = None
    hint: str | None = None
    sniffed: str | None = None
    if file:
        scheme = urlsplit(file).scheme.lower()
        if scheme in ("http", "https"):
            url = file
            hint = PurePosixPath(unquote(urlsplit(file).path)).name or None
        elif len(scheme) > 1:  # a drive letter is not a scheme
            raise ToolInputError(
                f"file {file[:60]!r}: only http(s) URLs or paths inside WAHA_MCP_FILES_DIR are accepted"
            )
        else:
            path, content = read_local_file(settings, file)
            hint = path.name
            sniffed = _sniff(content)
    else:
        content, declared = _decode(data or "", settings.max_media_bytes)
        sniffed = declared or _sniff(content)
    name = PurePosixPath((filename or "").replace("\\", "/")).name or None
    mime = (mimetype or "").strip() or _guess(name) or _guess(hint) or sniffed or default_mime
    if "/" not in mime:
        raise ToolInputError(f"mimetype {mimetype!r} is not a MIME type like image/jpeg")
    if not name:
        base = mime.split(";")[0].strip().lower()
        ext = _EXT.get(base) or mimetypes.guess_extension(base, strict=False) or ""
        name = hint or f"{default_name}{ext}"
    return Media(mimetype=mime, filename=name, url=url, data=content)
