"""An OpenAI-compatible `/v1/audio/transcriptions` endpoint (OpenAI, Groq, speaches, whisper.cpp's server,
LocalAI, vLLM) over httpx2, the HTTP client the server already has.

The audio is uploaded as WAHA served it (multipart `file`), never re-encoded. `verbose_json` is asked for
(it carries the language and the duration); a server that refuses it gets the request again as `json`.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx2

from waha_mcp.redact import Redactor
from waha_mcp.transcribe.engine import Heard, TranscribeError

DEFAULT_MODEL = "whisper-1"
RETRY_DEFAULT = 30.0  # seconds, when a 429 or 503 names no Retry-After
SHOWN = 200  # characters of an endpoint's own error message kept in ours


class EndpointEngine:
    concurrency = 2

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        model: str | None = None,
        language: str | None = None,
        timeout: float = 120.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model or DEFAULT_MODEL
        self.language = language
        self.name = f"openai:{self.model}"
        self._redact = Redactor([api_key])
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # No retries and no redirects: a redirected upload could carry the key to another host.
        self._http = httpx2.AsyncClient(
            headers=headers, timeout=timeout, follow_redirects=False, transport=transport, trust_env=False
        )
        self._timeout = timeout
        self._formats = ["verbose_json", "json"]

    @property
    def url(self) -> str:
        return f"{self.base_url}/audio/transcriptions"

    async def transcribe(self, audio: bytes, *, mimetype: str, filename: str) -> Heard:
        for fmt in list(self._formats):
            form = {"model": self.model, "response_format": fmt}
            if self.language:
                form["language"] = self.language
            try:
                response = await self._http.post(self.url, data=form, files={"file": (filename, audio, mimetype)})
            except httpx2.TimeoutException:
                raise TranscribeError(
                    f"the transcription endpoint ({self.base_url}) did not answer within {self._timeout:.0f} s "
                    "(WAHA_MCP_TRANSCRIBE_TIMEOUT)",
                    retry_after=RETRY_DEFAULT,
                ) from None
            except httpx2.HTTPError as exc:
                raise TranscribeError(
                    f"the transcription endpoint ({self.base_url}) cannot be reached: "
                    f"{self._redact.text(type(exc).__name__ + ': ' + str(exc))[:SHOWN]}",
                    retry_after=RETRY_DEFAULT,
                ) from None
            if response.status_code == 400 and fmt != self._formats[-1] and "response_format" in response.text:
                if fmt in self._formats:  # (a concurrent call may have learnt it first)
                    self._formats.remove(fmt)  # this server only speaks the plainer format: remember it
                continue
            if response.status_code >= 300:
                raise self._refusal(response)
            return self._heard(response, fmt)
        raise TranscribeError(f"the transcription endpoint ({self.base_url}) accepts no known response_format")

    def _heard(self, response: httpx2.Response, fmt: str) -> Heard:
        try:
            body: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise TranscribeError(
                f"the transcription endpoint ({self.base_url}) answered {response.status_code} without a "
                f"`text` in JSON (response_format={fmt}): is WAHA_MCP_TRANSCRIBE_URL an OpenAI-compatible base URL?"
            )
        duration = body.get("duration")
        language = body.get("language")
        return Heard(
            text=body["text"].strip(),
            language=str(language) if isinstance(language, str) and language else self.language,
            duration=float(duration) if isinstance(duration, int | float) and not isinstance(duration, bool) else None,
        )

    def _refusal(self, response: httpx2.Response) -> TranscribeError:
        status = response.status_code
        said = self._their_words(response)
        where = f"the transcription endpoint ({self.base_url})"
        if status in (401, 403):
            return TranscribeError(f"{where} refused the key ({status}{said}): check WAHA_MCP_TRANSCRIBE_API_KEY")
        if status == 404:
            return TranscribeError(
                f"{where} has no {self.url.rsplit('/', 2)[-2]}/transcriptions route (404{said}): "
                "WAHA_MCP_TRANSCRIBE_URL is the base URL, e.g. http://localhost:8000/v1"
            )
        if status == 413:
            return TranscribeError(f"{where} refused the audio as too large (413{said})")
        if status == 429:
            wait = retry_after(response.headers.get("retry-after"))
            return TranscribeError(f"{where} is rate-limiting (429{said}): retry after {wait:.0f} s", retry_after=wait)
        if status >= 500:
            wait = retry_after(response.headers.get("retry-after"))
            return TranscribeError(f"{where} failed ({status}{said}): retry later", retry_after=wait)
        if 300 <= status < 400:
            return TranscribeError(
                f"{where} redirected ({status}): not followed; set WAHA_MCP_TRANSCRIBE_URL to the target"
            )
        return TranscribeError(f"{where} refused the request ({status}{said})")

    def _their_words(self, response: httpx2.Response) -> str:
        """The endpoint's own message (OpenAI's `{"error": {"message"}}`, or a plain `detail`/text), redacted."""
        text = ""
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict):
            error = body.get("error")
            found = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
            found = found or body.get("detail") or body.get("message")
            text = found if isinstance(found, str) else ""
        elif response.headers.get("content-type", "").startswith("text/"):
            text = response.text
        text = " ".join(self._redact.text(text).split())[:SHOWN]
        return f": {text}" if text else ""

    async def aclose(self) -> None:
        await self._http.aclose()


def retry_after(value: str | None) -> float:
    """Retry-After as seconds (a number, or an HTTP date); RETRY_DEFAULT when absent or unreadable."""
    if not value:
        return RETRY_DEFAULT
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return RETRY_DEFAULT
    return max(when.timestamp() - time.time(), 0.0)
