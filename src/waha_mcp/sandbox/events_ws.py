"""The sandbox's `GET /ws?session=*&events=*` (WAHA's event stream): each logged event as one text frame.

Authentication as WAHA: `x-api-key` in the query (or the header) when the sandbox has a key. Filters:
`session` (`*` for all) and repeated `events` (`*` for all). `POST /__sandbox/ws/drop` closes every open
stream at once (what a restarting WAHA does), so clients can be tested on reconnecting.

A `core_ws` profile (Core 2024.10, src/core/api/websocket.gateway.core.ts) accepts the connection, then closes
it with 4001 and `{"error": ...}` unless `session` is `*` and `events` is `*` or `session.status`; it sends only
`session.status`, as Core's envelope (no id). That gateway reads `events` as one string: a repeated `events=`
makes it an array, `.split` throws, and the whole WAHA process dies: here every open stream is dropped and
`Streams.crashes` counts it (tests assert a client never causes one).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from .app import Sandbox

CLOSE_RESTART = 1012  # "service restart"
BACKLOG = 10_000  # frames queued for a slow reader before it is cut off (WAHA drops slow consumers too)
CLOSE_REFUSED = 4001  # Core's gateway: a session or event filter it does not support
CORE_ONLY_ALL = "Only connecting to all sessions is allowed for now, use session=*"
CORE_ONLY_STATUS = "Only 'session.status' event is allowed for now, use events=session.status or events=*"


class Streams:
    """The open /ws connections of one sandbox."""

    def __init__(self) -> None:
        self.open: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self.crashes = 0  # Core 2024.10 processes killed by a repeated `events=` (see the module doc)

    def drop_all(self) -> int:
        for queue in self.open:
            queue.put_nowait(None)
        return len(self.open)


_STREAMS: weakref.WeakKeyDictionary[Sandbox, Streams] = weakref.WeakKeyDictionary()


def streams(sb: Sandbox) -> Streams:
    found = _STREAMS.get(sb)
    if found is None:
        found = _STREAMS[sb] = Streams()
    return found


async def serve(sb: Sandbox, scope: Scope, receive: Receive, send: Send) -> None:
    query = parse_qs((scope.get("query_string") or b"").decode(), keep_blank_values=True)
    headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers") or []}
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    key = (query.get("x-api-key") or [headers.get("x-api-key")])[0]
    if scope.get("path") != "/ws" or (sb.keyed and key != sb.api_key):
        await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
        return
    session = (query.get("session") or ["*"])[0]
    wanted = {e for value in query.get("events") or ["*"] for e in value.split(",") if e}
    core = sb.profile.core_ws
    if core and len(query.get("events") or []) > 1:
        streams(sb).crashes += 1
        streams(sb).drop_all()
        await send({"type": "websocket.close", "code": 1011})
        return
    if core:
        refusal = _core_refusal(session, (query.get("events") or ["*"])[0])
        if refusal:
            await send({"type": "websocket.accept"})  # Core refuses after the upgrade, in handleConnection
            await send({"type": "websocket.close", "code": CLOSE_REFUSED, "reason": json.dumps({"error": refusal})})
            return
        wanted = {"session.status"}  # the only event its gateway subscribes to
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def listener(record: dict[str, Any]) -> None:
        if (session in ("*", record["session"])) and ("*" in wanted or record["event"] in wanted):
            if queue.qsize() >= BACKLOG:
                queue.put_nowait(None)
            else:
                queue.put_nowait(record)

    await send({"type": "websocket.accept"})
    registry = streams(sb)
    registry.open.add(queue)
    sb.model.log.listeners.append(listener)

    async def reader() -> None:
        while (await receive())["type"] != "websocket.disconnect":
            pass

    reading = asyncio.get_running_loop().create_task(reader())
    try:
        while True:
            getting = asyncio.get_running_loop().create_task(queue.get())
            done, _ = await asyncio.wait({getting, reading}, return_when=asyncio.FIRST_COMPLETED)
            if reading in done:
                getting.cancel()
                return
            record = getting.result()
            if record is None:
                await send({"type": "websocket.close", "code": CLOSE_RESTART})
                return
            text = json.dumps(sb.profile.wire(record), ensure_ascii=False, separators=(",", ":"))
            await send({"type": "websocket.send", "text": text})
    finally:
        reading.cancel()
        registry.open.discard(queue)
        if listener in sb.model.log.listeners:
            sb.model.log.listeners.remove(listener)


def _core_refusal(session: str, events: str) -> str | None:
    if session != "*":
        return CORE_ONLY_ALL
    if (events or "*").split(",") not in (["*"], ["session.status"]):
        return CORE_ONLY_STATUS
    return None
