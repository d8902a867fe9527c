"""The store's domain interfaces: what the inbox, the audit log and pacing need from durable shared state.

A backend (`waha_mcp.store.sqlite`, `waha_mcp.store.postgres`) implements every interface here; nothing above
the store writes SQL. Every method is async and runs on the caller's event loop; the few marked "queued" return
at once and take effect before any later call of the same store instance that reads what they change (one
process's order is kept; a replica on the same database sees them once committed).

The rules (pacing's token bucket, the inbox's retention, what a bulk run has done) stay with their domain
modules; a backend stores, loads and locks. Where a rule must see state and change it atomically (a pacing
slot), the backend loads a view inside one transaction, calls the rule's pure function on it, and writes what
the function decided before committing, holding a lock that serialises every process sharing the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from waha_mcp.config import ConfigError


class StoreError(ConfigError):
    """The store cannot be used: one line naming it (password hidden), the cause and the next step.

    A `ConfigError`, so the CLI prints it as one line and exits 2 instead of a traceback."""


class StoreUnavailable(Exception):
    """The store's server cannot be reached now (a PostgreSQL restart, a network cut): one line naming the store
    (password hidden) and the cause. What needed it did not happen; the store recovers by itself when the server
    is back (the next call reconnects)."""


# --- the inbox -------------------------------------------------------------------------------------------


class EventRecord(NamedTuple):
    """One stored event as the inbox lists it (the raw envelope is fetched separately)."""

    seq: int  # the cursor: only grows, assigned by the store
    id: str
    ts: int  # ms, as WAHA stamped it
    session: str
    event: str
    chat: str | None
    sender: str | None
    message_id: str | None
    text: str | None
    media: str | None
    from_me: bool
    status: str | None


class NewEvent(NamedTuple):
    """An event to store: the summary's fields, where it came from, and WAHA's envelope as JSON text."""

    id: str
    ts: int
    session: str
    event: str
    chat: str | None
    sender: str | None
    message_id: str | None
    text: str | None
    media: str | None
    from_me: bool
    status: str | None
    source: str
    envelope: str


@dataclass(frozen=True)
class Query:
    """Which stored events to list: every condition given must hold."""

    sessions: Sequence[str] = ()
    events: Sequence[str] = ()  # exact names, or a prefix ending in `*` (`message*`, `group.v2.*`)
    chat: str | None = None
    after: int = 0  # cursor
    since_ms: int | None = None
    limit: int = 50
    newest_first: bool = False


@dataclass(frozen=True)
class Retention:
    """Drop events stamped before `before_ms`, and all but the newest `keep`."""

    before_ms: int
    keep: int


class Conversation(NamedTuple):
    session: str
    chat: str
    received: int  # message events stored for this (session, chat)
    last: EventRecord


class InboxStore(ABC):
    """WAHA's events, each stored once by its envelope id, in arrival order (`seq`)."""

    @abstractmethod
    async def add(self, events: Sequence[NewEvent], received_ms: int, retention: Retention | None) -> list[int | None]:
        """Store `events` in one transaction (applying `retention` in it when given): per event its new `seq`, or
        None for an id already stored (a retried delivery). Durable when this returns."""

    @abstractmethod
    async def prune(self, retention: Retention) -> int:
        """Apply retention now; how many rows went."""

    @abstractmethod
    async def query(self, q: Query) -> list[EventRecord]:
        """The events `q` selects, by `seq` (newest first when `q.newest_first`), at most `q.limit`."""

    @abstractmethod
    async def envelope(self, event_id: str) -> str | None:
        """WAHA's envelope of a stored event, as the JSON text it arrived as."""

    @abstractmethod
    async def count(self) -> int: ...

    @abstractmethod
    async def last_cursor(self) -> int:
        """The highest `seq` stored (0 when empty)."""

    @abstractmethod
    async def conversations(self, sessions: Iterable[str], limit: int) -> list[Conversation]:
        """Per (session, chat) with message events (of `sessions`, or all): the count and the last one, newest
        first."""

    @abstractmethod
    def changes(self) -> AsyncIterator[None]:
        """Signals that events may have been stored by another process sharing the store: the reader then reads
        what is after its cursor (`query`), so a signal carries no rows and a lost one skips nothing. One signal
        comes first (and again after any reconnection, when signals may have been missed), to catch up. A
        backend with no other writers (SQLite: one process) gives that first signal only; its own process
        publishes what it stores directly."""


# --- the audit log ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditStart:
    started: float  # epoch seconds
    session: str | None
    tool: str
    target: str | None
    arguments: str  # already summarised and redacted by waha_mcp.safety.audit
    bulk_id: str | None


@dataclass(frozen=True)
class AuditFilter:
    session: str | None = None
    tool: str | None = None
    target: str | None = None  # a substring of the target
    outcome: str | None = None  # started | ok | error
    bulk_id: str | None = None
    since: float | None = None
    before: int | None = None  # rows older than this id (a page's cursor)
    limit: int = 50


AUDIT_COLUMNS = (
    "id", "started", "finished", "session", "tool", "target", "arguments", "outcome", "detail", "message_id", "bulk_id"
)  # fmt: skip


