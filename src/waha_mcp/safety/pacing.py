"""Anti-ban pacing of sends per session (WAHA_MCP_PACING = safe | off | key=value,... over the safe values).

Each send reserves a slot in the store, atomically (one write transaction), so concurrent callers and
replicas sharing the store never overrun a session: a token bucket (GCRA: `perMinute` with a `burst`),
a hard cap per rolling minute, a minimum gap per chat, a longer gap between first contacts with new
chats, and a slower bucket and gap for group changes; every slot gets a random jitter on top.
"""

from __future__ import annotations

import functools
import random
import sqlite3
import time
import weakref
from dataclasses import dataclass, fields, replace

from waha_mcp.store import Store

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


SCHEMA = (
    # One row per reserved send (per chat it reaches); old rows are pruned as new ones come.
    """CREATE TABLE IF NOT EXISTS pacing_slots (
        session TEXT NOT NULL, kind TEXT NOT NULL, chat TEXT, at REAL NOT NULL, first INTEGER NOT NULL DEFAULT 0,
        fired INTEGER NOT NULL DEFAULT 0  -- 1 once the send went out; `at` is then when it did
    )""",
    "CREATE INDEX IF NOT EXISTS pacing_slots_at ON pacing_slots(session, kind, at)",
    "CREATE INDEX IF NOT EXISTS pacing_slots_chat ON pacing_slots(session, chat, at)",
    # The token bucket as GCRA: the theoretical arrival time of the next send.
    "CREATE TABLE IF NOT EXISTS pacing_bucket (session TEXT NOT NULL, kind TEXT NOT NULL, tat REAL NOT NULL,"
    " PRIMARY KEY (session, kind))",
    # Chats each session has written to through this server (first contact is paced more slowly).
    "CREATE TABLE IF NOT EXISTS pacing_chats (session TEXT NOT NULL, chat TEXT NOT NULL, PRIMARY KEY (session, chat))",
)
_READY: weakref.WeakSet[Store] = weakref.WeakSet()


class TooLong(Exception):
    """The next slot is further away than `maxWait`: nothing was reserved."""

    def __init__(self, wait: float, at: float) -> None:
        super().__init__(f"{wait:.1f} s")
        self.wait, self.at = wait, at


def reserve(
    db: sqlite3.Connection,
    rules: PacingRules,
    session: str,
    kind: str,
    chats: list[str],
    now: float,
    jitter: float,
) -> tuple[float, list[int]]:
    """The earliest time this send may go out, reserved (inside the caller's write transaction), and the rows.

    Slots of one session and kind are handed out in order, so the cap's rolling window is exact.
    """
    group = kind == "group"
    interval = rules.seconds(60.0 / (rules.groupPerMinute if group else rules.perMinute))
    burst = 1 if group else max(1, rules.burst)
    window = rules.seconds(WINDOW)
    keep = max(2 * window, rules.seconds(max(rules.chatGap, rules.groupGap, rules.newChatGap)))
    db.execute("DELETE FROM pacing_slots WHERE session = ? AND at < ?", (session, now - keep))
    row = db.execute("SELECT tat FROM pacing_bucket WHERE session = ? AND kind = ?", (session, kind)).fetchone()
    tat = row[0] if row else now
    at = max(now, tat - (burst - 1) * interval)
    last = db.execute("SELECT max(at) FROM pacing_slots WHERE session = ? AND kind = ?", (session, kind)).fetchone()[0]
    if last is not None:
        at = max(at, last)
    gap = rules.seconds(rules.groupGap if group else rules.chatGap)
    for chat in chats:
        before = db.execute(
            "SELECT max(at) FROM pacing_slots WHERE session = ? AND chat = ?", (session, chat)
        ).fetchone()[0]
        if before is not None:
            at = max(at, before + gap)
    known = {
        r[0]
        for r in db.execute(
            f"SELECT chat FROM pacing_chats WHERE session = ? AND chat IN ({','.join('?' * len(chats))})",
            (session, *chats),
        )
    }
    new = {chat for chat in chats if not group and chat not in known}  # first contacts, marked on their rows
    first = bool(new)
    if first:
        prior = db.execute("SELECT max(at) FROM pacing_slots WHERE session = ? AND first = 1", (session,)).fetchone()[0]
        if prior is not None:
            at = max(at, prior + rules.seconds(rules.newChatGap))
    cap = max(1, rules.cap)
    recent = db.execute(  # distinct: a send to several chats holds one slot per chat, at one time
        "SELECT DISTINCT at FROM pacing_slots WHERE session = ? AND kind = ? ORDER BY at DESC LIMIT ?",
        (session, kind, cap),
    ).fetchall()
    if len(recent) >= cap:
        at = max(at, recent[cap - 1][0] + window)
    at += jitter
    if at - now > rules.seconds(rules.maxWait):
        raise TooLong(at - now, at)
    rows = [
        int(
            db.execute(
                "INSERT INTO pacing_slots (session, kind, chat, at, first) VALUES (?, ?, ?, ?, ?)",
                (session, kind, chat, at, int(chat in new)),
            ).lastrowid
            or 0
        )
        for chat in chats or [None]
    ]
    db.execute(
        "INSERT INTO pacing_bucket (session, kind, tat) VALUES (?, ?, ?)"
        " ON CONFLICT(session, kind) DO UPDATE SET tat = excluded.tat",
        (session, kind, max(tat, at) + interval),
    )
    if not group:
        db.executemany("INSERT OR IGNORE INTO pacing_chats VALUES (?, ?)", [(session, chat) for chat in chats])
    return at, rows


