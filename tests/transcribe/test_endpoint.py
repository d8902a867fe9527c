"""The endpoint engine against a real HTTP server speaking OpenAI's transcription API (multipart, formats, errors)."""

from __future__ import annotations

import pytest

from tests.transcribe.conftest import note, sentences
from tests.transcribe.openai_server import OpenAIStub
from waha_mcp.transcribe.endpoint import RETRY_DEFAULT, EndpointEngine
from waha_mcp.transcribe.engine import TranscribeError

KEY = "sk-test-0123456789abcdef"


def engine(url: str, key: str | None = KEY, **options: object) -> EndpointEngine:
    return EndpointEngine(url, key, timeout=10, **options)  # type: ignore[arg-type]


async def test_the_voice_note_is_uploaded_as_waha_serves_it(openai: tuple[OpenAIStub, str]) -> None:
    stub, url = openai
    audio = note("note01")
    e = engine(url, model="whisper-large-v3", language="en")
    try:
        heard = await e.transcribe(audio, mimetype="audio/ogg", filename="voice.ogg")
    finally:
        await e.aclose()
    assert heard.text == sentences()["note01"]
    assert heard.language == "english" and heard.duration == 3.0
    [upload] = stub.uploads
    assert upload.data == audio  # byte for byte: not re-encoded
    assert (upload.filename, upload.content_type) == ("voice.ogg", "audio/ogg")
    assert upload.fields == {"model": "whisper-large-v3", "response_format": "verbose_json", "language": "en"}
    assert upload.authorization == f"Bearer {KEY}"


async def test_a_server_without_verbose_json_gets_json_and_it_is_remembered(openai: tuple[OpenAIStub, str]) -> None:
    stub, url = openai
    stub.formats = ("json",)
    e = engine(url)
    try:
        first = await e.transcribe(note("note02"), mimetype="audio/ogg", filename="voice.ogg")
        second = await e.transcribe(note("note03"), mimetype="audio/ogg", filename="voice.ogg")
    finally:
        await e.aclose()
    assert (first.text, second.text) == (sentences()["note02"], sentences()["note03"])
    assert first.duration is None and first.language is None  # json carries neither
    assert [u.fields["response_format"] for u in stub.uploads] == ["verbose_json", "json", "json"]
    assert all(u.fields["model"] == "whisper-1" for u in stub.uploads)  # the default model name


async def test_no_key_sends_no_authorization(openai: tuple[OpenAIStub, str]) -> None:
    stub, url = openai
    stub.key = None
    e = engine(url, key=None)
    try:
        await e.transcribe(note("note04"), mimetype="audio/ogg", filename="voice.ogg")
    finally:
        await e.aclose()
    assert stub.uploads[0].authorization is None


async def test_a_wrong_key_is_named_and_never_shown(openai: tuple[OpenAIStub, str]) -> None:
    _, url = openai
    wrong = "sk-wrong-key-that-must-stay-secret"
    e = engine(url, key=wrong)
    try:
        with pytest.raises(TranscribeError) as caught:
            await e.transcribe(note("note01"), mimetype="audio/ogg", filename="voice.ogg")
    finally:
        await e.aclose()
    message = caught.value.message
    assert "401" in message and "WAHA_MCP_TRANSCRIBE_API_KEY" in message and "Incorrect API key" in message
    assert wrong not in message and "must-stay" not in message
    assert caught.value.retry_after is None  # only a new key helps


@pytest.mark.parametrize(
    ("status", "headers", "expected", "retry"),
    [
        (413, {}, "too large (413", None),
        (429, {"Retry-After": "7"}, "rate-limiting (429", 7.0),
        (429, {}, "rate-limiting (429", RETRY_DEFAULT),
        (503, {"Retry-After": "2"}, "failed (503", 2.0),
        (500, {}, "failed (500", RETRY_DEFAULT),
        (404, {}, "WAHA_MCP_TRANSCRIBE_URL is the base URL", None),
        (422, {}, "refused the request (422", None),
    ],
)
async def test_each_endpoint_error_is_one_clear_message(
    openai: tuple[OpenAIStub, str], status: int, headers: dict[str, str], expected: str, retry: float | None
) -> None:
    stub, url = openai
    stub.fail(status, {"error": {"message": f"upstream says {status}"}}, headers)
    e = engine(url)
    try:
        with pytest.raises(TranscribeError) as caught:
            await e.transcribe(note("note01"), mimetype="audio/ogg", filename="voice.ogg")
        # The endpoint recovered: the same engine transcribes the next request.
        heard = await e.transcribe(note("note01"), mimetype="audio/ogg", filename="voice.ogg")
    finally:
        await e.aclose()
    assert expected in caught.value.message and f"upstream says {status}" in caught.value.message
    assert caught.value.retry_after == retry
    assert heard.text == sentences()["note01"]


async def test_an_answer_without_text_is_explained(openai: tuple[OpenAIStub, str]) -> None:
    stub, url = openai
    stub.fail(200, "<html>a login page</html>")
    e = engine(url)
    try:
        with pytest.raises(TranscribeError, match="without a `text` in JSON"):
            await e.transcribe(note("note01"), mimetype="audio/ogg", filename="voice.ogg")
    finally:
        await e.aclose()


async def test_an_endpoint_that_is_down_is_named() -> None:
    from tests.e2e.servers import serving

    with serving(OpenAIStub().app()) as url:
        pass  # stopped: nothing listens on that port now
    e = engine(f"{url}/v1")
    try:
        with pytest.raises(TranscribeError, match="cannot be reached") as caught:
            await e.transcribe(note("note01"), mimetype="audio/ogg", filename="voice.ogg")
    finally:
        await e.aclose()
    assert caught.value.retry_after == RETRY_DEFAULT and url in caught.value.message
