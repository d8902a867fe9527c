"""A small QR code encoder (ISO/IEC 18004: byte mode, versions 1-10, levels L and M) and PNG writer.

The sandbox serves real, scannable pairing QR codes without adding a dependency.
`qr_matrix(text)` gives the module grid (True = dark); `qr_png(text)` gives PNG bytes.
"""

from __future__ import annotations

import struct
import zlib

# (ec codewords per block, [(block count, data codewords per block), ...]) by version, then level.
_BLOCKS: dict[int, dict[str, tuple[int, list[tuple[int, int]]]]] = {
    1: {"L": (7, [(1, 19)]), "M": (10, [(1, 16)])},
    2: {"L": (10, [(1, 34)]), "M": (16, [(1, 28)])},
    3: {"L": (15, [(1, 55)]), "M": (26, [(1, 44)])},
    4: {"L": (20, [(1, 80)]), "M": (18, [(2, 32)])},
    5: {"L": (26, [(1, 108)]), "M": (24, [(2, 43)])},
    6: {"L": (18, [(2, 68)]), "M": (16, [(4, 27)])},
    7: {"L": (20, [(2, 78)]), "M": (18, [(4, 31)])},
    8: {"L": (24, [(2, 97)]), "M": (22, [(2, 38), (2, 39)])},
    9: {"L": (30, [(2, 116)]), "M": (22, [(3, 36), (2, 37)])},
    10: {"L": (18, [(2, 68), (2, 69)]), "M": (26, [(4, 43), (1, 44)])},
}
_ALIGN: dict[int, list[int]] = {
    1: [],
    2: [6, 18],
    3: [6, 22],
    4: [6, 26],
    5: [6, 30],
    6: [6, 34],
    7: [6, 22, 38],
    8: [6, 24, 42],
    9: [6, 26, 46],
    10: [6, 28, 50],
}
_LEVEL_BITS = {"L": 1, "M": 0}
_REMAINDER_BITS = {v: (7 if 2 <= v <= 6 else 0) for v in range(1, 11)}

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _rs_generator(degree: int) -> list[int]:
    gen = [1]
    for i in range(degree):
        # multiply by (x - α^i); in GF(2^8) minus is plus
        nxt = [0] * (len(gen) + 1)
        for j, coef in enumerate(gen):
            nxt[j] ^= coef
            nxt[j + 1] ^= _gf_mul(coef, _EXP[i])
        gen = nxt
    return gen


def _rs_remainder(data: list[int], degree: int) -> list[int]:
    gen = _rs_generator(degree)
    rem = list(data) + [0] * degree
    for i in range(len(data)):
        coef = rem[i]
        if coef:
            for j in range(1, len(gen)):
                rem[i + j] ^= _gf_mul(gen[j], coef)
    return rem[len(data) :]


def _capacity(version: int, level: str) -> int:
    return sum(n * k for n, k in _BLOCKS[version][level][1])


def _choose_version(length: int, level: str) -> int:
    for version in range(1, 11):
        count_bits = 8 if version < 10 else 16
        if 4 + count_bits + 8 * length <= _capacity(version, level) * 8:
            return version
    raise ValueError(f"{length} bytes do not fit a version 1-10 QR code at level {level}")


def _codewords(data: bytes, version: int, level: str) -> list[int]:
    count_bits = 8 if version < 10 else 16
    bits: list[int] = []

    def put(value: int, width: int) -> None:
        bits.extend((value >> (width - 1 - i)) & 1 for i in range(width))

    put(0b0100, 4)  # byte mode
    put(len(data), count_bits)
    for byte in data:
        put(byte, 8)
    capacity = _capacity(version, level) * 8
    put(0, min(4, capacity - len(bits)))  # terminator
    put(0, (-len(bits)) % 8)
    words = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    used = len(words)
    while len(words) < capacity // 8:
        words.append(0xEC if (len(words) - used) % 2 == 0 else 0x11)  # alternating pad bytes
    # split into blocks, add error correction, interleave
    ec_len, groups = _BLOCKS[version][level]
    blocks: list[list[int]] = []
    pos = 0
    for count, size in groups:
        for _ in range(count):
            blocks.append(words[pos : pos + size])
            pos += size
    ecs = [_rs_remainder(block, ec_len) for block in blocks]
    out: list[int] = []
    for i in range(max(len(b) for b in blocks)):
        out.extend(b[i] for b in blocks if i < len(b))
    for i in range(ec_len):
        out.extend(e[i] for e in ecs)
    return out


class _Grid:
    def __init__(self, version: int) -> None:
        self.size = 17 + 4 * version
        self.dark = [[False] * self.size for _ in range(self.size)]
        self.fixed = [[False] * self.size for _ in range(self.size)]

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y][x] = dark
        self.fixed[y][x] = True


