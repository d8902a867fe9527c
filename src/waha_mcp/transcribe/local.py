"""faster-whisper in this process (extra `transcribe`): CTranslate2 on the CPU with int8 weights.

PyAV (a faster-whisper dependency) decodes WAHA's OGG/Opus in memory: no external program, no temporary
file. The model is loaded at the first transcription, in a worker thread, and transcriptions run one at a
time (a second would only compete for the same cores).
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from typing import Any

from waha_mcp.transcribe.engine import Heard, TranscribeError

DEFAULT_MODEL = "base"
EXTRA = "pip install 'waha-mcp[transcribe]'"


class LocalEngine:
    concurrency = 1

    def __init__(self, model: str | None = None, *, language: str | None = None, threads: int | None = None) -> None:
        self.model = model or DEFAULT_MODEL
        self.language = language
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self.name = f"local:{os.path.basename(self.model.rstrip('/')) or self.model}"
        self._whisper: Any = None
        self._busy = threading.Lock()

    def _load(self) -> Any:
        if self._whisper is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise TranscribeError(f"WAHA_MCP_TRANSCRIBE=local needs the transcribe extra: {EXTRA}") from None
            try:
                self._whisper = WhisperModel(self.model, device="cpu", compute_type="int8", cpu_threads=self.threads)
            except Exception as exc:  # a missing path, a model name it cannot fetch, a broken file
                raise TranscribeError(
                    f"the local model {self.model!r} (WAHA_MCP_TRANSCRIBE_MODEL) cannot be loaded: "
                    f"{type(exc).__name__}: {str(exc)[:160]}"
                ) from None
        return self._whisper

    def _run(self, audio: bytes) -> Heard:
        # Held by the thread, not the event loop: a transcription whose caller timed out runs on to its end, and
        # the next one waits for it rather than competing for the same cores.
        with self._busy:
            return self._hear(audio)

    def _hear(self, audio: bytes) -> Heard:
        model = self._load()
        try:
            segments, info = model.transcribe(io.BytesIO(audio), language=self.language, beam_size=5)
            text = " ".join(segment.text.strip() for segment in segments).strip()
        except Exception as exc:  # PyAV's InvalidDataError and friends: not audio it can decode
            raise TranscribeError(f"the audio cannot be decoded: {type(exc).__name__}: {str(exc)[:160]}") from None
        return Heard(text=text, language=info.language, duration=round(float(info.duration), 3))

    async def transcribe(self, audio: bytes, *, mimetype: str, filename: str) -> Heard:
        return await asyncio.to_thread(self._run, audio)

    async def aclose(self) -> None:
        self._whisper = None
