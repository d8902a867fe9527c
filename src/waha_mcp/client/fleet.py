"""Several WAHA servers behind the one client face the tools use (`call(operation, session, ...)`).

WAHA has no router: its scaling guide leaves a session → worker table to the application. The `Fleet` keeps
one `WAHAClient` per server and a session directory (which server holds which session), learnt from every
server's session list (in parallel), kept fresh by `session.status` events (`heard`) and by a 404 "session not
found" from the server the directory named; shared by replicas through the store (`SessionDirectory`).

With one server nothing of this runs: every call goes straight to its client, exactly as before fleets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from waha_mcp.client import WAHAClient
from waha_mcp.client._http import QUIET, Binary
from waha_mcp.client.errors import DuplicateSession, NotFound, UnknownSession, WAHAError
from waha_mcp.client.version import ServerVersion
from waha_mcp.store.base import SessionDirectory, StoreUnavailable

log = logging.getLogger("waha_mcp.client")

# `session.status` events come in bursts (a server restarting reports every session): one re-list per burst.
SETTLE = 1.0
# A session starting may have begun on another server (created or started there): re-list to find out.
MAY_HAVE_MOVED = frozenset({"STARTING"})


def session_missing(error: WAHAError, session: str) -> bool:
    """WAHA's 404 for a session it does not have (`Session not found`, `We didn't find a session with name
    'x'`), not for a chat or message, nor NestJS's `Cannot GET` (an EndpointMissing, never a NotFound)."""
    text = error.message.lower()
    return isinstance(error, NotFound) and error.status == 404 and "session" in text


def _duplicate(session: str, held: Iterable[str]) -> DuplicateSession:
    return DuplicateSession(
        f"session '{session}' exists on servers {' and '.join(repr(s) for s in held)}: nothing was sent; "
        f"remove it from all but one (waha_delete_session with server), then retry",
        session=session,
    )


class Fleet:
    """The WAHA servers by name, each with its own client (its own version and tier), and the session directory.

    `call` routes by the directory; `server=` names the server for what takes no session (server-wide reads,
    a session's creation). With one server, `server=` may be left out everywhere.
    """

    def __init__(
        self,
        clients: Mapping[str, WAHAClient],
        *,
        capacity: Mapping[str, int | None] | None = None,
        directory: SessionDirectory | None = None,
        settle: float = SETTLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not clients:
            raise ValueError("a fleet needs at least one WAHA server")
        self.clients = dict(clients)
        self.names = tuple(self.clients)
        self.several = len(self.names) > 1
        self.capacity = {name: (capacity or {}).get(name) for name in self.names}
        self._only = None if self.several else self.clients[self.names[0]]
        # One list for every member: an observer added here (the pipeline's) hears each server's requests.
        self.on_operation: list[Callable[[str], None]] = []
        for client in self.clients.values():
            client.on_operation = self.on_operation
        self.listed: dict[str, tuple[str, ...]] = {}  # server → its sessions, as last listed
        self.held: dict[str, tuple[str, ...]] = {}  # session → the servers listing it (two or more: a duplicate)
        self.unreachable: dict[str, str] = {}  # server → why its last listing failed
        self._store = directory
        self._settle = settle
        self._clock = clock
        self._listing: dict[str, asyncio.Task[None]] = {}  # per server, the listing in flight
        self._storing: set[asyncio.Task[Any]] = set()  # tasks inside a store operation: finished, never cancelled
        self._loaded = False
        self._soon: asyncio.TimerHandle | None = None

    # --- the client face ------------------------------------------------------------------------------

    async def call(
        self,
        operation_id: str,
        session: str | None = None,
        *,
        server: str | None = None,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        accept: str = "application/json",
    ) -> Any:
        """WAHA's `operation_id` on the server holding `session` (or on `server`, named)."""
        only = self._only
        if only is not None:
            if server is not None:
                self._check(server)
            return await only.call(operation_id, session, path=path, query=query, body=body, accept=accept)
        name = self._check(server) if server is not None else await self.server_of(session, operation_id)
        try:
            return await self.clients[name].call(operation_id, session, path=path, query=query, body=body,
                                                 accept=accept)  # fmt: skip
        except WAHAError as exc:
            if server is not None or not session or not session_missing(exc, session):
                raise self._named(exc, name) from None
            moved = await self._moved(session, name)
            if moved is None:
                raise self._named(exc, name) from None
        # WAHA found no such session: its 404 comes from the session lookup (a route pipe, or the handler's first
        # step for a session in the body) before anything is done, so the request acted on nothing and sending it
        # to the server now holding the session sends it once. No other failure is ever re-sent.
        try:
            return await self.clients[moved].call(operation_id, session, path=path, query=query, body=body,
                                                  accept=accept)  # fmt: skip
        except WAHAError as exc:
            raise self._named(exc, moved) from None

    async def require(self, session: str | None, operation_id: str, *, server: str | None = None) -> None:
        """`TooOld`, nothing sent, when the server that would answer is known to predate `operation_id`."""
        name = self._check(server) if server is not None else await self.server_of(session, operation_id)
        try:
            await self.clients[name].require(session, operation_id)
        except WAHAError as exc:
            raise self._named(exc, name) from None

    async def server_version(self, session: str | None = None, *, server: str | None = None) -> ServerVersion | None:
        """The version and tier of the server holding `session` (or `server`); None when it cannot say (or, in a
        fleet, when neither says which server)."""
        name = self._member_name(session, server)
        return None if name is None else await self.clients[name].server_version()

    def remember_version(
        self, answer: Any, session: str | None = None, *, server: str | None = None
    ) -> ServerVersion | None:
        """A version answer just read from the server holding `session` (or `server`): its client keeps it."""
        name = self._member_name(session, server)
        return None if name is None else self.clients[name].remember_version(answer)

    async def list_sessions(self, all: bool = False) -> list[dict[str, Any]]:
        """Every server's sessions (one request each, in parallel); in a fleet each names its `server`. Raises
        only when no server answers; what a server that answered nothing held is left out (see `list_everywhere`)."""
        return (await self.list_everywhere(all))[0]

    async def list_everywhere(self, all: bool = False) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Every server's sessions, each tagged with its `server` in a fleet, and, per server that did not answer,
        why; raises only when no server answers. A whole list (`all`) is what the directory learns and shares."""
        if self._only is not None:
            return [s for s in await self._only.list_sessions(all=all) if isinstance(s, dict)], {}
        results = await self.each(lambda name, client: client.list_sessions(all=all))
        failures = [r for r in results.values() if isinstance(r, WAHAError)]
        if len(failures) == len(results):
            raise failures[0]
        merged: list[dict[str, Any]] = []
        down: dict[str, str] = {}
        for name, result in results.items():
            if isinstance(result, WAHAError):
                down[name] = result.message
                continue
            listed = [s for s in result if isinstance(s, dict)]
            if all:  # only the whole list says what a server holds: a list of working ones leaves stopped ones out
                await self.record(name, [str(s["name"]) for s in listed if s.get("name")])
            merged.extend({**s, "server": name} for s in listed)
        return merged, down

    def missing_operations(self, session: str | None = None) -> set[str]:
        """Operations the server holding `session` answered with NestJS's `Cannot GET` (an older WAHA)."""
        name = self._member_name(session, None)
        return self.clients[name].missing_operations if name is not None else set()

    def client_of(self, session: str | None = None, server: str | None = None) -> WAHAClient | None:
        """The member a session's files and sandbox live on (from the directory as it is, no request)."""
        name = self._member_name(session, server)
        return None if name is None else self.clients[name]

    async def files_path(self, session: str | None, url: str) -> str:
        """`url`'s path on the file server of the WAHA holding `session`; `NotOnFileServer` for any other URL."""
        name = await self._holder_of(session)
        try:
            return self.clients[name].files_path(url, session)
        except WAHAError as exc:
            raise self._named(exc, name) from None

    def base_url(self, session: str | None = None) -> str:
        client = self.client_of(session)
        return client.base_url if client is not None else ", ".join(c.base_url for c in self.clients.values())

    async def fetch_file(self, session: str | None, url: str, *, max_bytes: int) -> Binary:
        """A file from the file server of the WAHA holding `session`; `NotOnFileServer` (nothing sent) for a URL
        elsewhere."""
        name = await self._holder_of(session)
        try:
            return await self.clients[name].fetch_file(session, url, max_bytes=max_bytes)
        except WAHAError as exc:
            raise self._named(exc, name) from None

    @property
    def transport(self) -> Any:
        """The only server's stand-in transport (the embedded sandbox), else None."""
        return self._only.transport if self._only is not None else None

    async def each(self, fn: Callable[[str, WAHAClient], Any], servers: Iterable[str] | None = None) -> dict[str, Any]:
        """`fn(name, client)` on every server (or `servers`) in parallel: per server its result or its
        `WAHAError` (named after the server); any other exception propagates."""
        names = list(servers) if servers is not None else list(self.names)

        async def one(name: str) -> Any:
            try:
                return await fn(name, self.clients[name])
            except WAHAError as exc:
                return self._named(exc, name)

        return dict(zip(names, await asyncio.gather(*(one(name) for name in names)), strict=True))

    async def aclose(self) -> None:
        if self._soon is not None:
            self._soon.cancel()
        # Listings in flight end here: one still waiting for WAHA is cancelled; one inside a store operation is let
        # finish (a PostgreSQL connection cancelled mid-release would be torn down under it by the store's close).
        pending = [task for task in self._listing.values() if not task.done()]
        for task in pending:
            if task not in self._storing:
                task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for client in self.clients.values():
            await client.aclose()

    # --- routing ----------------------------------------------------------------------------------------

    def _check(self, server: str) -> str:
        if server not in self.clients:
            raise ValueError(f"no WAHA server {server!r}; servers: {', '.join(self.names)}")
        return server

    def _named(self, error: WAHAError, server: str) -> WAHAError:
        if self.several and not error.server:
            error.server = server
            # The client's advice names the one-server setting; here the server's entry is what to check.
            error.message = error.message.replace("(check WAHA_BASE_URL)", f"(check '{server}' in WAHA_SERVERS)")
        return error

    def holder(self, session: str) -> str | None:
        """The server the directory (in memory) says holds `session`; None when unknown or held twice."""
        return self._member_name(session, None)

    async def _holder_of(self, session: str | None) -> str:
        name = self._member_name(session, None)
        return name if name is not None else await self.server_of(session, "")

    def _member_name(self, session: str | None, server: str | None) -> str | None:
        if server is not None:
            return self._check(server)
        if self._only is not None:
            return self.names[0]
        held = self.held.get(session or "")
        return held[0] if held and len(held) == 1 else None

    async def server_of(self, session: str | None, operation_id: str) -> str:
        """The server holding `session`: from memory; an unknown name first reloads the shared directory, then
        lists every server. A name two servers hold is refused (nothing is sent)."""
        if self._only is not None:
            return self.names[0]
        if not session:
            raise ValueError(f"{operation_id or 'this request'} takes no session: name the server "
                             f"({', '.join(self.names)})")  # fmt: skip
        held = self.held.get(session)
        if held is None:
            await self._look_for(session)
            held = self.held.get(session)
        if held is None:
            raise UnknownSession(self._unknown(session), session=session)
        if len(held) > 1:
            raise _duplicate(session, held)
        return held[0]

    def _unknown(self, session: str) -> str:
        down = "; ".join(f"server '{name}' could not be asked: {why}" for name, why in self.unreachable.items())
        return f"session '{session}' is on none of the servers ({', '.join(self.names)}){'; ' + down if down else ''}"

    async def _look_for(self, session: str) -> None:
        """Fill the directory until `session` is found: the store first (another replica may know it), then
        every server's list, returning as soon as one lists it (a slow server does not hold the others up)."""
        if await self.load() and session in self.held:
            return
        pending = set(self.refresh())
        while pending and session not in self.held:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

    async def _moved(self, session: str, was: str) -> str | None:
        """After WAHA said `was` lacks `session`: the server holding it now, if another; re-listed fresh."""
        await asyncio.gather(*self.refresh(fresh=True))
        held = self.held.get(session, ())
        if len(held) > 1:
            raise _duplicate(session, held)
        return held[0] if held and held[0] != was else None

    # --- the directory -------------------------------------------------------------------------------

    def learn(self, server: str, sessions: Iterable[str]) -> None:
        """`server` holds exactly `sessions` (its list just came): the in-memory directory follows."""
        self.listed[server] = tuple(sorted(set(sessions)))
        self.unreachable.pop(server, None)
        held: dict[str, list[str]] = {}
        for name in self.names:  # in configured order: a duplicate's message names them the same way each time
            for session in self.listed.get(name, ()):
                held.setdefault(session, []).append(name)
        self.held = {session: tuple(names) for session, names in held.items()}

    async def load(self) -> bool:
        """The directory as the store holds it (what any replica last listed), for servers not listed here yet.
        False when there is no store or it cannot be read now."""
        if self._store is None:
            return False
        try:
            with self._in_store():
                stored = await self._store.load()
        except StoreUnavailable as exc:
            log.debug("fleet: the session directory could not be read from the store (%s)", exc)
            return False
        for server, sessions in stored.items():
            if server in self.clients and server not in self.listed:
                self.learn(server, sessions)
        return True

    def refresh(self, *, fresh: bool = False) -> list[asyncio.Task[None]]:
        """List every server's sessions (in parallel), joining a listing already in flight unless `fresh`: the
        tasks, each updating the directory (memory and store) as its server answers."""
        tasks = []
        for name in self.names:
            task = self._listing.get(name)
            if task is None or task.done() or fresh:
                task = asyncio.get_running_loop().create_task(self._list(name))
                self._listing[name] = task
            tasks.append(task)
        return tasks

    async def _list(self, name: str) -> None:
        token = QUIET.set(True)  # the directory's bookkeeping, not an operation of any tool
        try:
            listed = await self.clients[name].list_sessions(all=True)
        except WAHAError as exc:
            self.unreachable[name] = exc.message
            return
        finally:
            QUIET.reset(token)
        await self.record(name, [str(s["name"]) for s in listed if isinstance(s, dict) and s.get("name")])

    async def record(self, server: str, sessions: Iterable[str]) -> None:
        """`server`'s whole list, just read: learnt here, and shared with replicas through the store."""
        names = list(sessions)
        self.learn(server, names)
        if self._store is not None:
            try:
                with self._in_store():
                    await self._store.replace(server, names, self._clock())
            except StoreUnavailable as exc:
                log.debug("fleet: the session directory could not be shared through the store (%s)", exc)
            except Exception as exc:  # sharing is a convenience: routing goes on from memory
                log.warning("fleet: the session directory was not written to the store (%s)", type(exc).__name__)

    @contextlib.contextmanager
    def _in_store(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._storing.add(task)
        try:
            yield
        finally:
            self._storing.discard(task)

    def start(self) -> None:
        """At start, with several servers: the shared directory, then every server's list, in the background."""
        if self.several:

            async def begin() -> None:
                await self.load()
                await asyncio.gather(*self.refresh())

            self._listing["*"] = asyncio.get_running_loop().create_task(begin())

    def heard(self, fresh: list[Any]) -> None:
        """The events ingest's listener: a `session.status` for a session the directory does not know, or one that
        may have begun elsewhere, re-lists every server once the burst settles (which server sent it need not
        be known)."""
        if not self.several or self._soon is not None:
            return
        for row in fresh:
            summary = row.summary
            if summary.event == "session.status" and (
                summary.session not in self.held or (summary.status or "") in MAY_HAVE_MOVED
            ):
                self._soon = asyncio.get_running_loop().call_later(self._settle, self._relist)
                return

    def _relist(self) -> None:
        self._soon = None
        self.refresh(fresh=True)
