"""WAHA's WebSocket event stream (`GET /ws?session=*&events=…`, the API key as `x-api-key`) into the inbox.

No public URL and no change to any session's config. WAHA does not replay what happened while we were
disconnected, so after a reconnect a gap marker (`waha-mcp.gap`, with the span) goes into the inbox.
Failures are soft: logged to stderr (never the key), retried with capped exponential backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from urllib.parse import urlencode, urlsplit, urlunsplit

from waha_mcp.events.ingest import Ingest, now_ms
from waha_mcp.events.summary import BadEnvelope

log = logging.getLogger("waha_mcp.events")
ALL = "*"
# Frames being stored at once: enough for group commit to batch a flood, bounded so it cannot grow without end.
IN_FLIGHT = 512


def ws_url(base_url: str, api_key: str | None, session: str = ALL, events: tuple[str, ...] = (ALL,)) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    # One `events` parameter, names joined by commas, as WAHA's gateway splits it: a repeated `events=` makes it
    # an array there, and Core 2024.10's whole process crashes on it (src/core/api/websocket.gateway.core.ts).
    query = [("session", session), ("events", ",".join(events) or ALL)]
    if api_key:
        query.append(("x-api-key", api_key))  # as WAHA documents it; the header is sent too
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", urlencode(query), ""))


class WSConsumer:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        ingest: Ingest,
        *,
        session: str = ALL,
        events: tuple[str, ...] = (ALL,),
        max_frame: int = 4 * 1024 * 1024,
        backoff: tuple[float, float] = (0.5, 60.0),
        server: str | None = None,
    ) -> None:
        self.url = ws_url(base_url, api_key, session, events)
        self._headers = {"X-Api-Key": api_key} if api_key else {}
        self.ingest = ingest
        self.session = session
        self.max_frame = max_frame
        self.backoff = backoff
        self.server = server  # the fleet's name for this WAHA (None: the only one), in its warnings and gap marks
        self.counters: Counter[str] = Counter()
        self.connected = asyncio.Event()
        self._down_since: int | None = None

    async def run(self) -> None:
        """Forever: connect, read, and on any failure wait (backoff) and reconnect."""
        delay = self.backoff[0]
        warned = False
        while True:
            try:
                await self._session()
                delay = self.backoff[0]  # a connection that worked resets the backoff
                warned = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.counters["failures"] += 1
                # One warning per outage; the retries after it only at debug level.
                level = logging.DEBUG if warned else logging.WARNING
                log.log(
                    level,
                    "events: %s unavailable (%s); retrying in %.1fs",
                    self._stream,
                    type(exc).__name__,
                    delay,
                )
                warned = True
            self.connected.clear()
            if self._down_since is None:
                self._down_since = now_ms()
            await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
            delay = min(delay * 2, self.backoff[1])

    @property
    def _stream(self) -> str:
        return "WAHA WebSocket" if self.server is None else f"the WebSocket of WAHA server {self.server!r}"

    async def _session(self) -> None:
        import websockets  # lazily: only a server that consumes events pays for the import

        async with websockets.connect(
            self.url, additional_headers=self._headers, max_size=self.max_frame, open_timeout=10, ping_interval=20
        ) as ws:
            self.counters["connects"] += 1
            if self._down_since is not None:
                start, self._down_since = self._down_since, None
                await self.ingest.gap(self.session, start, now_ms(), f"{self._stream} was disconnected", self.server)
            self.connected.set()
            slots = asyncio.Semaphore(IN_FLIGHT)
            tasks: set[asyncio.Task[None]] = set()
            try:
                async for frame in ws:
                    await slots.acquire()
                    task = asyncio.get_running_loop().create_task(self._store(frame, slots))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            finally:
                if tasks:
                    await asyncio.gather(*tasks, return_exceptions=True)
        raise ConnectionError("WAHA closed the WebSocket")

    async def _store(self, frame: str | bytes, slots: asyncio.Semaphore) -> None:
        try:
            envelope = json.loads(frame)
            await self.ingest.accept(envelope, "ws", frame if isinstance(frame, str) else None)
            self.counters["frames"] += 1
        except (ValueError, BadEnvelope):
            self.counters["malformed"] += 1
        except Exception as exc:
            self.counters["lost"] += 1
            log.error("events: a WebSocket event could not be stored (%s)", type(exc).__name__)
        finally:
            slots.release()
