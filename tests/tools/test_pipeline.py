"""The tool-call pipeline: strict arguments, the session that acted, guard slots and the request context."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult

from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import WahaMCP
from waha_mcp.tools import pipeline
from waha_mcp.tools.pipeline import Invocation, Next
from waha_mcp.tools.registry import all_tools

TOOLS = [spec.name for spec in all_tools()]


@pytest.mark.parametrize("name", TOOLS)
async def test_an_unknown_argument_is_refused_by_name_before_any_request(
    name: str, mcp: Client, sandbox: Sandbox
) -> None:
    message = error(await call(mcp, name, {"sesion": "business"}))
    assert message == f"{name}: unknown argument `sesion`: did you mean `session`?"
    assert sandbox.requests == []


@pytest.mark.parametrize("name", TOOLS)
async def test_an_empty_session_is_an_error_not_the_default(name: str, mcp: Client, sandbox: Sandbox) -> None:
    assert "session is empty" in error(await call(mcp, name, {"session": ""}))
    assert sandbox.requests == []


async def test_an_argument_far_from_any_name_lists_the_valid_ones(mcp: Client) -> None:
    message = error(await call(mcp, "waha_archive_chat", {"chatId": "123456789", "zzz": 1}))
    assert message.endswith("unknown argument `zzz`; valid: chatId, session, archived")


async def test_the_result_names_the_session_that_acted(mcp: Client) -> None:
    assert data(await call(mcp, "waha_get_chats", {"limit": 1}))["session"] == "default"
    assert data(await call(mcp, "waha_get_chats", {"limit": 1, "session": "business"}))["session"] == "business"


async def test_destructive_tools_name_the_sessions_instead_of_using_the_default(mcp: Client, sandbox: Sandbox) -> None:
    message = error(await call(mcp, "waha_delete_chat", {"chatId": "123456789"}))
    assert "needs an explicit `session`" in message and "default (WORKING)" in message
    assert all(request.method == "GET" for request in sandbox.requests)  # only the session listing


async def test_a_guard_in_the_slot_sees_the_resolved_call_and_can_refuse_before_waha(
    server: WahaMCP, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None, dict[str, Any]]] = []

    async def refuse_business(inv: Invocation, nxt: Next) -> CallToolResult:
        seen.append((inv.spec.name, inv.session, dict(inv.args)))
        if inv.session == "business":
            from waha_mcp.errors import ToolInputError

            raise ToolInputError("session business is not on the allow-list")
        return await nxt(inv)

    steps = [*pipeline.STEPS[:-1], refuse_business, pipeline.STEPS[-1]]
    monkeypatch.setattr(pipeline, "STEPS", steps)
    world = sandbox.sessions["default"].world
    assert world is not None
    person = next(chat for chat in world.chats.values() if chat.id.endswith("@c.us"))
    typed = "+" + person.id.removesuffix("@c.us")  # as a person would type it
    async with Client(server) as client:
        data(await call(client, "waha_archive_chat", {"chatId": typed}))
        refused = error(await call(client, "waha_archive_chat", {"chatId": typed, "session": "business"}))
    assert refused == "waha_archive_chat: session business is not on the allow-list"
    # The guard sees normalised arguments and the resolved session; the refused call sent nothing.
    assert seen[0] == ("waha_archive_chat", "default", {"chatId": person.id, "session": "default", "archived": True})
    assert not any(request.path.startswith("/api/business/") for request in sandbox.requests)


async def test_a_step_can_report_progress_through_the_request_context(
    server: WahaMCP, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def announce(inv: Invocation, nxt: Next) -> CallToolResult:
        await inv.progress(1, 2, f"{inv.spec.name} on {inv.session}")
        return await nxt(inv)

    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:-1], announce, pipeline.STEPS[-1]])
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with Client(server) as client:
        result = await client.call_tool("waha_get_session", {}, progress_callback=on_progress)
    assert not result.is_error
    assert updates == [(1, 2, "waha_get_session on default")]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"session": "default\n"}, "session"),
        ({"chatId": "123456789\n@c.us"}, "chatId"),
        ({"chatId": "123456789@c.us", "messageId": "true_123@c.us_AB\nC"}, "messageId"),
    ],
)
async def test_a_trailing_or_embedded_newline_is_refused_not_encoded(
    arguments: dict[str, Any], field: str, mcp: Client, sandbox: Sandbox
) -> None:
    message = error(
        await call(mcp, "waha_get_message", {"chatId": "123456789@c.us", "messageId": "true_1@c.us_AB12CD"} | arguments)
    )
    assert f"{field}:" in message
    assert sandbox.requests == []
