"""Sessions WhatsApp has stopped from messaging new chats: pacing holds their sends until WhatsApp lets go.

Two account limits look like a healthy WORKING session that fails every send to someone new:
- the reach-out timelock (error 463; WAHA 2026.7.2+ reports it as `me.reachoutTimelock`, in `session.status` as
  `payload.data.reachoutTimelock`, and from 2026.8.1 at `GET /api/sessions/{s}/timelock`);
- message capping, the quota of new chats per cycle (error 475; WAHA 2026.8.1+ reports `me.messageCapping`, also
  in `session.status`, and at `GET /api/sessions/{s}/capping`).
WAHA's docs: do not restart or re-pair the session, the restriction lifts by itself; WAHA itself blocks nothing.
Retrying into either is how an account gets banned, so the server holds every paced action of such a session
(sends and group changes) until the end WhatsApp gave, or `UNKNOWN_END` when it gave none.

One `Holds` per process (beside the LID cache): fed by the refusals (see `learn_refusal`), by `session.status`
events and by reading the limits (`waha_get_send_limits`). Replicas each learn from what they see.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from waha_mcp.client._http import QUIET
from waha_mcp.client.errors import MessageCapped, ReachoutLimited, WAHAError
from waha_mcp.projections.common import unix_time

if TYPE_CHECKING:
    from waha_mcp.client import WAHAClient
    from waha_mcp.client.fleet import Fleet

TIMELOCK = "reach-out timelock (WhatsApp error 463)"
CAPPING = "new-chat message capping (WhatsApp error 475)"
UNKNOWN_END = 3600.0  # seconds held when WhatsApp gave no end: long enough not to hammer it, short enough to retry


@dataclass(frozen=True, slots=True)
class Hold:
    cause: str  # TIMELOCK or CAPPING
    until: float  # unix seconds
    told: bool  # WhatsApp gave the end (else it is UNKNOWN_END from when it was learnt)


def seconds(value: Any) -> float | None:
    """WAHA's unix time in seconds (milliseconds tolerated), or None."""
    stamp = unix_time(value)
    if stamp is None:
        return None
    return stamp / 1000 if stamp > 1e11 else float(stamp)


class Holds:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._holds: dict[tuple[str, str], Hold] = {}

    def hold(self, session: str, cause: str, until: float | None) -> Hold:
        now = self._clock()
        told = until is not None and until > now
        held = Hold(cause, until if until is not None and told else now + UNKNOWN_END, told)
        self._holds[(session, cause)] = held
        return held

    def lift(self, session: str, cause: str) -> None:
        self._holds.pop((session, cause), None)

    def active(self, session: str) -> Hold | None:
        """The hold that ends last for `session`, or None; ended holds are forgotten."""
        now = self._clock()
        found: Hold | None = None
        for key in [key for key in self._holds if key[0] == session]:
            held = self._holds[key]
            if held.until <= now:
                del self._holds[key]
            elif found is None or held.until > found.until:
                found = held
        return found

    # --- what WAHA says -----------------------------------------------------------------------------------
    def learn_timelock(self, session: str, lock: Any) -> Hold | None:
        """From a `ReachoutTimelockData` ({isActive, timeEnforcementEnds, enforcementType})."""
        if not isinstance(lock, dict) or "isActive" not in lock:
            return None
        ends = seconds(lock.get("timeEnforcementEnds"))
        if lock.get("isActive") is True and (ends is None or ends > self._clock()):
            return self.hold(session, TIMELOCK, ends)
        self.lift(session, TIMELOCK)
        return None

    def learn_capping(self, session: str, capping: Any) -> Hold | None:
        """From a `MessageCappingData` ({cappingStatus, cycleEnd, ...}): only CAPPED blocks."""
        if not isinstance(capping, dict) or not isinstance(capping.get("cappingStatus"), str):
            return None
        ends = seconds(capping.get("cycleEnd"))
        if capping["cappingStatus"] == "CAPPED" and (ends is None or ends > self._clock()):
            return self.hold(session, CAPPING, ends)
        self.lift(session, CAPPING)
        return None

    def learn_status(self, session: str, envelope: Any) -> None:
        """A `session.status` event or a session's info: whatever it says of either limit.

        The timelock is `payload.data.reachoutTimelock` in the event (WAHA 2026.7 blog) and `me.reachoutTimelock`
        in the session info; capping is `me.messageCapping` in both (WAHA 2026.8 blog, sessions.dto.ts MeInfo).
        """
        if not isinstance(envelope, dict):
            return
        me = envelope.get("me")
        payload = envelope.get("payload")
        data = payload.get("data") if isinstance(payload, dict) else envelope.get("data")
        for lock in (
            data.get("reachoutTimelock") if isinstance(data, dict) else None,
            me.get("reachoutTimelock") if isinstance(me, dict) else None,
        ):
            if lock is not None:
                self.learn_timelock(session, lock)
                break
        if isinstance(me, dict):
            self.learn_capping(session, me.get("messageCapping"))


async def learn_refusal(
    holds: Holds, client: WAHAClient | Fleet, session: str, error: ReachoutLimited | MessageCapped
) -> Hold:
    """A send WhatsApp refused with error 463 or 475: hold the session, until when this WAHA says (it is read
    from the limit's own route, else from the session's info), and tell the error (`until`, `told`)."""
    capped = isinstance(error, MessageCapped)
    token = QUIET.set(True)  # bookkeeping of the refusal, not an operation of the tool that was refused
    try:
        if capped:
            held = holds.learn_capping(session, await _quietly(client, "SessionsController_getMessageCapping", session))
        else:
            lock = await _quietly(client, "SessionsController_getReachoutTimelock", session)
            if lock is None:  # before 2026.8.1: the session's info carries it (2026.7.2+)
                info = await _quietly(client, "SessionsController_get", session)
                me = info.get("me") if isinstance(info, dict) else None
                lock = me.get("reachoutTimelock") if isinstance(me, dict) else None
            held = holds.learn_timelock(session, lock)
    finally:
        QUIET.reset(token)
    # WhatsApp has just refused: hold even if the limit's route says otherwise (it may lag).
    held = held or holds.hold(session, CAPPING if capped else TIMELOCK, None)
    error.until, error.told = held.until, held.told
    return held


async def _quietly(client: WAHAClient | Fleet, operation: str, session: str) -> Any:
    try:
        return await client.call(operation, session)
    except WAHAError:
        return None  # an older WAHA, or the read failed: the refusal is what matters
