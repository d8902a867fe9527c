"""Confirmation of destructive calls: MCP elicitation where the client supports it, else `confirm: true`.

Elicitation goes through the SDK's resolver machinery (`resolve_arguments`), the one way that works on
both protocol generations: from 2026-07-28 the question rides an `InputRequiredResult` and the client
retries the call with the answer; before, the server sends `elicitation/create` mid-call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import (
    AcceptedElicitation,
    Elicit,
    ElicitationResult,
    Resolve,
    build_resolver_plans,
    resolve_arguments,
)
from mcp_types import InputRequiredResult
from pydantic import BaseModel, Field

from waha_mcp.errors import ToolInputError
from waha_mcp.safety import CONFIRM_ARGUMENT
from waha_mcp.safety.targets import target_of

if TYPE_CHECKING:
    from waha_mcp.tools.pipeline import Invocation


class Confirmation(BaseModel):
    confirm: bool = Field(description="Yes, do it")


def can_elicit(context: Any) -> bool:
    """Did the client declare form elicitation (a bare `elicitation: {}` counts, a url-only one does not)?"""
    try:
        capabilities = context.client_capabilities
    except (AttributeError, ValueError):  # a direct call without a request
        return False
    found = getattr(capabilities, "elicitation", None)
    return found is not None and (found.form is not None or found.url is None)


async def question_for(inv: Invocation) -> str | None:
    """The tool's own question (declared with its registration), else the generic one for its effect."""
    declared = inv.spec.question
    if callable(declared):
        return await declared(inv)
    if isinstance(declared, str):
        return declared.format_map({**inv.args, "session": inv.session})
    target = target_of(inv.spec, inv.args)
    where = f" on {target}" if target else ""
    who = f"session {inv.session}" if inv.session else "the WAHA server"
    # Destructive tools cannot be undone; admin ones change how WAHA runs (keys, apps, webhooks).
    consequence = "It cannot be undone." if inv.spec.effect == "destructive" else "It changes WAHA's configuration."
    return f"Confirm {inv.spec.name} for {who}{where}? {consequence}"


async def elicit(context: Any, message: str) -> bool | InputRequiredResult:
    """Ask the user; True when they accepted with confirm=true. An InputRequiredResult (protocol 2026-07-28)
    is the question itself: it is returned to the client, which calls again with the answer."""

    async def ask() -> Elicit[Confirmation]:
        return Elicit(message, Confirmation)

    params: dict[str, tuple[Resolve, bool]] = {"answer": (Resolve(ask), True)}
    try:
        outcome = await resolve_arguments(params, build_resolver_plans(params, set()), {}, context)
    except ToolError as exc:  # an answer that does not fit the question
        raise ToolInputError(f"the confirmation answer was not understood ({exc}); nothing was sent") from None
    if isinstance(outcome, InputRequiredResult):
        return outcome
    answer: ElicitationResult[Confirmation] = outcome["answer"]
    return isinstance(answer, AcceptedElicitation) and answer.data.confirm


async def confirm(inv: Invocation, nxt: Callable[[Invocation], Awaitable[Any]]) -> Any:
    """The confirmation guard: nothing is sent until the user (or, without elicitation, `confirm: true`) agreed."""
    sometimes = not inv.spec.policy.confirm and callable(inv.spec.question)
    if inv.spec.policy.confirm:  # the registry added `confirm`; the tool never sees it
        given = bool(inv.args.pop(CONFIRM_ARGUMENT, False))
    else:  # a tool confirmed only sometimes (a bulk write) takes `confirm` itself
        given = sometimes and bool(inv.args.get(CONFIRM_ARGUMENT, False))
    if inv.confirmed:  # a bulk call confirmed once for every session
        return await nxt(inv)
    message = await question_for(inv) if inv.spec.policy.confirm or sometimes else None
    if message is None:
        return await nxt(inv)
    if can_elicit(inv.context):
        answer = await elicit(inv.context, message)
        if isinstance(answer, InputRequiredResult):
            return answer
        if not answer:
            raise ToolInputError(f"the user did not confirm ({message}); nothing was sent")
        inv.confirmed = True
        return await nxt(inv)
    if not given:
        raise ToolInputError(
            f"needs confirmation and this client cannot ask the user: call again with confirm: true "
            f"once the user agreed ({message}); nothing was sent"
        )
    inv.confirmed = True
    return await nxt(inv)
