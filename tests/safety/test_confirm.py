"""Confirmation of destructive tools: elicitation on both protocol generations, else `confirm: true`.

A declined or missing confirmation sends nothing (the sandbox's request log says so).
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp_types import ElicitRequest, ElicitRequestParams, ElicitResult, InputRequiredResult
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from tests.helpers import call, data, error
from waha_mcp.config import Settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server
from waha_mcp.tools.registry import all_tools

MODES = ["legacy", "auto"]  # initialize handshake (elicitation/create mid-call), 2026-07-28 (InputRequiredResult)
DELETE = "/api/default/chats/"


def deletes(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.requests if r.method == "DELETE"]


class User:
    """An elicitation callback that answers `action` and remembers the questions it saw."""

    def __init__(self, action: str, confirm: bool = True) -> None:
        self.action, self.confirm, self.asked = action, confirm, []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        content = {"confirm": self.confirm} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)  # type: ignore[arg-type]


def chat(sandbox: Sandbox) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return next(iter(world.chats))


def test_confirm_argument_only_on_tools_that_need_it() -> None:
    for spec in all_tools():
        has = "confirm" in spec.input_schema["properties"]
        if spec.name == "waha_submit_passkey":
            continue  # its own `confirm` (passkey codes match) is a LOCAL action's argument
        assert has == (spec.policy.confirm or callable(spec.question)), spec.name
        if has:
            assert spec.input_schema["properties"]["confirm"] == {
                "description": "Must be true unless your client asks the user itself.",
                "type": "boolean",
            }


@pytest.mark.parametrize("mode", MODES)
async def test_accepted_elicitation_runs(
    mode: str, settings: Settings, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    user = User("accept")
    target = chat(sandbox)
    async with Client(build_server(settings, transport=transport), mode=mode, elicitation_callback=user) as client:
        expected = HANDSHAKE_PROTOCOL_VERSIONS if mode == "legacy" else MODERN_PROTOCOL_VERSIONS
        assert client.protocol_version in expected
        out = data(await call(client, "waha_delete_chat", {"session": "default", "chatId": target}))
    assert out["session"] == "default"
    assert user.asked == [f"Confirm waha_delete_chat for session default on {target}? It cannot be undone."]
    assert len(deletes(sandbox)) == 1


async def test_modern_protocol_asks_with_input_required_first(
    settings: Settings, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    """2026-07-28: the first round returns the question (nothing sent); the retry with the answer deletes."""
    async with Client(build_server(settings, transport=transport), elicitation_callback=User("accept")) as client:
        args = {"session": "default", "chatId": chat(sandbox)}
        first = await client.session.call_tool("waha_delete_chat", args, allow_input_required=True)
        assert isinstance(first, InputRequiredResult)
        [(key, request)] = first.input_requests.items()
        assert isinstance(request, ElicitRequest) and request.params.message.startswith("Confirm waha_delete_chat")
        assert deletes(sandbox) == []
        answer = {key: ElicitResult(action="accept", content={"confirm": True})}
        done = await client.session.call_tool(
            "waha_delete_chat", args, input_responses=answer, request_state=first.request_state
        )
        assert not done.is_error
    assert len(deletes(sandbox)) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("action", "yes"), [("decline", True), ("cancel", True), ("accept", False)])
async def test_declined_elicitation_sends_nothing(
    mode: str, action: str, yes: bool, settings: Settings, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    user = User(action, yes)
    async with Client(build_server(settings, transport=transport), mode=mode, elicitation_callback=user) as client:
        # confirm: true from the model does not stand in for a user who can be asked
        args = {"session": "default", "chatId": chat(sandbox), "confirm": True}
        message = error(await call(client, "waha_delete_chat", args))
    assert "the user did not confirm (Confirm waha_delete_chat for session default" in message
    assert "nothing was sent" in message and len(user.asked) == 1
    assert deletes(sandbox) == []


@pytest.mark.parametrize("mode", MODES)
async def test_without_elicitation_confirm_true_is_required(
    mode: str, settings: Settings, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    async with Client(build_server(settings, transport=transport), mode=mode) as client:
        args = {"session": "default", "chatId": chat(sandbox)}
        message = error(await call(client, "waha_delete_chat", args))
        assert message.startswith("waha_delete_chat: needs confirmation and this client cannot ask the user")
        assert "call again with confirm: true" in message
        assert deletes(sandbox) == []
        assert "needs confirmation" in error(await call(client, "waha_delete_chat", args | {"confirm": False}))
        assert deletes(sandbox) == []
        data(await call(client, "waha_delete_chat", args | {"confirm": True}))
    assert len(deletes(sandbox)) == 1


async def test_non_destructive_writes_ask_nothing(
    settings: Settings, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    user = User("decline")
    async with Client(build_server(settings, transport=transport), elicitation_callback=user) as client:
        data(await call(client, "waha_send_message", {"chatId": "4915112345678", "text": "hi"}))
        assert "unknown argument `confirm`" in error(
            await call(client, "waha_send_message", {"chatId": "4915112345678", "text": "hi", "confirm": True})
        )
    assert user.asked == []


def test_every_admin_tool_declares_its_own_question() -> None:
    """Admin tools change WAHA itself: each says what changes and where, not a generic line."""
    admin = [spec for spec in all_tools() if spec.effect == "admin"]
    assert admin and all(spec.question is not None for spec in admin), [s.name for s in admin if not s.question]


ADMIN_QUESTIONS = [
    (
        "waha_configure_webhooks",
        {"sessions": ["default", "business"], "url": "https://hooks.example/waha"},
        "Add the webhook https://hooks.example/waha (12 events) to the config of sessions default, business? "
        "WAHA restarts each of them to apply it; their other webhooks are kept.",
    ),
    (
        "waha_remove_webhooks",
        {"all": True, "url": "https://hooks.example/waha"},
        "Remove the webhook https://hooks.example/waha from the config of every session on this WAHA? "
        "WAHA restarts each session whose config changes.",
    ),
    (
        "waha_stop_server",
        {},
        "Stop the WAHA server? Every session on it stops, until whatever runs WAHA (Docker) starts it again.",
    ),
    (
        "waha_delete_api_key",
        {"keyId": "key_1"},
        "Delete the API key key_1? Whatever uses it is locked out at once; it cannot be undone.",
    ),
    (
        "waha_create_api_key",
        {"admin": True},
        "Create an admin API key? It can do anything on every session of this WAHA; its value is shown once.",
    ),
    (
        "waha_update_api_key",
        {"keyId": "key_1", "active": False},
        "Change the API key key_1: turn it off (whatever uses it is locked out)?",
    ),
]


@pytest.mark.parametrize(("tool", "arguments", "question"), ADMIN_QUESTIONS, ids=[q[0] for q in ADMIN_QUESTIONS])
async def test_admin_questions_say_what_changes_and_where(
    tool: str, arguments: dict[str, Any], question: str, settings: Settings, transport: httpx2.AsyncBaseTransport
) -> None:
    user = User("decline")
    async with Client(build_server(settings, transport=transport), mode="legacy", elicitation_callback=user) as client:
        message = error(await call(client, tool, arguments))
    assert user.asked == [question], message
