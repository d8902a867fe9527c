"""The one interface every transcription engine implements, and what it answers or raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Heard:
    """What an engine heard: the text, the language it was in (ISO 639-1 where known), the audio's seconds."""

    text: str
    language: str | None = None
    duration: float | None = None


class TranscribeError(Exception):
    """A transcription that failed, in one line meant for the agent (never holding the endpoint's key).

    `retry_after`: seconds after which trying again may succeed (a 429, a 5xx, a time-out); None when only
    a change (of the audio, the configuration, the key) can help, so it is retried only when asked.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class Engine(Protocol):
    """Audio as WAHA serves it (OGG/Opus for voice notes, not re-encoded) → text."""

    name: str  # what results and the cache say did the work: `openai:<model>`, `local:<model>`
    concurrency: int  # transcriptions this engine runs at once

    async def transcribe(self, audio: bytes, *, mimetype: str, filename: str) -> Heard: ...

    async def aclose(self) -> None: ...
