"""📞 Calls: reject an incoming call.

Calls ring through `ring(sandbox, session, caller)` (or `POST /__sandbox/{session}/call {"from"}`)
and are kept in the sandbox model; rejecting a call id the session never saw is a 404, rejecting it
as someone else a 400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import errors
from ..model import Call
from ..registry import Ctx, route
from ._common import normalize_chat_id

if TYPE_CHECKING:
    from ..app import Sandbox


def ring(sb: Sandbox, session: str, caller: str) -> dict[str, Any]:
    """Someone calls the session's account; returns the call (its `id` is what reject needs)."""
    if not caller.strip():
        raise ValueError("from (the caller's chat id) is required")
    return sb.model.ring(session, normalize_chat_id(caller)).to_waha(session)


def calls_of(sb: Sandbox, session: str) -> list[Call]:
    return sb.model.calls_of(session)


@route("CallsController_rejectCall")
async def reject(ctx: Ctx) -> None:
    session = await ctx.working_session()
    body = ctx.body or {}
    call = ctx.sandbox.model.calls.get((session.name, str(body.get("id"))))
    if call is None:
        raise errors.nest(404, f"Call '{body.get('id')}' not found")
    if normalize_chat_id(str(body.get("from"))) != call.caller:
        raise errors.bad_request([f"from must be the caller of call {call.id}"])
    call.status = "rejected"
    session.announce("call.rejected", call.to_waha(session.name))
