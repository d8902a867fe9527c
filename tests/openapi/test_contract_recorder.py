"""The pytest-side recorder that the sandbox feeds every request into."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.contract_plugin import ContractRecorder


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def send_text(**body: Any) -> Recorded:
    return Recorded("POST", "/api/sendText", body=json.dumps(body).encode())


def test_clean_requests_pass() -> None:
    recorder = ContractRecorder()
    recorder.hook(send_text(session="default", chatId="1@c.us", text="hi"))
    recorder.hook(Recorded("GET", "/api/sessions", {"all": ["true"]}))
    recorder.hook(Recorded("GET", "/api/default/chats/1%40c.us/messages", {"limit": ["5"]}))
    assert recorder.problems == []
    assert recorder.checked == 3
    recorder.assert_clean()


def test_problems_are_collected_and_reported_together() -> None:
    recorder = ContractRecorder()
    recorder.hook(send_text(chatId="1@c.us", text="hi"))  # session missing from the body
    recorder.hook(Recorded("PUT", "/api/default/chats/1%40c.us/messages/m/star", body=b'{"star": true}'))
    recorder.hook(Recorded("POST", "/api/sendText", body=b"{not json"))
    assert len(recorder.problems) >= 3
    with pytest.raises(AssertionError) as info:
        recorder.assert_clean()
    message = str(info.value)
    assert message.startswith(f"{len(recorder.problems)} WAHA contract problem(s):")
    assert "body: 'session' is a required property" in message
    assert "PUT /api/default/chats/1%40c.us/messages/m/star: no operation in the document" in message
    assert "POST /api/sendText: body is not valid JSON" in message


def test_sandbox_control_paths_are_ignored() -> None:
    recorder = ContractRecorder()
    recorder.hook(Recorded("POST", "/__sandbox/reset", body=b"{}"))
    recorder.record_response("GET", "/__sandbox/state", 200, "text/plain", b"x")
    assert recorder.checked == 0
    recorder.assert_clean()


def test_responses_can_be_checked_too() -> None:
    recorder = ContractRecorder()
    recorder.record_response("GET", "/api/default/auth/qr", 200, "image/png", b"\x89PNG")
    recorder.record_response("GET", "/api/sessions", 200, "application/json", b"[]")
    assert recorder.problems == []
    recorder.record_response("GET", "/api/sessions", 200, "application/json", b'[{"name": 1}]')
    assert recorder.problems
    recorder.reset()
    assert (recorder.problems, recorder.checked) == ([], 0)


def test_body_content_type_must_be_json_when_headers_are_recorded() -> None:
    recorder = ContractRecorder()
    body = json.dumps({"session": "default", "chatId": "1@c.us", "text": "hi"}).encode()
    recorder.hook(Recorded("POST", "/api/sendText", body=body, headers={"Content-Type": "application/json"}))
    assert recorder.problems == []
    recorder.hook(Recorded("POST", "/api/sendText", body=body, headers={"content-type": "text/plain"}))
    assert recorder.problems == [
        "POST /api/sendText: body sent with Content-Type 'text/plain', expected 'application/json'"
    ]