class AuditLog(ABC):
    """Every write call: a row `started` before WAHA is asked, finished (`ok` / `error`) after."""

    @abstractmethod
    async def start(self, entry: AuditStart) -> int:
        """Record a call as started; its row id. Durable when this returns (the call may then go out)."""

    @abstractmethod
    def finish(self, row: int, finished: float, outcome: str, detail: str | None, message_id: str | None) -> None:
        """Queued: record a call's outcome without waiting. A failure is logged, never raised (the row then
        stays `started`: unknown, which is the truth from the log's point of view)."""

    @abstractmethod
    async def query(self, f: AuditFilter) -> list[dict[str, Any]]:
        """Rows (keys: AUDIT_COLUMNS) newest first, after every outcome queued by this instance is recorded."""

    @abstractmethod
    async def finished_sessions(self, bulk_id: str, tool: str) -> dict[str, str]:
        """Bulk runs: per session, the outcome (`ok` or `started`) of its calls of `tool` under `bulk_id` that
        went out, oldest first (a later one wins), after every queued outcome is recorded."""


# --- pacing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotView:
    """What a session's pacing state says before a new slot is reserved (loaded inside the reservation)."""

    now: float  # the clock, read once the session's lock is held (a wait for the lock does not age the slot)
    tat: float | None  # the token bucket's theoretical arrival time for (session, kind)
    last: float | None  # the latest slot of (session, kind)
    chat_last: dict[str, float | None]  # per chat: its latest slot (any kind)
    known: frozenset[str]  # of the chats, those this session has written to before
    last_first: float | None  # the latest first-contact slot of the session
    recent: list[float]  # distinct slot times of (session, kind), newest first, at most `cap`


@dataclass(frozen=True)
class Slot:
    """A rule's decision: reserve `at` for every chat, flagged first contact or not; the bucket moves to `tat`;
    `remember` says whether the chats become known to the session."""

    at: float
    first: bool
    tat: float
    remember: bool


@dataclass(frozen=True)
class FireView:
    """A reserved send at its slot: its chats, whether it is a first contact, and the sends that went out."""

    now: float  # the clock, read once the session's lock is held; a send let go is marked as sent then
    chats: list[str | None]
    first: bool
    chat_fired: dict[str, float | None] = field(default_factory=dict)  # per chat: the latest send that went out
    last_first_fired: float | None = None
    recent_fired: list[float] = field(default_factory=list)  # distinct times, newest first, at most `cap`


class PacingStore(ABC):
    """Send slots per session, shared by every process on the store: a slot is never granted twice."""

    @abstractmethod
    async def reserve(
        self,
        session: str,
        kind: str,
        chats: Sequence[str],
        *,
        clock: Callable[[], float],
        keep: float,
        cap: int,
        decide: Callable[[SlotView], Slot],
    ) -> tuple[float, list[int]]:
        """Atomically, holding the session's lock: read `clock` (now), drop the session's slots older than
        `now - keep`, load its view, let `decide` choose
        (it may raise: nothing is then reserved), store the slot (one row per chat, one if none) and the
        bucket; the slot's time and its row ids."""

    @abstractmethod
    async def fire(
        self,
        session: str,
        kind: str,
        rows: Sequence[int],
        *,
        clock: Callable[[], float],
        cap: int,
        decide: Callable[[FireView], float],
    ) -> float:
        """Atomically, holding the session's lock: read `clock`, load the reserved rows and what went out, let
        `decide` say how long to wait; at 0 (or less) mark the rows as sent now and return 0, else return the
        wait and change nothing."""

    @abstractmethod
    async def release(self, session: str, kind: str, rows: Sequence[int], *, clock: Callable[[], float],
                      interval: float) -> None:  # fmt: skip
        """Atomically, holding the session's lock: a reserved send that did not go out is given back: its rows go,
        a first contact's chats are no longer known, and the bucket moves back `interval` (never before `clock`)."""

    @abstractmethod
    def done(self, rows: Sequence[int], now: float) -> None:
        """Queued: the send is over; its rows count from `now`. Recorded before this instance's next
        `reserve` or `fire`."""


# --- the session directory -----------------------------------------------------------------------------


class SessionDirectory(ABC):
    """Which WAHA server holds which session (the client layer routes by it, waha_mcp.client.fleet), as each
    server last listed them: shared by replicas, so one that learnt a move spares the others a re-list."""

    @abstractmethod
    async def replace(self, server: str, sessions: Iterable[str], at: float) -> None:
        """`server` holds exactly `sessions`, as listed at `at` (epoch seconds): its earlier rows go, in one
        transaction (a reader sees the old list or the new one, never a mix)."""

    @abstractmethod
    async def load(self) -> dict[str, tuple[str, ...]]:
        """Per server that was ever listed, the sessions it held (sorted; a server holding none maps to ())."""


# --- the whole store -------------------------------------------------------------------------------------


class Store(ABC):
    """The process's durable store: one instance per process, opened at start (migrated to the newest schema;
    a store that cannot be used raises `StoreError` there), closed by the server's `close`."""

    inbox: InboxStore
    audit: AuditLog
    pacing: PacingStore
    directory: SessionDirectory

    #: How the store may be shown (logs, doctor, errors): a path, or a DSN without its password.
    shown: str
    #: The schema version the store is at after opening.
    version: int

    @abstractmethod
    async def ready(self) -> str | None:
        """None when the store answers now; else why not, in one line (DSN password hidden): readiness."""

    @abstractmethod
    async def flush(self) -> None:
        """Wait until every queued record (`AuditLog.finish`, `PacingStore.done`) of this instance is written: the
        server's lifespan calls it on the way out, so a clean exit loses none."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and threads (from outside the event loop that used the store, or inside it)."""
