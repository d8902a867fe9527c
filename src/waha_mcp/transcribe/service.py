"""The transcriber: cache first, then one transcription per message at a time, on demand or in the background.

- `ensure`: the transcript if known; else its transcription starts (unless one is already running) and
  the answer says pending. A failure is stored with its reason; reading it again retries once its
  `retry_at` has passed (a 429, a 5xx, a time-out), or when `retry` is asked.
- `offer`: an incoming voice note for the background queue (WAHA_MCP_TRANSCRIBE_INCOMING): bounded, and
  `put_nowait`, so ingest never waits; a full queue drops the note (counted), which is then transcribed
  on demand when read.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from waha_mcp.transcribe.audio import base_type, filename_for, is_audio, ogg_opus_seconds
from waha_mcp.transcribe.engine import Engine, TranscribeError
from waha_mcp.transcribe.store import Key, Transcript, TranscriptStore

log = logging.getLogger("waha_mcp.transcribe")


@dataclass(frozen=True)
class Audio:
    data: bytes
    mimetype: str


Fetch = Callable[[], Awaitable[Audio]]
# (session, chat id, message id) → the audio, for work nobody's tool call is waiting on (the background queue).
Fetcher = Callable[[str, str, str], Awaitable[Audio]]


class TranscriptView(TypedDict):
    status: Literal["done", "pending", "failed"]
    text: NotRequired[str]
    language: NotRequired[str]
    duration: NotRequired[float]
    error: NotRequired[str]
    retryAfter: NotRequired[int]  # seconds until reading it again retries it


def transcript_view(transcript: Transcript | None, pending: bool = False) -> TranscriptView | None:
    if pending:
        return {"status": "pending"}
    if transcript is None:
        return None
    if transcript.status == "done":
        out: TranscriptView = {"status": "done", "text": transcript.text or ""}
        if transcript.language:
            out["language"] = transcript.language
        if transcript.duration is not None:
            out["duration"] = round(transcript.duration, 1)
        return out
    failed: TranscriptView = {"status": "failed", "error": transcript.error or "unknown error"}
    if transcript.retry_at is not None:
        failed["retryAfter"] = max(0, round(transcript.retry_at - time.time()))
    return failed


class Transcriber:
    def __init__(
        self,
        engine: Engine,
        store: TranscriptStore,
        *,
        max_bytes: int,
        max_seconds: float,
        timeout: float,
        queue_size: int = 100,
    ) -> None:
        self.engine = engine
        self.store = store
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.timeout = timeout
        self.counters: Counter[str] = Counter()
        self.fetcher: Fetcher | None = None  # set while a lifespan runs (it owns the WAHA client)
        # Told (session, message id) once an outcome is stored: caches of what shows the message drop it.
        self.on_outcome: list[Callable[[str, str], None]] = []
        self._running: dict[Key, asyncio.Task[Transcript]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue(queue_size)
        self._worker: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------------------- reading

    def pending(self, session: str, message_id: str) -> bool:
        task = self._running.get((session, message_id))
        return task is not None and not task.done()

    async def known(self, keys: Iterable[Key]) -> dict[Key, TranscriptView]:
        """What is known of each message: its transcript, pending, or failed (and why); absent: nothing yet."""
        wanted = list(keys)
        stored = await self.store.get_many(wanted)
        out: dict[Key, TranscriptView] = {}
        for key in wanted:
            shown = transcript_view(stored.get(key), pending=self.pending(*key))
            if shown is not None:
                out[key] = shown
        return out

    async def ensure(self, session: str, message_id: str, fetch: Fetch, *, retry: bool = False) -> TranscriptView:
        """The transcript if known, else pending (its transcription started unless already running)."""
        if self.pending(session, message_id):
            return {"status": "pending"}
        cached = await self.store.get(session, message_id)
        if cached is not None and not self._due(cached, retry):
            return transcript_view(cached) or {"status": "pending"}
        self.start(session, message_id, fetch)
        return {"status": "pending"}

    async def wait(
        self, session: str, message_id: str, fetch: Fetch, *, timeout: float, retry: bool = False
    ) -> TranscriptView:
        """`ensure`, then wait up to `timeout` s for the outcome (pending if it takes longer: it goes on)."""
        first = await self.ensure(session, message_id, fetch, retry=retry)
        task = self._running.get((session, message_id))
        if first["status"] != "pending" or task is None:
            return first
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            return {"status": "pending"}
        return transcript_view(task.result()) or {"status": "pending"}

    @staticmethod
    def _due(cached: Transcript, retry: bool) -> bool:
        if cached.status == "done":
            return False
        return retry or (cached.retry_at is not None and cached.retry_at <= time.time())

    # ----------------------------------------------------------------------------- working

    def start(self, session: str, message_id: str, fetch: Fetch) -> asyncio.Task[Transcript]:
        key = (session, message_id)
        running = self._running.get(key)
        if running is not None and not running.done():
            return running
        # A context of its own: the work outlives the tool call that started it, and is not that call's doing
        # (its WAHA requests and log records are not attributed to the call).
        task = asyncio.get_running_loop().create_task(
            self._run(key, fetch), name=f"transcribe {message_id[:40]}", context=contextvars.Context()
        )
        self._running[key] = task
        task.add_done_callback(lambda done: self._running.pop(key, None) if self._running.get(key) is done else None)
        return task

    async def _run(self, key: Key, fetch: Fetch) -> Transcript:
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, self.engine.concurrency))
        async with self._slots:
            try:
                outcome = await self._transcribe(fetch)
            except TranscribeError as exc:
                retry_at = time.time() + exc.retry_after if exc.retry_after is not None else None
                outcome = Transcript("failed", error=exc.message, retry_at=retry_at, engine=self.engine.name,
                                     at=time.time())  # fmt: skip
            except Exception as exc:  # an engine's bug must not lose the message: stored as failed, retryable
                log.warning("transcription of %s failed: %s", key[1], type(exc).__name__)
                outcome = Transcript("failed", error=f"transcription failed: {type(exc).__name__}",
                                     engine=self.engine.name, at=time.time())  # fmt: skip
            self.counters[outcome.status] += 1
            try:
                await self.store.put(*key, outcome)
            except Exception as exc:  # the store is down: the outcome is still answered to whoever waits
                log.error("transcript of %s could not be stored: %s", key[1], type(exc).__name__)
            for listener in list(self.on_outcome):
                try:
                    listener(*key)
                except Exception:
                    log.exception("transcribe: a listener failed")
            return outcome

    async def _transcribe(self, fetch: Fetch) -> Transcript:
        audio = await fetch()
        if not is_audio(audio.mimetype, audio.data[:16]):
            raise TranscribeError(f"the media is {base_type(audio.mimetype) or 'not audio'}, not a voice note or audio")
        if len(audio.data) > self.max_bytes:
            raise TranscribeError(
                f"the audio is {len(audio.data)} bytes, over the {self.max_bytes}-byte limit "
                "(WAHA_MCP_TRANSCRIBE_MAX_BYTES)"
            )
        seconds = ogg_opus_seconds(audio.data)
        if seconds is not None and seconds > self.max_seconds:
            raise TranscribeError(
                f"the audio lasts {seconds:.0f} s, over the {self.max_seconds:.0f}-second limit "
                "(WAHA_MCP_TRANSCRIBE_MAX_SECONDS)"
            )
        try:
            async with asyncio.timeout(self.timeout):
                heard = await self.engine.transcribe(
                    audio.data, mimetype=base_type(audio.mimetype) or "audio/ogg", filename=filename_for(audio.mimetype)
                )
        except TimeoutError:
            raise TranscribeError(
                f"the transcription took longer than {self.timeout:.0f} s (WAHA_MCP_TRANSCRIBE_TIMEOUT)",
                retry_after=60,
            ) from None
        duration = heard.duration if heard.duration is not None else seconds
        if duration is not None and duration > self.max_seconds:
            raise TranscribeError(
                f"the audio lasts {duration:.0f} s, over the {self.max_seconds:.0f}-second limit "
                "(WAHA_MCP_TRANSCRIBE_MAX_SECONDS)"
            )
        return Transcript("done", text=heard.text, language=heard.language, duration=duration,
                          engine=self.engine.name, at=time.time())  # fmt: skip

    # ----------------------------------------------------------------------------- incoming

    def offer(self, session: str, chat: str, message_id: str) -> bool:
        """Queue an incoming voice note for the background worker; never waits (False: full, dropped)."""
        try:
            self._queue.put_nowait((session, chat, message_id))
        except asyncio.QueueFull:
            self.counters["dropped"] += 1
            return False
        self.counters["queued"] += 1
        return True

    def run_background(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(
                self._drain(), name="transcribe incoming", context=contextvars.Context()
            )

    async def _drain(self) -> None:
        while True:
            session, chat, mid = await self._queue.get()
            fetcher = self.fetcher
            if fetcher is None:
                continue
            try:
                if self.pending(session, mid) or await self.store.get(session, mid) is not None:
                    continue

                async def fetch(s: str = session, c: str = chat, m: str = mid, f: Fetcher = fetcher) -> Audio:
                    return await f(s, c, m)

                await self.start(session, mid, fetch)
            except Exception as exc:  # the store down: this note waits to be read
                log.warning("background transcription of %s not started: %s", mid[:60], type(exc).__name__)

    async def aclose(self) -> None:
        """Stop the worker and every transcription under way (their messages stay untranscribed, to be
        retried when read), and release the engine."""
        self.fetcher = None
        tasks: list[asyncio.Task[Any]] = [t for t in [self._worker, *self._running.values()] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._worker = None
        self._running.clear()
        await self.engine.aclose()

    def stats(self) -> dict[str, int]:
        return dict(self.counters) | {"waiting": self._queue.qsize(), "running": len(self._running)}
