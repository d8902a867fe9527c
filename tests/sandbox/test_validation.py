"""Request bodies are checked with the contract tests' schemas."""

from __future__ import annotations

from typing import Any

from waha_mcp.openapi.contract import request_body_errors
from waha_mcp.openapi.spec import load_spec
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
POLICIES = "linear, exponential, constant"


def world(sb: Sandbox) -> World:
    found = sb.sessions["default"].world
    assert found is not None
    return found


def person(sb: Sandbox) -> str:
    return next(iter(world(sb).contacts))


def sent_count(sb: Sandbox, chat: str) -> int:
    found = world(sb).chats.get(chat)
    return len(found.messages) if found else 0


def nest_400(*messages: str) -> dict[str, Any]:
    return {"statusCode": 400, "message": list(messages), "error": "Bad Request"}


# --------------------------------------------------------------------------- request_body_errors


def test_request_body_errors_are_the_contract_schemas_errors() -> None:
    send_text = load_spec().by_id["ChattingController_sendText"]
    ok = {"session": "default", "chatId": "1@c.us", "text": "hi"}
    assert request_body_errors(send_text, ok) == []
    wrong = request_body_errors(send_text, {**ok, "chatId": 5})
    assert [(e.validator, list(e.absolute_path)) for e in wrong] == [("type", ["chatId"])]
    # The request document is closed: an unknown field is reported (the sandbox then ignores it).
    extra = request_body_errors(send_text, {**ok, "invented": 1})
    assert [e.validator for e in extra] == ["unevaluatedProperties"]


def test_request_body_errors_use_the_errata_patched_document() -> None:
    # The document types multipleAnswers `object`; the erratum makes it a boolean.
    send_poll = load_spec().by_id["ChattingController_sendPoll"]
    body = {"session": "default", "chatId": "1@c.us", "poll": {"name": "Q", "options": ["a", "b"]}}
    assert request_body_errors(send_poll, {**body, "poll": {**body["poll"], "multipleAnswers": True}}) == []
    wrong = request_body_errors(send_poll, {**body, "poll": {**body["poll"], "multipleAnswers": {}}})
    assert [(e.validator, list(e.absolute_path)) for e in wrong] == [("type", ["poll", "multipleAnswers"])]


def test_operations_without_a_json_body_have_no_body_errors() -> None:
    assert request_body_errors(load_spec().by_id["PingController_ping"], {"anything": 1}) == []
