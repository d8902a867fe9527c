"""📞 Calls: reject an incoming call.

Calls ring through `ring(sandbox, session, caller)` (or `POST /__sandbox/{session}/call {"from"}`);
rejecting a call id the session never saw is a 404, rejecting it as someone else a 400.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from .. import errors
from ..registry import Ctx, route
from ._common import normalize_chat_id

if TYPE_CHECKING:
    from ..app import Sandbox


@dataclass
class Call:
    id: str
    caller: str
    timestamp: int
    status: str = "offer"  # offer → rejected

    def to_waha(self, session: str) -> dict[str, Any]:
        """`CallData`, as in the call.received webhook."""
        return {
            "id": self.id,
            "from": self.caller,
            "timestamp": self.timestamp,
            "isVideo": False,
            "isGroup": False,
            "status": self.status,
            "session": session,
        }


_CALLS: WeakKeyDictionary[Sandbox, dict[tuple[str, str], Call]] = WeakKeyDictionary()


def ring(sb: Sandbox, session: str, caller: str) -> dict[str, Any]:
    """Someone calls the session's account; returns the call (its `id` is what reject needs)."""
    if session not in sb.sessions:
        raise KeyError(f"no sandbox session {session!r}")
    if not caller.strip():
        raise ValueError("from (the caller's chat id) is required")
    call = Call(id=secrets.token_hex(16).upper(), caller=normalize_chat_id(caller), timestamp=int(time.time()))
    _CALLS.setdefault(sb, {})[(session, call.id)] = call
    return call.to_waha(session)


def calls_of(sb: Sandbox, session: str) -> list[Call]:
    return [call for (name, _), call in _CALLS.get(sb, {}).items() if name == session]


@route("CallsController_rejectCall")
async def reject(ctx: Ctx) -> None:
    session = await ctx.working_session()
    body = ctx.body or {}
    call = _CALLS.get(ctx.sandbox, {}).get((session.name, str(body.get("id"))))
    if call is None:
        raise errors.nest(404, f"Call '{body.get('id')}' not found")
    if normalize_chat_id(str(body.get("from"))) != call.caller:
        raise errors.bad_request([f"from must be the caller of call {call.id}"])
    call.status = "rejected"
