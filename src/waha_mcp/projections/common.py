"""What every projection shares: times, empties, one-line previews, WAHA's id shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from waha_mcp.times import iso as iso  # the formatter of every time shown (re-exported)

PREVIEW_CHARS = 80
QUOTE_CHARS = 60


@dataclass(frozen=True)
class Kind:
    """What a string field holds, for the vocabulary test (it adds nothing to the schema)."""

    name: str


# ISO 8601 in UTC (waha_mcp.times.iso); a field holding one is `time` or ends with `Time`.
Time = Annotated[str, Kind("time")]


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
