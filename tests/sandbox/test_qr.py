"""The hand-written QR encoder and PNG writer."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from waha_mcp.sandbox.qr import qr_matrix, qr_png


def parse_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and pixel rows of an 8-bit grayscale, unfiltered PNG; checks every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload), kind
        chunks.append((kind, payload))
        pos += 12 + length
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color, interlace) == (8, 0, 0)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == height * (width + 1)
    rows = [raw[i * (width + 1) : (i + 1) * (width + 1)] for i in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def finder_at(m: list[list[bool]], x: int, y: int) -> bool:
    return all(m[y + dy][x + dx] == (max(abs(dx - 3), abs(dy - 3)) != 2) for dy in range(7) for dx in range(7))


@pytest.mark.parametrize(("length", "size"), [(10, 21), (20, 25), (60, 33), (150, 49), (200, 57)])
def test_version_grows_with_data_and_finders_are_in_place(length: int, size: int) -> None:
    m = qr_matrix("A" * length, level="M")
    assert len(m) == size and all(len(row) == size for row in m)
    assert finder_at(m, 0, 0) and finder_at(m, size - 7, 0) and finder_at(m, 0, size - 7)
    assert [m[6][x] for x in range(8, size - 8)] == [x % 2 == 0 for x in range(8, size - 8)]  # timing row
    assert m[size - 8][8] is True  # the dark module


def test_too_long_for_version_10_is_refused() -> None:
    with pytest.raises(ValueError):
        qr_matrix("x" * 300, level="M")


def test_png_structure_matches_the_matrix() -> None:
    m = qr_matrix("hello sandbox")
    png = qr_png("hello sandbox", scale=3, border=4)
    width, height, rows = parse_png(png)
    assert width == height == (len(m) + 8) * 3
    assert set(rows[0]) == {255}  # quiet zone
    for y in range(len(m)):
        for x in range(len(m)):
            assert rows[(y + 4) * 3 + 1][(x + 4) * 3 + 1] == (0 if m[y][x] else 255)


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) not installed")
@pytest.mark.parametrize(("level", "length"), [("L", 17), ("M", 14), ("M", 84), ("L", 154), ("M", 152), ("M", 213)])
def test_zbarimg_decodes_our_qr_codes(tmp_path: Path, level: str, length: int) -> None:
    text = ("2@Qr+/=Sandbox,abc123XYZ;" * 10)[:length]
    path = tmp_path / "qr.png"
    path.write_bytes(qr_png(text, level=level))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, timeout=10)
    assert out.stdout.decode().rstrip("\n") == text
