"""Voice notes with real speech for the sandbox: a shipped sample, or OGG/Opus a test hands in.

The sample (assets/voice-note.ogg) is espeak-ng saying "Please call me back when you get this message.",
encoded as WhatsApp encodes voice notes (Ogg/Opus, mono, 16 kbit/s) by bench/make_voice_notes.sh.
"""

from __future__ import annotations

import base64
import binascii
import struct
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).parent / "assets" / "voice-note.ogg"
SAMPLE_TEXT = "Please call me back when you get this message."
MAX_BYTES = 16 * 1024 * 1024


def voice_data(value: Any) -> bytes | None:
    """Base64 OGG/Opus from a control request (None: use the sample); ValueError when it is not that."""
    if value is None:
        return None
    try:
        audio = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("data must be base64 (an OGG/Opus voice note)") from None
    if len(audio) > MAX_BYTES:
        raise ValueError(f"data is over {MAX_BYTES} bytes")
    if not audio.startswith(b"OggS"):
        raise ValueError("data must be an Ogg stream (OGG/Opus, as WhatsApp sends voice notes)")
    return audio


def opus_seconds(data: bytes) -> int:
    """Whole seconds of an Ogg/Opus stream, from its last page's granule position (48 kHz)."""
    last = data.rfind(b"OggS")
    if last < 0 or len(data) < last + 14:
        return 0
    granule: int = struct.unpack_from("<q", data, last + 6)[0]
    return max(1, round(granule / 48000))
