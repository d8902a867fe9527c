"""Who a `@lid` is: the phone id behind WhatsApp's hidden-number identities, per session, cached.

WhatsApp increasingly shows people (group senders, participants) by a LID (`<digits>@lid`) instead of their
number. WAHA maps one to the other (`GET /api/{session}/lids/{lid}`), one request per LID. `LidCache` keeps
the answers so a LID costs one lookup per session, not one per message or per call:

- per session: the same LID may be known to one account and not to another;
- bounded (least recently used entries go first) and timed (an answer is kept `ttl` seconds, a miss or a
  failure `miss_ttl` seconds, so a number WhatsApp reveals later is picked up);
- concurrent calls asking for the same LID share one lookup;
- a failed lookup is a miss: the LID stays as it is and the caller's result never fails because of it.

The app state (`tools.pipeline.App`) owns one cache for the server's lifetime.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeGuard

from waha_mcp.client import WAHAError
from waha_mcp.ids import c_us

LIDS_OPERATION = "LidsController_findPNByLid"

Lookup = Callable[[str], Awaitable[str | None]]  # a LID → its phone id, or None (unknown or failed)


def is_lid(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.endswith("@lid")


def phone_id(value: object) -> str | None:
    """WAHA's `pn` (`<digits>@c.us`, a user JID or bare digits) as a `<digits>@c.us` id; None for anything else
    (a LID, a group: not a phone)."""
    if not isinstance(value, str) or not value:
        return None
    local, at, server = c_us(value.strip()).partition("@")
    digits = local.lstrip("+")
    return f"{digits}@c.us" if digits.isdigit() and (not at or server == "c.us") else None


class LidCache:
    def __init__(
        self,
        max_entries: int = 5000,
        ttl: float = 6 * 3600,
        miss_ttl: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()
        self._pending: dict[tuple[str, str], asyncio.Future[str | None]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def known(self, session: str, lid: str) -> tuple[bool, str | None]:
        """(cached, phone id): a cached None is a recent miss."""
        key = (session, lid)
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        expires, pn = entry
        if expires <= self._clock():
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, pn

    def put(self, session: str, lid: str, pn: str | None) -> None:
        key = (session, lid)
        self._entries[key] = (self._clock() + (self.ttl if pn else self.miss_ttl), pn)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, session: str) -> None:
        """Everything known for a session (it logged out, or became another account)."""
        for key in [k for k in self._entries if k[0] == session]:
            del self._entries[key]

    async def phones(self, session: str, ids: Iterable[str], lookup: Lookup) -> dict[str, str]:
        """LID → phone id for every LID among `ids` the session knows; unknown LIDs are left out."""
        found: dict[str, str] = {}
        for lid in dict.fromkeys(i for i in ids if is_lid(i)):
            pn = await self._one(session, lid, lookup)
            if pn:
                found[lid] = pn
        return found

    async def _one(self, session: str, lid: str, lookup: Lookup) -> str | None:
        cached, pn = self.known(session, lid)
        if cached:
            return pn
        key = (session, lid)
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            pn = await lookup(lid)
        except BaseException:
            future.set_result(None)  # whoever waits on it gets a miss; this caller gets the exception
            raise
        finally:
            self._pending.pop(key, None)
        self.put(session, lid, pn)
        future.set_result(pn)
        return pn


class _Caller(Protocol):
    """What a lookup needs of a tool invocation (waha_mcp.tools.pipeline.Invocation)."""

    session: str | None
    app: Any

    async def call(self, operation_id: str, *, lid: str) -> Any: ...


async def phones_of(inv: _Caller, ids: Iterable[str | None]) -> dict[str, str]:
    """LID → phone id for the LIDs among `ids` the acting session knows, through the app's cache: one WAHA
    lookup per unknown LID; a failed lookup is a miss and never fails the caller."""
    lids = [i for i in ids if is_lid(i)]
    session = inv.session
    if not lids or session is None:
        return {}

    async def lookup(lid: str) -> str | None:
        try:
            answer = await inv.call(LIDS_OPERATION, lid=lid)
        except WAHAError:
            return None
        return phone_id(answer.get("pn")) if isinstance(answer, dict) else None

    cache: LidCache = inv.app.lids
    return await cache.phones(session, lids, lookup)
