"""Request and response contract checks against the vendored WAHA OpenAPI document."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from waha_mcp.openapi.contract import (
    ERRATA,
    check_request,
    check_response,
    check_schema,
    check_webhook,
    json_schema_document,
)
from waha_mcp.openapi.spec import load_spec

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
SEND_TEXT = {"session": "default", "chatId": "11111111111@c.us", "text": "hi"}


def req(method: str, path: str, query: dict[str, list[str]] | str = "", body: Any = None) -> list[str]:
    return check_request(method, path, query, body, has_body=body is not None)


def response(key: str, status: int, content_type: str | None, body: Any) -> list[str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return check_response(load_spec().by_key[key], status, content_type, raw)


def session_info(**overrides: Any) -> dict[str, Any]:
    info = {
        "name": "default",
        "status": "WORKING",
        "presence": {},
        "timestamps": {"activity": 1700000000000},
        "me": {"id": "11111111111@c.us", "pushName": "Ann"},
        "config": {"webhooks": [{"url": "http://hook", "events": ["message"]}]},
    }
    info.update(overrides)
    return info


# --------------------------------------------------------------------------- valid requests


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("POST", "/api/sendText", "", SEND_TEXT),
        ("POST", "/api/sendText", {}, {**SEND_TEXT, "reply_to": "false_1@c.us_AAA", "linkPreview": False}),
        ("GET", "/api/sessions", "all=true&expand=apps", None),
        ("GET", "/api/sessions", {"expand": ["apps", "apps"]}, None),  # arrays repeat (form, explode)
        ("GET", "/api/default/auth/qr", "format=image", None),
        ("GET", "/api/default/auth/qr", {"format": ["raw"]}, None),
        ("GET", "/api/screenshot", "session=default", None),
        ("GET", "/api/contacts/all", "session=default&limit=10&offset=0&sortBy=name&sortOrder=asc", None),
        (
            "GET",
            "/api/default/chats/11111111111%40c.us/messages",
            "limit=10&downloadMedia=false&filter.timestamp.lte=1700000000&filter.fromMe=true&filter.ack=READ",
            None,
        ),
        ("GET", "/api/default/groups", "exclude=participants&exclude=", None),  # '' is in that enum
        ("POST", "/api/default/chats/1%40c.us/messages/true_1%40c.us_AAA/pin", "", {"duration": 86400}),
        ("PUT", "/api/star", "", {"session": "default", "chatId": "1@c.us", "messageId": "m", "star": True}),
        ("PUT", "/api/reaction", "", {"session": "default", "messageId": "m", "reaction": ""}),
        ("PUT", "/api/default/groups/1%40g.us/picture", "", {"file": {"mimetype": "image/png", "url": "u"}}),
        ("POST", "/api/default/groups/1%40g.us/participants/add", "", {"participants": [{"id": "1@c.us"}]}),
        ("POST", "/api/default/status/delete", "", {"id": "AAA"}),
        ("GET", "/api/default/labels/chats/1%40c.us", "", None),
        ("DELETE", "/api/sessions/my%20session", "", None),
        ("POST", "/api/sessions/default/start", "", None),
        ("POST", "/api/sessions", "", {"name": "s2", "start": True, "config": {"metadata": {"a": "b"}}}),
        # Errata: webhook events are names, poll votes are option names.
        ("PUT", "/api/sessions/s2", "", {"config": {"webhooks": [{"url": "http://h", "events": ["message"]}]}}),
        ("POST", "/api/sendPollVote", "", {"session": "s", "chatId": "1@c.us", "pollMessageId": "p", "votes": ["Y"]}),
    ],
)
def test_valid_requests_pass(method: str, path: str, query: Any, body: Any) -> None:
    assert req(method, path, query, body) == []


def test_every_operation_is_reachable_by_its_own_template() -> None:
    # Literal routes must win over templates (/api/sessions/start vs /api/sessions/{session}).
    spec = load_spec()
    for op in spec.operations:
        concrete = re.sub(r"\{(\w+)\}", lambda m: f"{m.group(1)}-value", op.path)
        assert spec.match(op.method, concrete) is op, op.key


def test_raw_query_string_and_mapping_agree() -> None:
    assert req("GET", "/api/sessions", "?all=true") == req("GET", "/api/sessions", {"all": ["true"]}) == []


# --------------------------------------------------------------------------- invalid requests


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "expected"),
    [
        # wrong method / unknown path
        ("PUT", "/api/sendText", "", SEND_TEXT, "no PUT operation on this path (the document allows GET, POST)"),
        ("POST", "/api/default/groups/1%40g.us/picture", "", {"file": {}}, "no POST operation"),
        ("GET", "/api/sendMessage", "", None, "no operation in the document matches this path"),
        ("PUT", "/api/s/chats/c/messages/m/star", "", {"star": True}, "no operation in the document"),
        ("PUT", "/api/s/chats/c/messages/m/pin", "", {"duration": 86400}, "no PUT operation"),
        ("GET", "/api/s/status", "", None, "no operation in the document matches"),
        ("DELETE", "/api/s/status/abc", "", None, "no operation in the document matches"),
        ("GET", "/api//chats", "", None, "a path parameter is empty"),
        ("GET", "/api/%20/chats", "", None, "path: parameter 'session' is empty"),
        # query parameters
        ("GET", "/api/default/auth/qr", "", None, "query: missing required parameter 'format'"),
        ("GET", "/api/default/auth/qr", "format=base64", None, "query 'format': 'base64' is not one of"),
        ("GET", "/api/default/auth/qr", "format=image&size=300", None, "query: unknown parameter 'size'"),
        ("GET", "/api/sessions", "all=1", None, "query 'all': '1' is not a boolean"),
        ("GET", "/api/sessions", "expand=apps&expand=groups", None, "query 'expand'[1]: 'groups' is not one of"),
        ("GET", "/api/default/chats", "limit=ten", None, "query 'limit': 'ten' is not a number"),
        ("GET", "/api/default/chats", "limit=5&limit=6", None, "given 2 times"),
        ("GET", "/api/server/debug/cpu", "seconds=0", None, "less than the minimum of 1"),
        ("GET", "/api/default/chats/1%40c.us/messages", "", None, "missing required parameter 'limit'"),
        ("GET", "/api/default/chats/1%40c.us/messages", "limit=1&filter.ack=SEEN", None, "'SEEN' is not one of"),
        ("GET", "/api/default/chats/1%40c.us/messages", "limit=1&filter[fromMe]=true", None, "unknown parameter"),
        # bodies
        ("POST", "/api/sendText", "", {"session": "default", "text": "hi"}, "body: 'chatId' is a required property"),
        ("POST", "/api/sendText", "", {**SEND_TEXT, "chatId": 5}, "body.chatId: 5 is not of type 'string'"),
        ("POST", "/api/sendText", "", {**SEND_TEXT, "priority": "high"}, "('priority' was unexpected)"),
        ("POST", "/api/sendText", "", {**SEND_TEXT, "mentions": "all"}, "is not of type 'array'"),
        ("POST", "/api/sendText", "", {**SEND_TEXT, "reply_to": None}, "body.reply_to: None is not of type"),
        ("POST", "/api/sendText", "", None, "body: missing, the operation requires a JSON body"),
        ("GET", "/api/sessions", "", {"all": True}, "body: sent, but the operation takes no request body"),
        ("POST", "/api/default/chats/1%40c.us/messages/m/pin", "duration=86400", None, "unknown parameter"),
        ("POST", "/api/default/chats/1%40c.us/messages/m/pin", "", {"duration": "1d"}, "is not of type 'number'"),
        (
            "PUT",
            "/api/default/groups/1%40g.us/picture",
            "",
            {"file": {"mimetype": "image/png", "url": "u", "data": "AAAA"}},
            "body.file: {'mimetype'",
        ),
        (
            "POST",
            "/api/sendPollVote",
            "",
            {"session": "s", "chatId": "c", "pollMessageId": "p", "votes": [["Y"]]},
            "votes[0]",
        ),
        # session in the wrong place
        (
            "POST",
            "/api/sendText",
            "session=default",
            {"chatId": "1@c.us", "text": "hi"},
            "session: expected in the 'session' field of the JSON body, found in: query",
        ),
        ("GET", "/api/contacts/all", "", None, "session: expected in the 'session' query parameter, found in: nowhere"),
        ("GET", "/api/contacts/all", "session=", None, "the 'session' query parameter is empty"),
        ("POST", "/api/sendText", "", {**SEND_TEXT, "session": ""}, "the 'session' field of the JSON body is empty"),
        ("PUT", "/api/default/profile/name", "", {"name": "x", "session": "default"}, "('session' was unexpected)"),
        ("GET", "/api/default/chats", "session=default", None, "unknown parameter 'session'"),
        ("GET", "/api/sessions", "session=default", None, "this operation takes no session"),
    ],
)
def test_invalid_requests_are_caught(method: str, path: str, query: Any, body: Any, expected: str) -> None:
    problems = req(method, path, query, body)
    assert any(expected in problem for problem in problems), problems


def test_problem_messages_are_one_line_and_name_the_operation() -> None:
    problems = req("POST", "/api/sendText", "", {"text": 1})
    assert problems
    for problem in problems:
        assert "\n" not in problem
        assert problem.startswith("POST /api/sendText (ChattingController_sendText): ")
    assert "POST /api/sendText (ChattingController_sendText): body: 'chatId' is a required property" in problems


def test_long_instances_are_truncated() -> None:
    body = {**SEND_TEXT, "chatId": {"x": "y" * 5000}}
    (problem,) = req("POST", "/api/sendText", "", body)
    assert len(problem) < 400
    assert problem.endswith("...")


def test_json_null_body_differs_from_no_body() -> None:
    problems = check_request("POST", "/api/sendText", "", None, has_body=True)
    assert any("body: None is not of type 'object'" in p for p in problems), problems


# --------------------------------------------------------------------------- nullable handling


def test_nullable_becomes_a_null_type_in_the_converted_document() -> None:
    schemas = json_schema_document("response")["components"]["schemas"]
    assert schemas["MyProfile"]["properties"]["picture"]["type"] == ["string", "null"]
    label = schemas["LabelChatAssociation"]["properties"]["label"]
    assert {"type": "null"} in label["anyOf"]
    assert "nullable" not in json.dumps(schemas)
    # The vendored original stays untouched.
    original = load_spec().document["components"]["schemas"]["MyProfile"]["properties"]["picture"]
    assert original["nullable"] is True
    assert original["type"] == "string"


def test_nullable_fields_accept_null_in_responses() -> None:
    assert response("GET /api/sessions", 200, "application/json", [session_info(apps=None)]) == []
    profile = {"id": "1@c.us", "name": "Ann", "picture": None}
    assert response("GET /api/{session}/profile", 200, "application/json", profile) == []


def test_nullable_with_all_of_still_validates_the_object() -> None:
    # LabelChatAssociation.label is `{nullable: true, allOf: [$ref Label]}`.
    ok = {"labelId": "1", "chatId": "1@c.us", "label": None}
    assert check_schema("LabelChatAssociation", ok) == []
    label = {"id": "1", "name": "Work", "color": 1, "colorHex": "#ff0000"}
    assert check_schema("LabelChatAssociation", {**ok, "label": label}) == []
    problems = check_schema("LabelChatAssociation", {**ok, "label": "Work"})
    assert problems == [
        "LabelChatAssociation: value.label: 'Work' matches none of the alternatives; "
        "closest: value.label: 'Work' is not of type 'object'"
    ]


def test_non_nullable_fields_reject_null() -> None:
    profile = {"id": "1@c.us", "name": None, "picture": None}
    problems = response("GET /api/{session}/profile", 200, "application/json", profile)
    assert any("body.name: None is not of type 'string'" in p for p in problems), problems


def test_nullable_in_request_bodies() -> None:
    assert req("POST", "/api/keys", "", {"isAdmin": True, "isActive": True, "session": None}) == []
    # `default: null` counts as nullable: a structured contact sends vcard null.
    contact = {"fullName": "Ann", "phoneNumber": "+1 555", "vcard": None}
    body = {"session": "default", "chatId": "1@c.us", "contacts": [contact]}
    assert req("POST", "/api/sendContactVcard", "", body) == []
    assert req("POST", "/api/sendContactVcard", "", {**body, "contacts": [{"vcard": "BEGIN:VCARD"}]}) == []


def test_errata_still_apply_to_the_document() -> None:
    for pointer, _replacement, why in ERRATA:
        assert why
        assert pointer.startswith("/components/schemas/")
    json_schema_document("request")  # raises KeyError if an erratum no longer applies


# --------------------------------------------------------------------------- responses


def test_session_info_list_passes() -> None:
    body = [session_info(), session_info(name="s2", status="STOPPED", timestamps={"activity": None})]
    assert response("GET /api/sessions", 200, "application/json", body) == []


def test_extra_response_fields_are_allowed() -> None:
    assert response("GET /api/sessions", 200, "application/json", [session_info(engine={"x": 1})]) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([session_info(status="RUNNING")], "body[0].status: 'RUNNING' is not one of"),
        ([{"status": "WORKING", "presence": {}, "timestamps": {}}], "body[0]: 'name' is a required property"),
        (session_info(), "is not of type 'array'"),
        ([session_info(me={"id": "1@c.us"})], "body[0].me: 'pushName' is a required property"),
    ],
)
def test_wrong_session_info_fails(body: Any, expected: str) -> None:
    problems = response("GET /api/sessions", 200, "application/json", body)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("GET /api/sessions (SessionsController_list): response 200: ") for p in problems)


def test_qr_png_is_accepted_and_json_forms_are_validated() -> None:
    key = "GET /api/{session}/auth/qr"
    assert response(key, 200, "image/png", PNG) == []
    assert response(key, 200, "application/json", {"value": "2@abc"}) == []
    assert response(key, 200, "application/json; charset=utf-8", {"mimetype": "image/png", "data": "iVBO"}) == []
    assert response(key, 200, "application/json", {"qr": "2@abc"})


def test_undeclared_image_is_rejected() -> None:
    assert response("GET /api/{session}/auth/qr", 200, "image/jpeg", b"\xff\xd8")
    problems = response("POST /api/sendText", 201, "image/png", PNG)
    assert problems == [
        "POST /api/sendText (ChattingController_sendText): response 201: "
        "image/png is not a documented response of this operation"
    ]
    assert response("GET /api/screenshot", 200, "image/jpeg", b"\xff\xd8") == []


def test_empty_success_bodies_are_accepted() -> None:
    assert response("DELETE /api/sessions/{session}", 200, None, b"") == []
    assert response("GET /api/sessions/{session}/me", 200, "application/json", b"") == []
    assert response("POST /api/sendText", 201, "application/json", b"  ") == []


def test_bare_string_invite_code() -> None:
    key = "GET /api/{session}/groups/{id}/invite-code"
    assert response(key, 200, "application/json", "https://chat.whatsapp.com/AbC") == []
    assert response(key, 200, "application/json", {"inviteCode": "AbC"})


def test_invalid_json_and_missing_content_type() -> None:
    assert any("not valid JSON" in p for p in response("GET /api/sessions", 200, "application/json", b"[{"))
    assert any("without a Content-Type" in p for p in response("GET /api/sessions", 200, None, b"[]"))
    assert any("text/html not documented" in p for p in response("GET /api/sessions", 200, "text/html", b"<p>"))


def test_success_status_falls_back_to_the_documented_one() -> None:
    # The document says 201 for sendText; a 200 with a wrong body is still checked.
    problems = response("POST /api/sendText", 200, "application/json", [1])
    assert problems == [
        "POST /api/sendText (ChattingController_sendText): response 200: body: [1] is not of type 'object'"
    ]


def test_undocumented_error_responses_are_not_checked() -> None:
    error = {"statusCode": 422, "message": "Session 'x' is already started.", "error": "Unprocessable Entity"}
    assert response("POST /api/sessions/{session}/start", 422, "application/json", error) == []
    assert response("GET /api/sessions", 500, "text/html", b"<h1>boom</h1>") == []


# --------------------------------------------------------------------------- schemas and webhooks


def test_check_schema_request_kind_rejects_unknown_fields() -> None:
    assert check_schema("ChatRequest", {"session": "default", "chatId": "1@c.us"}, kind="request") == []
    assert check_schema("ChatRequest", {"session": "default", "chatId": "1@c.us", "x": 1}, kind="request")
    assert check_schema("ChatRequest", {"session": "default", "chatId": "1@c.us", "x": 1}) == []
    with pytest.raises(KeyError, match="NoSuchSchema"):
        check_schema("NoSuchSchema", {})


def test_check_webhook() -> None:
    envelope = {
        "id": "evt_01aaaaaaaaaaaaaaaaaaaaaaaa",
        "timestamp": 1700000000000,
        "session": "default",
        "engine": "NOWEB",
        "event": "session.status",
        "payload": {"status": "WORKING"},
        "environment": {"version": "2026.1.4", "engine": "NOWEB", "tier": "CORE", "browser": None},
    }
    problems = check_webhook("session.status", envelope)
    # `event` is a string enum typed `object` in the document; converted, a name passes.
    assert not any("body.event" in p for p in problems), problems
    assert any(
        "'message' sent for the 'session.status' webhook" in p
        for p in check_webhook("session.status", {**envelope, "event": "message"})
    )
    assert check_webhook("message.deleted", envelope) == ["webhook message.deleted: not an event of the WAHA document"]
