"""Time, the one rule each way: what a tool takes (`parse_time`) and how every time we output is written (`iso`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from waha_mcp.errors import ToolInputError

# Unix seconds (9-10 digits) or milliseconds (12-13), optionally with a fraction.
_UNIX = re.compile(r"\d{9,13}(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_time(value: str | int | float, field: str) -> int:
    """A time a tool takes → unix seconds: ISO 8601 with an offset (`Z` or `+01:00`), a date alone (that day from
    00:00 UTC), or unix seconds or milliseconds. A clock time without an offset is refused: whose clock it is
    (the user's, the agent's, UTC) cannot be known here, and a guess moves a filter or an invitation by hours."""
    raw = str(value).strip()
    if _UNIX.fullmatch(raw):
        number = float(raw)
        return int(number / 1000 if number > 1e11 else number)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ToolInputError(
            f"{field} {raw[:40]!r} is not an ISO 8601 time (2026-03-01T18:00:00+01:00), a date or unix seconds"
        ) from None
    if parsed.tzinfo is None:
        if not _DATE.fullmatch(raw):
            raise ToolInputError(f"{field} {raw[:40]!r} has no UTC offset: add one, e.g. +01:00 or Z")
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def iso(ts: float | int | None) -> str | None:
    """Unix seconds (or milliseconds) → ISO 8601 in UTC to the second, `2026-03-01T17:00:00Z`: every time a tool,
    resource or message shows is written so."""
    if ts is None or isinstance(ts, bool):
        return None
    # The same times come back call after call (a chat list polled): remembered, as formatting costs more.
    known = _ISO.get(ts)
    if known is None:
        value = float(ts)
        if value > 1e11:  # milliseconds
            value /= 1000
        known = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if len(_ISO) >= _ISO_MAX:
            _ISO.clear()
        _ISO[ts] = known
    return known


_ISO: dict[float | int, str] = {}
_ISO_MAX = 8192
