"""The transcriber: cache first, then one transcription per message at a time, on demand or in the background.

- `ensure`: the transcript if known; else its transcription starts (unless one is already running) and
  the answer says pending. A failure is stored with its reason; reading it again retries once its
  `retry_at` has passed (a 429, a 5xx, a time-out), or when `retry` is asked.
- `offer`: an incoming voice note for the background queue (WAHA_MCP_TRANSCRIBE_INCOMING): bounded, and
  `put_nowait`, so ingest never waits; a full queue drops the note (counted), which is then transcribed
  on demand when read.
- Once across replicas: every replica on a shared store hears of an incoming note (its own ingest or another's,
  read back), and any may be asked for it. Before fetching, a transcription claims the note in the store
  (`TranscriptStore.claim`, atomic); a replica that loses shows it pending and `wait` reads the winner's
  outcome from the store. The claim is a lease (`lease`): a replica killed mid-way leaves one that expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from waha_mcp.transcribe.audio import base_type, filename_for, is_audio, ogg_opus_seconds
from waha_mcp.transcribe.engine import Engine, TranscribeError
from waha_mcp.transcribe.store import Key, Transcript, TranscriptStore, claimable

log = logging.getLogger("waha_mcp.transcribe")
LEASE_MARGIN = 30.0  # seconds a claim outlasts its fetch and transcription time-outs
POLL = (0.05, 1.0)  # `wait` for another replica's outcome: the store is read after 50 ms, doubling up to 1 s
RELEASE_WAIT = 2.0  # seconds a stopping transcription waits to give its claim back (else: the lease ends it)
WATCH = 1.0  # seconds between reads of the outcomes other replicas owe (`_watch_elsewhere`)


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
    if transcript.status == "pending":  # claimed by a replica; an expired claim is nobody's work: nothing yet
        live = transcript.retry_at is not None and transcript.retry_at > time.time()
        return {"status": "pending"} if live else None
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
        fetch_timeout: float = 120.0,
        queue_size: int = 100,
    ) -> None:
        self.engine = engine
        self.store = store
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.timeout = timeout
        self.fetch_timeout = fetch_timeout
        # How long a claim holds: it is taken once a slot is free, so it covers the fetch (bounded by
        # fetch_timeout) and the engine (bounded by timeout), plus a margin for the store's writes and a
        # clock skew between replicas. A holder still working after it is presumed dead; one killed leaves
        # its note to be taken over after it.
        self.lease = fetch_timeout + timeout + LEASE_MARGIN
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.counters: Counter[str] = Counter()
        self.fetcher: Fetcher | None = None  # set while a lifespan runs (it owns the WAHA client)
        # Told (session, message id) once an outcome is stored: caches of what shows the message drop it.
        self.on_outcome: list[Callable[[str, str], None]] = []
        self._running: dict[Key, asyncio.Task[Transcript | None]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue(queue_size)
        self._worker: asyncio.Task[None] | None = None
        self._elsewhere: dict[Key, float] = {}  # claimed by another replica → until when its outcome is awaited
        self._watcher: asyncio.Task[None] | None = None

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
            self._seen(key, stored.get(key))
            shown = transcript_view(stored.get(key), pending=self.pending(*key))
            if shown is not None:
                out[key] = shown
        return out

    async def ensure(self, session: str, message_id: str, fetch: Fetch, *, retry: bool = False) -> TranscriptView:
        """The transcript if known, else pending (its transcription started unless already running here or
        claimed by another replica)."""
        if self.pending(session, message_id):
            return {"status": "pending"}
        cached = await self.store.get(session, message_id)
        if cached is not None and not self._due(cached, retry):
            self._seen((session, message_id), cached)
            return transcript_view(cached) or {"status": "pending"}
        self.start(session, message_id, fetch, retry=retry)
        return {"status": "pending"}

    async def wait(
        self, session: str, message_id: str, fetch: Fetch, *, timeout: float, retry: bool = False
    ) -> TranscriptView:
        """`ensure`, then wait up to `timeout` s for the outcome (pending if it takes longer: it goes on): this
        process's transcription, or, when another replica holds the claim, its outcome read from the store."""
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + timeout, POLL[0]
        while True:
            shown = await self.ensure(session, message_id, fetch, retry=retry)
            retry = False  # asked once: a failure it brings is the answer
            if shown["status"] != "pending":
                return shown
            task = self._running.get((session, message_id))
            if task is not None:
                done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - loop.time()))
                outcome = task.result() if done else None
                if outcome is not None:
                    return transcript_view(outcome) or {"status": "pending"}
                # not done in time, or another replica won the claim: read the store until the deadline
            left = deadline - loop.time()
            if left <= 0:
                return {"status": "pending"}
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, POLL[1])

    @staticmethod
    def _due(cached: Transcript, retry: bool) -> bool:
        """Whether reading it (re)starts its transcription: a failure due (or any, `retry`), an expired claim;
        the same rule as the store's claim."""
        return claimable(cached, time.time(), retry)

    # ----------------------------------------------------------------------------- working

    def start(
        self, session: str, message_id: str, fetch: Fetch, *, retry: bool = False
    ) -> asyncio.Task[Transcript | None]:
        key = (session, message_id)
        running = self._running.get(key)
        if running is not None and not running.done():
            return running
        # A context of its own: the work outlives the tool call that started it, and is not that call's doing
        # (its WAHA requests and log records are not attributed to the call).
        task = asyncio.get_running_loop().create_task(
            self._run(key, fetch, retry), name=f"transcribe {message_id[:40]}", context=contextvars.Context()
        )
        self._running[key] = task
        task.add_done_callback(lambda done: self._running.pop(key, None) if self._running.get(key) is done else None)
        return task

    async def _run(self, key: Key, fetch: Fetch, retry: bool = False) -> Transcript | None:
        """The outcome, stored; None when another replica holds the claim (or has the outcome) instead."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, self.engine.concurrency))
        async with self._slots:
            # Claimed once a slot is free, so the lease counts no time spent queued here.
            try:
                won = await self.store.claim(*key, owner=self.owner, until=time.time() + self.lease, retry=retry)
            except Exception as exc:  # the store down: nobody can claim, so this process transcribes it
                log.warning("transcription of %s not claimed in the store: %s", key[1][:60], type(exc).__name__)
                won = True
            if not won:
                self.counters["elsewhere"] += 1
                self._watch(key, time.time() + self.lease)
                return None
            try:
                outcome = await self._transcribe(fetch)
            except asyncio.CancelledError:  # stopped (this process shutting down): the claim is given back, so
                # another replica takes the note at once rather than after the lease; bounded, and best effort
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(RELEASE_WAIT):
                        await self.store.release(*key, owner=self.owner)
                raise
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
                await self.store.put(*key, outcome)  # replaces the claim
            except Exception as exc:  # the store is down: the outcome is still answered to whoever waits
                log.error("transcript of %s could not be stored: %s", key[1], type(exc).__name__)
            self._tell(key)
            return outcome

    def _tell(self, key: Key) -> None:
        for listener in list(self.on_outcome):
            try:
                listener(*key)
            except Exception:
                log.exception("transcribe: a listener failed")

    def _seen(self, key: Key, stored: Transcript | None) -> None:
        """A stored row read here: a live claim of another replica's is watched for its outcome."""
        if stored is not None and stored.status == "pending" and stored.retry_at is not None and not self.pending(*key):
            if stored.retry_at > time.time() and key not in self._elsewhere:
                self._watch(key, stored.retry_at)

    def _watch(self, key: Key, until: float) -> None:
        """Await the outcome of a note another replica claimed, to tell `on_outcome` here too (what this process
        cached showing it pending is redone), until its claim ends."""
        self._elsewhere[key] = until
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(
                self._watch_elsewhere(), name="transcripts elsewhere", context=contextvars.Context()
            )

    async def _watch_elsewhere(self) -> None:
        # Every awaited note in one read a second, and only while there is one.
        while self._elsewhere:
            await asyncio.sleep(WATCH)
            keys = list(self._elsewhere)
            try:
                found = await self.store.get_many(keys)
            except Exception as exc:  # the store down: read again next time, until the lease is over
                log.warning("transcripts of other replicas not read: %s", type(exc).__name__)
                found = None
            now = time.time()
            for key in keys:
                row = found.get(key) if found is not None else None
                if row is not None and row.status != "pending":
                    self._elsewhere.pop(key, None)
                    self._tell(key)
                elif (found is not None and row is None) or self._elsewhere.get(key, now) <= now:
                    self._elsewhere.pop(key, None)  # gone, or its holder presumed dead: a later read claims it

    async def _transcribe(self, fetch: Fetch) -> Transcript:
        try:
            async with asyncio.timeout(self.fetch_timeout):  # bounded, so the claim's lease covers it
                audio = await fetch()
        except TimeoutError:
            raise TranscribeError(
                f"fetching the audio from WAHA took longer than {self.fetch_timeout:.0f} s", retry_after=60
            ) from None
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
                if self.pending(session, mid):
                    continue
                stored = await self.store.get(session, mid)
                if stored is not None:  # done, failed (retried when read), or claimed by another replica
                    self._seen((session, mid), stored)
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
        tasks: list[asyncio.Task[Any]] = [
            t for t in [self._worker, self._watcher, *self._running.values()] if t is not None
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._worker = self._watcher = None
        self._running.clear()
        self._elsewhere.clear()
        await self.engine.aclose()

    def stats(self) -> dict[str, int]:
        return dict(self.counters) | {"waiting": self._queue.qsize(), "running": len(self._running)}