def fire(db: sqlite3.Connection, rules: PacingRules, session: str, kind: str, rows: list[int], now: float) -> float:
    """At its slot, check the send against the sends that really went out (a caller woken late must not crowd
    the next one): 0 and the slot marked as gone now, or how much longer to wait."""
    marks = ",".join("?" * len(rows))
    mine = db.execute(f"SELECT chat, first FROM pacing_slots WHERE rowid IN ({marks})", rows).fetchall()
    group = kind == "group"
    need = now
    gap = rules.seconds(rules.groupGap if group else rules.chatGap)
    for chat, _ in mine:
        if chat is not None:
            last = db.execute(
                "SELECT max(at) FROM pacing_slots WHERE session = ? AND chat = ? AND fired = 1", (session, chat)
            ).fetchone()[0]
            if last is not None:
                need = max(need, last + gap)
    if any(first for _, first in mine):
        last = db.execute(
            "SELECT max(at) FROM pacing_slots WHERE session = ? AND first = 1 AND fired = 1", (session,)
        ).fetchone()[0]
        if last is not None:
            need = max(need, last + rules.seconds(rules.newChatGap))
    cap = max(1, rules.cap)
    recent = db.execute(
        "SELECT DISTINCT at FROM pacing_slots WHERE session = ? AND kind = ? AND fired = 1 ORDER BY at DESC LIMIT ?",
        (session, kind, cap),
    ).fetchall()
    if len(recent) >= cap:
        need = max(need, recent[cap - 1][0] + rules.seconds(WINDOW))
    if need > now:
        return need - now
    db.execute(f"UPDATE pacing_slots SET at = ?, fired = 1 WHERE rowid IN ({marks})", (now, *rows))
    return 0.0


async def slot(store: Store, rules: PacingRules, session: str, kind: str, chats: list[str]) -> tuple[float, list[int]]:
    """Reserve the next slot for a send (atomic in the store, shared by every process using it)."""
    if store not in _READY:
        store.schema(*SCHEMA)
        _READY.add(store)
    jitter = random.uniform(0.0, rules.seconds(rules.jitter))
    return await store.write(lambda db: reserve(db, rules, session, kind, chats, time.time(), jitter))


async def go(store: Store, rules: PacingRules, session: str, kind: str, rows: list[int]) -> float:
    """Mark the reserved slot as sent now, or say how much longer to wait (see `fire`)."""
    return await store.write(lambda db: fire(db, rules, session, kind, rows, time.time()))


def give_back(db: sqlite3.Connection, rules: PacingRules, session: str, kind: str, rows: list[int], now: float) -> None:
    """A send that did not go out: its slot, its first contacts and its share of the bucket are given back, so
    only sends that went out count against the limits."""
    marks = ",".join("?" * len(rows))
    mine = db.execute(f"SELECT chat, first FROM pacing_slots WHERE rowid IN ({marks})", rows).fetchall()
    db.execute(f"DELETE FROM pacing_slots WHERE rowid IN ({marks})", rows)
    db.executemany(
        "DELETE FROM pacing_chats WHERE session = ? AND chat = ?", [(session, c) for c, first in mine if first and c]
    )
    interval = rules.seconds(60.0 / (rules.groupPerMinute if kind == "group" else rules.perMinute))
    db.execute(
        "UPDATE pacing_bucket SET tat = max(?, tat - ?) WHERE session = ? AND kind = ?", (now, interval, session, kind)
    )


async def release(store: Store, rules: PacingRules, session: str, kind: str, rows: list[int]) -> None:
    """Give a reserved slot back (see `give_back`)."""
    await store.write(lambda db: give_back(db, rules, session, kind, rows, time.time()))


def done(store: Store, rows: list[int]) -> None:
    """The send is over: from now on it counts from when WAHA had it for certain (a send that reached WAHA
    late must not let the next one crowd it)."""
    now = time.time()
    marks = ",".join("?" * len(rows))
    # Queued on the single writer: committed before any later slot is reserved or fired.
    store.write_soon(lambda db: db.execute(f"UPDATE pacing_slots SET at = ? WHERE rowid IN ({marks})", (now, *rows)))
