"""What every projection shares: times, empties, one-line previews, WAHA's id shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

PREVIEW_CHARS = 80
QUOTE_CHARS = 60


@dataclass(frozen=True)
class Kind:
    """What a string field holds, for the vocabulary test (it adds nothing to the schema)."""

    name: str


# ISO 8601 with offset; a field holding one is `time` or ends with `Time`.
Time = Annotated[str, Kind("time")]


def iso(ts: float | int | None) -> str | None:
    """Unix seconds (or milliseconds) → ISO 8601 with offset."""
    if ts is None or isinstance(ts, bool):
        return None
    # The same times come back call after call (a chat list polled): remembered, as formatting costs more.
    known = _ISO.get(ts)
    if known is None:
        value = float(ts)
        if value > 1e11:  # milliseconds
            value /= 1000
        known = datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
        if len(_ISO) >= _ISO_MAX:
            _ISO.clear()
        _ISO[ts] = known
    return known


_ISO: dict[float | int, str] = {}
_ISO_MAX = 8192


def unix_time(value: Any) -> float | None:
    """Unix time from a number, a digit string, or protobuf's `{low, high}` Long (NOWEB)."""
    if isinstance(value, dict) and "low" in value:
        value = (int(value.get("high") or 0) << 32) + (int(value["low"]) & 0xFFFFFFFF)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def obj(value: Any) -> dict[str, Any]:
    """`value` if WAHA sent an object there, else an empty one (a field may be missing, null or a string)."""
    return value if isinstance(value, dict) else {}


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def short(text: Any, limit: int = PREVIEW_CHARS) -> str | None:
    """One line, at most `limit` characters (an ellipsis marks a cut)."""
    if not isinstance(text, str) or not text.strip():
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def serialized_id(value: Any) -> str | None:
    """WEBJS nests ids as `{_serialized: ...}`; NOWEB and GOWS use plain strings."""
    if isinstance(value, dict):
        value = value.get("_serialized") or value.get("id")
    return str(value) if value else None
