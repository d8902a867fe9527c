"""Toolset `sandbox` (only with `--sandbox`): what the emulator's control endpoints do, for a newcomer walking
the guide in one process: pair a session, receive a message, force a state, inject a fault.

None of these reach WAHA: they act on the built-in emulator, which is found through the client's transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.tools._common import ChatId, Phone, Session
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

if TYPE_CHECKING:
    from waha_mcp.sandbox import Sandbox

State = Literal["STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"]
FaultKind = Literal["latency", "status", "drop", "malformed", "empty", "clear"]


def _sandbox(w: Invocation) -> Sandbox:
    from waha_mcp.sandbox import Sandbox  # loaded already when it stands in: this server runs it

    found = getattr(w.stand_in(), "sandbox", None)
    if not isinstance(found, Sandbox):
        raise ToolInputError("this server does not run the built-in sandbox (start it with --sandbox)")
    return found


def _act(w: Invocation, action: Any) -> Any:
    """A control action's refusal (unknown session, wrong state, bad value) as one line."""
    from waha_mcp.sandbox import SandboxStateError

    try:
        return action()
    except KeyError as exc:
        raise ToolInputError(f"{exc.args[0]}: see waha_list_sessions") from None
    except (SandboxStateError, ValueError) as exc:
        raise ToolInputError(str(exc)) from None


@tool(
    "Sandbox: pair a session showing its QR, as a phone scanning it would.",
    effect=Effect.LOCAL,
    operations=(),
)
async def sandbox_pair(w: Invocation, session: Session = None, phone: Phone | None = None) -> view.SandboxSession:
    sb = _sandbox(w)
    return view.sandbox_session(_act(w, lambda: sb.scan(str(session), phone)))


@tool(
    "Sandbox: someone sends the session a text message.",
    effect=Effect.LOCAL,
    operations=(),
)
async def sandbox_receive(
    w: Invocation,
    chatId: ChatId,
    text: Annotated[str, Field(min_length=1, max_length=4096)],
    session: Session = None,
    sender: Annotated[ChatId | None, Field(description="Group member who sends it.")] = None,
) -> view.SandboxMessage:
    sb = _sandbox(w)
    message = _act(w, lambda: sb.inject_inbound(str(session), chatId, text, sender))
    return view.sandbox_message(str(session), message, chatId, text)


@tool(
    "Sandbox: force a session's state (held until a lifecycle call).",
    effect=Effect.LOCAL,
    operations=(),
)
async def sandbox_set_state(w: Invocation, state: State, session: Session = None) -> view.SandboxSession:
    sb = _sandbox(w)
    return view.sandbox_session(_act(w, lambda: sb.set_status(str(session), state)))


@tool(
    "Sandbox: make WAHA routes fail, slow or drop; kind=clear removes all.",
    effect=Effect.LOCAL,
    scope="server",
    operations=(),
)
async def sandbox_fault(
    w: Invocation,
    kind: FaultKind,
    session: Session = None,
    route: Annotated[str | None, Field(description="operationId or 'METHOD /path'; all routes if unset.")] = None,
    status: Annotated[int, Field(ge=200, le=599)] = 500,
    delay: Annotated[float, Field(ge=0, le=120)] = 0.0,
    times: Annotated[int | None, Field(ge=1)] = None,
) -> view.SandboxFaults:
    sb = _sandbox(w)
    if kind == "clear":
        sb.faults.clear()
    else:
        _act(w, lambda: sb.faults.add(route, kind=kind, status=status, delay=delay, times=times))
    return view.sandbox_faults([rule.to_dict() for rule in sb.faults.rules])
