"""Anti-ban pacing of sends per session (WAHA_MCP_PACING = safe | off | key=value,... over the safe values).

Each send reserves a slot in the store, atomically (one write transaction), so concurrent callers and
replicas sharing the store never overrun a session: a token bucket (GCRA: `perMinute` with a `burst`),
a hard cap per rolling minute, a minimum gap per chat, a longer gap between first contacts with new
chats, and a slower bucket and gap for group changes; every slot gets a random jitter on top.
"""

from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass, fields, replace
from typing import Any

from waha_mcp.store import FireView, Slot, SlotView, Store

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


@functools.lru_cache(maxsize=8)
def parse_pacing(value: str | None) -> PacingRules | None:
    """`safe` (or unset) → the safe rules; `off` → None; `perMinute=20,chatGap=1` → safe rules with those."""
    raw = (value or "safe").strip()
    if raw.lower() == "safe":
        return SAFE
    if raw.lower() == "off":
        return None
    changes: dict[str, Any] = {}  # each checked below for its field (burst and cap are ints)
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
    return replace(SAFE, **changes)


class TooLong(Exception):
    """The next slot is further away than `maxWait`: nothing was reserved."""

    def __init__(self, wait: float, at: float) -> None:
        super().__init__(f"{wait:.1f} s")
        self.wait, self.at = wait, at


def reserve(
    view: SlotView,
    rules: PacingRules,
    kind: str,
    chats: list[str],
    jitter: float,
) -> Slot:
    """The earliest time this send may go out, given the session's state (`view`, loaded by the store inside
    the reservation's transaction); `TooLong` when that is past `maxWait`.

    Slots of one session and kind are handed out in order, so the cap's rolling window is exact.
    """
    now = view.now
    group = kind == "group"
    interval = _interval(rules, kind)
    burst = 1 if group else max(1, rules.burst)
    window = rules.seconds(WINDOW)
    tat = view.tat if view.tat is not None else now
    at = max(now, tat - (burst - 1) * interval)
    if view.last is not None:
        at = max(at, view.last)
    gap = rules.seconds(rules.groupGap if group else rules.chatGap)
    for chat in chats:
        before = view.chat_last.get(chat)
        if before is not None:
            at = max(at, before + gap)
    first = not group and any(chat not in view.known for chat in chats)
    if first and view.last_first is not None:
        at = max(at, view.last_first + rules.seconds(rules.newChatGap))
    cap = max(1, rules.cap)
    if len(view.recent) >= cap:
        at = max(at, view.recent[cap - 1] + window)
    at += jitter
    if at - now > rules.seconds(rules.maxWait):
        raise TooLong(at - now, at)
    return Slot(at=at, first=first, tat=max(tat, at) + interval, remember=not group)


def fire(view: FireView, rules: PacingRules, kind: str) -> float:
    """At its slot, check the send against the sends that really went out (a caller woken late must not crowd
    the next one): 0 (the store then marks the slot as gone now), or how much longer to wait."""
    now = view.now
    group = kind == "group"
    need = now
    gap = rules.seconds(rules.groupGap if group else rules.chatGap)
    for last in view.chat_fired.values():
        if last is not None:
            need = max(need, last + gap)
    if view.first and view.last_first_fired is not None:
        need = max(need, view.last_first_fired + rules.seconds(rules.newChatGap))
    cap = max(1, rules.cap)
    if len(view.recent_fired) >= cap:
        need = max(need, view.recent_fired[cap - 1] + rules.seconds(WINDOW))
    # The bucket's rate against real send times (the slot was computed from the clock at reservation, before
    # the store's round trips): this send and the k+1 before it may span no less than (k + 2 - burst) intervals.
    interval, burst = _interval(rules, kind), 1 if group else max(1, rules.burst)
    for k, went in enumerate(view.recent_fired):
        if (over := k + 2 - burst) > 0:
            need = max(need, went + over * interval)
    return need - now if need > now else 0.0


def _interval(rules: PacingRules, kind: str) -> float:
    return rules.seconds(60.0 / (rules.groupPerMinute if kind == "group" else rules.perMinute))


async def slot(store: Store, rules: PacingRules, session: str, kind: str, chats: list[str]) -> tuple[float, list[int]]:
    """Reserve the next slot for a send (atomic in the store, shared by every process using it)."""
    jitter = random.uniform(0.0, rules.seconds(rules.jitter))
    window = rules.seconds(WINDOW)
    keep = max(2 * window, rules.seconds(max(rules.chatGap, rules.groupGap, rules.newChatGap)))
    return await store.pacing.reserve(
        session,
        kind,
        chats,
        clock=time.time,
        keep=keep,
        cap=max(1, rules.cap),
        decide=lambda view: reserve(view, rules, kind, chats, jitter),
    )


async def go(store: Store, rules: PacingRules, session: str, kind: str, rows: list[int]) -> float:
    """Mark the reserved slot as sent now, or say how much longer to wait (see `fire`)."""
    return await store.pacing.fire(
        session, kind, rows, clock=time.time, cap=max(1, rules.cap), decide=lambda view: fire(view, rules, kind)
    )


async def release(store: Store, rules: PacingRules, session: str, kind: str, rows: list[int]) -> None:
    """A send that did not go out: its slot, its first contacts and its share of the bucket are given back, so
    only sends that went out count against the limits."""
    await store.pacing.release(session, kind, rows, clock=time.time, interval=_interval(rules, kind))


def done(store: Store, rows: list[int]) -> None:
    """The send is over: from now on it counts from when WAHA had it for certain (a send that reached WAHA
    late must not let the next one crowd it)."""
    store.pacing.done(rows, time.time())
