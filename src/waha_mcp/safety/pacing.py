"""Anti-ban pacing of sends per session (WAHA_MCP_PACING = safe | off | key=value,... over the safe values).

Each send reserves a slot in the store, atomically (one write transaction), so concurrent callers and
replicas sharing the store never overrun a session: a token bucket (GCRA: `perMinute` with a `burst`),
a hard cap per rolling minute, a minimum gap per chat, a longer gap between first contacts with new
chats, and a slower bucket and gap for group changes; every slot gets a random jitter on top.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

WINDOW = 60.0  # the cap's rolling window, seconds (scaled like every other duration)


@dataclass(frozen=True)
class PacingRules:
    perMinute: float = 10.0  # sends per minute per session, sustained (token bucket)
    burst: int = 3  # sends that may go back to back before the rate applies
    cap: int = 12  # sends in any rolling minute, whatever the bucket says
    chatGap: float = 3.0  # seconds between two sends to the same chat
    newChatGap: float = 20.0  # seconds between first contacts with chats this session never wrote to
    groupPerMinute: float = 4.0  # group changes (create, join, members, settings) per minute per session
    groupGap: float = 10.0  # seconds between two changes to the same group
    jitter: float = 1.0  # up to this many seconds added at random to every slot
    maxWait: float = 30.0  # a wait longer than this is an error saying when to retry
    scale: float = 1.0  # every duration multiplied by this (tests, benchmarks)

    def seconds(self, value: float) -> float:
        return value * self.scale


SAFE = PacingRules()
NAMES = {f.name.lower(): f.name for f in fields(PacingRules)}


class PacingConfigError(ValueError):
    pass


def parse_pacing(value: str | None) -> PacingRules | None:
    """`safe` (or unset) → the safe rules; `off` → None; `perMinute=20,chatGap=1` → safe rules with those."""
    raw = (value or "safe").strip()
    if raw.lower() == "safe":
        return SAFE
    if raw.lower() == "off":
        return None
    changes: dict[str, float | int] = {}
    for part in raw.split(","):
        key, sep, number = part.partition("=")
        name = NAMES.get(key.strip().lower())
        if not sep or name is None:
            raise PacingConfigError(
                f"{part.strip()[:30]!r} is not safe, off or key=value with a key among {', '.join(NAMES.values())}"
            )
        try:
            parsed = float(number)
        except ValueError:
            raise PacingConfigError(f"{name} must be a number, not {number.strip()[:20]!r}") from None
        if parsed < 0 or (name in ("perMinute", "groupPerMinute", "scale", "burst", "cap") and parsed <= 0):
            raise PacingConfigError(f"{name} must be positive")
        changes[name] = int(parsed) if name in ("burst", "cap") else parsed
    return replace(SAFE, **changes)  # type: ignore[arg-type]