def _draw_function_patterns(grid: _Grid, version: int) -> None:
    size = grid.size
    for i in range(size):  # timing patterns
        grid.set(6, i, i % 2 == 0)
        grid.set(i, 6, i % 2 == 0)
    for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):  # finders with separators
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                x, y = cx + dx, cy + dy
                if 0 <= x < size and 0 <= y < size:
                    dist = max(abs(dx), abs(dy))
                    grid.set(x, y, dist not in (2, 4))
    positions = _ALIGN[version]
    last = len(positions) - 1
    for i, ay in enumerate(positions):
        for j, ax in enumerate(positions):
            if (i, j) in ((0, 0), (0, last), (last, 0)):
                continue  # those corners hold finder patterns
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    grid.set(ax + dx, ay + dy, max(abs(dx), abs(dy)) != 1)
    _draw_format(grid, "L", 0)  # reserve the format areas; redrawn with the real mask later
    if version >= 7:
        rem = version
        for _ in range(12):
            rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
        bits = version << 12 | rem
        for i in range(18):
            bit = (bits >> i) & 1 == 1
            a, b = size - 11 + i % 3, i // 3
            grid.set(a, b, bit)
            grid.set(b, a, bit)


def _draw_format(grid: _Grid, level: str, mask: int) -> None:
    data = _LEVEL_BITS[level] << 3 | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    bits = (data << 10 | rem) ^ 0x5412
    size = grid.size

    def bit(i: int) -> bool:
        return (bits >> i) & 1 == 1

    for i in range(6):
        grid.set(8, i, bit(i))
    grid.set(8, 7, bit(6))
    grid.set(8, 8, bit(7))
    grid.set(7, 8, bit(8))
    for i in range(9, 15):
        grid.set(14 - i, 8, bit(i))
    for i in range(8):
        grid.set(size - 1 - i, 8, bit(i))
    for i in range(8, 15):
        grid.set(8, size - 15 + i, bit(i))
    grid.set(8, size - 8, True)  # the dark module


def _place_data(grid: _Grid, codewords: list[int]) -> None:
    size = grid.size
    total = len(codewords) * 8
    i = 0
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5  # skip the vertical timing column
        upward = ((right + 1) & 2) == 0
        for vert in range(size):
            y = size - 1 - vert if upward else vert
            for x in (right, right - 1):
                if not grid.fixed[y][x] and i < total:
                    grid.dark[y][x] = (codewords[i >> 3] >> (7 - (i & 7))) & 1 == 1
                    i += 1
        right -= 2


_MASKS = [
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
]


def _apply_mask(grid: _Grid, mask: int) -> None:
    fn = _MASKS[mask]
    for y in range(grid.size):
        for x in range(grid.size):
            if not grid.fixed[y][x] and fn(x, y):
                grid.dark[y][x] = not grid.dark[y][x]


def _penalty(dark: list[list[bool]]) -> int:
    size = len(dark)
    score = 0
    lines = dark + [list(col) for col in zip(*dark, strict=True)]
    finder_a = [True, False, True, True, True, False, True, False, False, False, False]
    finder_b = finder_a[::-1]
    for line in lines:
        run, prev = 0, None
        for cell in line:
            run = run + 1 if cell == prev else 1
            prev = cell
            if run == 5:
                score += 3
            elif run > 5:
                score += 1
        for i in range(size - 10):
            window = line[i : i + 11]
            if window in (finder_a, finder_b):
                score += 40
    for y in range(size - 1):
        for x in range(size - 1):
            if dark[y][x] == dark[y][x + 1] == dark[y + 1][x] == dark[y + 1][x + 1]:
                score += 3
    total = sum(map(sum, dark))
    score += abs(total * 20 - size * size * 10) // (size * size) * 10
    return score


def qr_matrix(text: str | bytes, level: str = "M") -> list[list[bool]]:
    """The QR symbol (without quiet zone) for `text`, byte mode, as rows of dark flags."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if level not in _LEVEL_BITS:
        raise ValueError("level must be 'L' or 'M'")
    version = _choose_version(len(data), level)
    codewords = _codewords(data, version, level)
    best: list[list[bool]] | None = None
    best_score = 0
    for mask in range(8):
        grid = _Grid(version)
        _draw_function_patterns(grid, version)
        _place_data(grid, codewords)  # remainder bits stay light
        _apply_mask(grid, mask)
        _draw_format(grid, level, mask)
        score = _penalty(grid.dark)
        if best is None or score < best_score:
            best, best_score = grid.dark, score
    assert best is not None
    return best


def png_grayscale(rows: list[bytes], width: int) -> bytes:
    """An 8-bit grayscale PNG from raw pixel rows."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def qr_png(text: str | bytes, scale: int = 8, border: int = 4, level: str = "M") -> bytes:
    """PNG bytes of a scannable QR code for `text` (`scale` px per module, `border` modules of quiet zone)."""
    matrix = qr_matrix(text, level)
    size = len(matrix) + 2 * border
    rows: list[bytes] = []
    for y in range(size):
        my = y - border
        line = bytearray()
        for x in range(size):
            mx = x - border
            on = 0 <= my < len(matrix) and 0 <= mx < len(matrix) and matrix[my][mx]
            line += (b"\x00" if on else b"\xff") * scale
        rows.extend([bytes(line)] * scale)
    return png_grayscale(rows, size * scale)
