"""Chatting and Events through `call()`: sends are never retried. Request bodies are the tools' (tests/tools)."""

from __future__ import annotations

import pytest

from waha_mcp.client import WAHAClient, WAHAError
from waha_mcp.client._http import routes
from waha_mcp.sandbox import Sandbox
from waha_mcp.tools.registry import all_tools

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def _person(sandbox: Sandbox, n: int = 0) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return list(world.contacts)[n]


def test_every_operation_the_messages_tools_send_is_a_write() -> None:
    """`call()` retries only reads: no send of the messages toolset may be classified as one."""
    sends = {op for spec in all_tools() if spec.toolset == "messages" and not spec.read_only for op in spec.operations}
    assert sends and all(op.startswith(("ChattingController_", "EventsController_")) for op in sends)
    assert [op for op in sorted(sends) if routes()[op].read] == []


@pytest.mark.parametrize("kind", ["status", "drop"])
async def test_sends_are_never_retried(waha: WAHAClient, sandbox: Sandbox, kind: str) -> None:
    chat = _person(sandbox)
    sandbox.faults.add("ChattingController_sendImage", kind=kind, status=503)  # type: ignore[arg-type]
    file = {"mimetype": "image/png", "filename": "a.png", "data": PNG}
    with pytest.raises(WAHAError):
        await waha.call("ChattingController_sendImage", "default", body={"chatId": chat, "file": file})
    assert [r.path for r in sandbox.requests] == ["/api/sendImage"]


async def test_reads_are_retried_but_sends_are_not_under_the_same_fault(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add(None, kind="status", status=503)
    with pytest.raises(WAHAError):
        await waha.call("SessionsController_get", "default")
    reads = len(sandbox.requests)
    assert reads == 3  # GET: first try + 2 retries
    chat = _person(sandbox)
    for operation, body in (
        ("ChattingController_sendText", {"chatId": chat, "text": "once"}),  # session in the body
        ("ChattingController_setReaction", {"messageId": f"true_{chat}_AAAAAAAAAAAA", "reaction": "👍"}),  # PUT
        ("EventsController_sendEvent", {"chatId": chat, "event": {"name": "x", "startTime": 1}}),  # session in path
    ):
        with pytest.raises(WAHAError):
            await waha.call(operation, "default", body=body)
    assert len(sandbox.requests) == reads + 3
