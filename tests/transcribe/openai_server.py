"""A real HTTP server speaking OpenAI's transcription API (`POST /v1/audio/transcriptions`, multipart), for tests.

It parses the upload as OpenAI does (fields `file`, `model`, `language`, `response_format`), checks the bearer
key, and answers `json`, `verbose_json` or `text`, or OpenAI's error shape. What it "hears" is either a table
from the audio's SHA-256 to a sentence (the sentences the fixtures were spoken from) or, with `hear`, a real
recogniser (faster-whisper) run on the uploaded bytes. Faults are queued per test: status, headers, body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

Heard = tuple[str, str, float]  # text, language, duration


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes
    fields: dict[str, str]
    authorization: str | None


@dataclass
class OpenAIStub:
    key: str | None = None
    known: dict[str, Heard] = field(default_factory=dict)  # sha256 of the audio → what was said
    hear: Callable[[bytes], Heard] | None = None
    formats: tuple[str, ...] = ("json", "verbose_json", "text")
    faults: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    delay: float = 0.0  # seconds each answer takes once the upload is read (a real engine takes a while)

    def learn(self, audio: bytes, text: str, language: str = "english", duration: float = 3.0) -> None:
        self.known[hashlib.sha256(audio).hexdigest()] = (text, language, duration)

    def fail(self, status: int, body: Any = None, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.faults.extend([(status, headers or {}, body)] * times)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/audio/transcriptions", self._transcribe, methods=["POST"])])

    @staticmethod
    def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status)

    async def _transcribe(self, request: Request) -> Response:
        auth = request.headers.get("authorization")
        if self.key is not None and auth != f"Bearer {self.key}":
            # OpenAI echoes part of a wrong key; this one echoes all of it, to prove the client hides it.
            given = (auth or "").removeprefix("Bearer ")
            return self._error(401, f"Incorrect API key provided: {given}.", "invalid_api_key")
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return self._error(400, "Missing required parameter: 'file'.")
        data = await upload.read()
        fields = {k: str(v) for k, v in form.items() if k != "file"}
        self.uploads.append(Upload(upload.filename or "", upload.content_type or "", data, fields, auth))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.faults:
            status, headers, body = self.faults.pop(0)
            if isinstance(body, str):
                return PlainTextResponse(body, status, headers=headers)
            return JSONResponse(body if body is not None else {"error": {"message": f"fault {status}"}}, status,
                                headers=headers)  # fmt: skip
        if "model" not in fields:
            return self._error(400, "Missing required parameter: 'model'.")
        fmt = fields.get("response_format", "json")
        if fmt not in self.formats:
            return self._error(400, f"response_format '{fmt}' is not compatible with model '{fields['model']}'")
        if not data.startswith((b"OggS", b"ID3", b"RIFF", b"fLaC")):
            return self._error(400, "Invalid file format. Supported formats: ['flac', 'mp3', 'ogg', 'wav', 'webm']")
        heard = self.hear(data) if self.hear else self.known.get(hashlib.sha256(data).hexdigest())
        if heard is None:
            return self._error(400, "Audio file might be corrupted or unsupported")
        text, language, duration = heard
        if fmt == "text":
            return PlainTextResponse(text + "\n")
        if fmt == "json":
            return JSONResponse({"text": text, "usage": {"type": "duration", "seconds": round(duration)}})
        segments = [{"id": 0, "start": 0.0, "end": duration, "text": text}]
        body = {"task": "transcribe", "language": language, "duration": duration, "text": text, "segments": segments}
        return Response(json.dumps(body), media_type="application/json")
