"""Image bytes the sandbox serves: pairing QR codes (PNG) and a screenshot (JPEG)."""

from __future__ import annotations

import base64
import struct

from .qr import qr_png


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _tiny_jpeg() -> bytes:
    """A valid 8x8 mid-gray baseline JPEG (one DC-only block), built by hand: no image library needed."""
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # one Huffman code of length 1, for symbol 0
    return (
        b"\xff\xd8"
        + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _segment(0xDB, b"\x00" + b"\x01" * 64)  # quantisation table 0: all ones
        + _segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")  # 8x8, one component
        + _segment(0xC4, b"\x00" + one_code)  # DC table: category 0 (difference 0)
        + _segment(0xC4, b"\x10" + one_code)  # AC table: EOB
        + _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC code 0, EOB code 0, padded with ones
        + b"\xff\xd9"
    )


SCREENSHOT_JPEG = _tiny_jpeg()


def qr_code_png(value: str) -> bytes:
    return qr_png(value, scale=6, border=4, level="M")


def base64_file(mimetype: str, data: bytes) -> dict[str, str]:
    """WAHA's Base64File JSON (what image routes return with `Accept: application/json`)."""
    return {"mimetype": mimetype, "data": base64.b64encode(data).decode()}
