"""What can be known of audio before it is sent or decoded: is it audio, and how long (Ogg/Opus pages)."""

from __future__ import annotations

import struct

# Mimetypes a voice note or an audio message may carry; the bytes decide when the type says nothing useful.
AUDIO_MAGIC = (b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"RIFF", b"fLaC")
EXTENSIONS = {"ogg": ".ogg", "opus": ".ogg", "oga": ".ogg", "mpeg": ".mp3", "mp3": ".mp3", "mp4": ".m4a",
              "m4a": ".m4a", "aac": ".aac", "wav": ".wav", "x-wav": ".wav", "webm": ".webm", "flac": ".flac",
              "amr": ".amr"}  # fmt: skip


def base_type(mimetype: str | None) -> str:
    return (mimetype or "").split(";")[0].strip().lower()


def is_audio(mimetype: str | None, data: bytes = b"") -> bool:
    kind = base_type(mimetype)
    if kind.startswith("audio/"):
        return True
    if data[:4] == b"ftyp" or data[4:8] == b"ftyp":
        return kind == "" or kind == "application/octet-stream"
    return (kind in ("", "application/octet-stream", "application/ogg")) and data.startswith(AUDIO_MAGIC)


def filename_for(mimetype: str | None, name: str = "voice") -> str:
    """A file name whose extension tells an endpoint the container (several look only at the name)."""
    sub = base_type(mimetype).partition("/")[2]
    return name + EXTENSIONS.get(sub, ".ogg")


def ogg_opus_seconds(data: bytes) -> float | None:
    """The length of an Ogg/Opus stream from its last page's granule position (48 kHz, less the pre-skip),
    or None when the bytes are not Ogg/Opus. Reads page headers only: nothing is decoded."""
    if not data.startswith(b"OggS") or b"OpusHead" not in data[:128]:
        return None
    head = data.find(b"OpusHead")
    pre_skip: int = struct.unpack_from("<H", data, head + 10)[0] if len(data) >= head + 12 else 0
    last = data.rfind(b"OggS")
    while last >= 0:
        if len(data) >= last + 14:
            granule: int = struct.unpack_from("<q", data, last + 6)[0]
            if granule >= 0:
                return max(granule - pre_skip, 0) / 48000
        last = data.rfind(b"OggS", 0, last)
    return None
