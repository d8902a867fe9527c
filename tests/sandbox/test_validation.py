"""Request bodies are checked with the contract tests' schemas and refused in NestJS ValidationPipe's shape."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from waha_mcp.openapi.contract import json_schema_document, request_body_errors
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


def test_request_schemas_use_only_the_keywords_the_sandbox_words_or_leaves_to_routes() -> None:
    # validation.py words type/required/enum and leaves oneOf/anyOf/unevaluatedProperties to the
    # routes; a new keyword (minLength, pattern...) in a newer document would pass silently.
    document = json_schema_document("request")
    handled = {"type", "required", "enum", "items", "allOf", "oneOf", "anyOf", "unevaluatedProperties", "$ref"}
    handled |= {"properties", "description", "default", "example", "examples", "deprecated", "title"}
    found: set[str] = set()
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        if not isinstance(node, dict):
            return
        found.update(node)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            seen.add(ref)
            target: Any = document
            for part in ref.split("#", 1)[1].lstrip("/").split("/"):
                target = target[part]
            walk(target)
        for key, value in node.items():
            if key == "properties":
                for schema in value.values():
                    walk(schema)
            elif key not in ("enum", "default", "example", "examples", "required"):
                walk(value)

    for operation in load_spec().operations:
        body = document["paths"][operation.path][operation.method.lower()].get("requestBody")
        if body is not None:
            walk(body.get("content", {}).get("application/json", {}).get("schema"))
    assert "type" in found and found <= handled, sorted(found - handled)


# --------------------------------------------------------------------------- through the HTTP routes


async def test_a_wrong_type_is_a_nest_400_naming_the_field(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    before = sent_count(sb, chat)
    r = await client.post("/api/sendText", json={"session": "default", "chatId": chat, "text": 5})
    assert (r.status_code, r.json()) == (400, nest_400("text must be a string"))
    poll = {"name": 5, "options": "a", "multipleAnswers": "yes"}
    r = await client.post("/api/sendPoll", json={"session": "default", "chatId": chat, "poll": poll})
    assert (r.status_code, r.json()) == (
        400,
        nest_400(
            "poll.name must be a string",
            "poll.options must be an array",
            "poll.multipleAnswers must be a boolean value",
        ),
    )
    # A list item is worded for the list, as class-validator's {each: true} does.
    r = await client.post("/api/sendText", json={"session": "default", "chatId": chat, "text": "hi", "mentions": [7]})
    assert (r.status_code, r.json()) == (400, nest_400("each value in mentions must be a string"))
    assert sent_count(sb, chat) == before  # refused before the handler: nothing was sent


async def test_a_missing_required_field_is_a_nest_400(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.post("/api/sendPoll", json={"session": "default", "chatId": person(sb), "poll": {"options": []}})
    assert (r.status_code, r.json()) == (
        400,
        nest_400("poll.name should not be empty", "poll.multipleAnswers should not be empty"),
    )
    # A required field sent as null is refused like a missing one (IsNotEmpty)...
    r = await client.post("/api/sendText", json={"session": "default", "chatId": None, "text": "hi"})
    assert (r.status_code, r.json()) == (400, nest_400("chatId should not be empty"))
    # ...and an optional one sent as null is let through (IsOptional).
    r = await client.post(
        "/api/sendText", json={"session": "default", "chatId": person(sb), "text": "hi", "reply_to": None}
    )
    assert r.status_code == 201, r.text


async def test_a_bad_enum_value_is_a_nest_400_listing_the_values(client: httpx2.AsyncClient) -> None:
    # No route checks a webhook's retry policy: this answer can only come from the schema pass.
    webhook = {"url": "https://example.com/hook", "events": ["message"], "retries": {"policy": "sometimes"}}
    r = await client.post("/api/sessions", json={"name": "hooked", "config": {"webhooks": [webhook]}})
    assert (r.status_code, r.json()) == (
        400,
        nest_400(f"config.webhooks.0.retries.policy must be one of the following values: {POLICIES}"),
    )
    r = await client.get("/api/sessions/hooked")
    assert r.status_code == 404  # refused, so not created


async def test_unknown_fields_are_dropped_not_refused(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    # WAHA's ValidationPipe runs with `whitelist`: undocumented fields are not errors.
    chat = person(sb)
    body = {"session": "default", "chatId": chat, "text": "hi", "invented": True}
    r = await client.post("/api/sendText", json=body)
    assert r.status_code == 201, r.text
    poll = {"name": "Q", "options": ["a", "b"], "multipleAnswers": False, "colour": "red"}
    r = await client.post("/api/sendPoll", json={"session": "default", "chatId": chat, "poll": poll})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        # Passes the schema (oneOf failures are left to the route): WAHA's own wording.
        (
            "/api/sendImage",
            {"file": {"mimetype": "image/png", "url": "https://a.b/x.png", "data": PNG_B64}},
            "file must have either url or data",
        ),
        (
            "/api/sendPoll",
            {"poll": {"name": "Q", "options": ["a"], "multipleAnswers": False}},
            "poll.options must contain 2 to 12 elements",
        ),
        ("/api/sendLocation", {"latitude": 100, "longitude": 0, "title": ""}, "latitude must be between -90 and 90"),
    ],
)
async def test_semantic_checks_keep_the_routes_own_messages(
    client: httpx2.AsyncClient, sb: Sandbox, path: str, body: dict[str, Any], message: str
) -> None:
    r = await client.post(path, json={"session": "default", "chatId": person(sb), **body})
    assert (r.status_code, r.json()) == (400, nest_400(message))


async def test_a_poll_without_multiple_answers_is_refused(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    # The document lists multipleAnswers as required (with a default, as it does `session`), and
    # neither BEHAVIOUR.md nor API.md says WAHA accepts it missing: no erratum, so it is refused.
    poll = {"name": "Q", "options": ["a", "b"]}
    r = await client.post("/api/sendPoll", json={"session": "default", "chatId": person(sb), "poll": poll})
    assert (r.status_code, r.json()) == (400, nest_400("poll.multipleAnswers should not be empty"))
