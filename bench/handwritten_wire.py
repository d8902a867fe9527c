"""The baseline of issue 23's comparison: waha-mcp's former hand-written HTTP/1.1 client for the WAHA leg (what
src/waha_mcp/client/wire.py was until aiohttp replaced it), kept here only to measure against: keep-alive
connections to one plain-http origin, answers parsed by httptools.

`hot_path.py --versus handwritten-wire` serves waha-mcp with it in aiohttp's place; `wire_vs_handwritten.py` runs
both clients alone. Its answers and its over-the-cap error are the client's own (`Answer`, `Oversized`).
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import urllib.request
from collections.abc import Mapping
from functools import cache
from importlib.util import find_spec
from typing import Any, cast

import httpx2

from waha_mcp.client.wire import Answer, Oversized, _decoded  # the same inflation rule as the real client

MAX_CONNECTIONS = 32  # as httpx2's limits in HTTPCore
MAX_IDLE = MAX_CONNECTIONS  # every connection of a busy moment stays for the next (httpx2 kept 16)
# Node's default keep-alive timeout is 5 s: a connection idle for longer may be closing under us.
IDLE_EXPIRY = 4.0
_BODYLESS = (204, 304)


@cache
def _httptools() -> Any:
    import httptools

    return httptools


def lean_wire(base_url: str, headers: Mapping[str, str], connect_timeout: float) -> Wire | None:
    """The lean client for `base_url`, or None where httpx2 must carry the requests: httptools missing, https
    (httpx2's TLS set-up and certificate store stay the one way to verify WAHA), or a proxy in the environment."""
    if find_spec("httptools") is None:
        return None
    url = httpx2.URL(base_url)
    if url.scheme != "http" or not url.host:
        return None
    proxies = urllib.request.getproxies()  # what httpx2 reads too (trust_env)
    if proxies.get("http") or proxies.get("all"):
        return None
    if not all(_TOKEN.fullmatch(name) and _VALUE.fullmatch(value) for name, value in headers.items()):
        return None  # a key with a line break or non-ASCII in it: httpx2 refuses it as it always did
    return Wire(url, headers, connect_timeout)


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")


class Wire:
    """A pool of keep-alive connections to one origin; at most MAX_CONNECTIONS requests at once."""

    def __init__(self, url: httpx2.URL, headers: Mapping[str, str], connect_timeout: float) -> None:
        self.host = url.host
        self.port = url.port or 80
        self.prefix = url.raw_path.decode("ascii").split("?")[0].rstrip("/")
        host = f"[{url.host}]" if ":" in url.host else url.host
        authority = host if url.port in (None, 80) else f"{host}:{url.port}"
        # Host first, then the client's own headers, as httpx2 sends them (Accept is per request).
        # Answers come uncompressed (`identity`): nothing to inflate on loopback or a LAN; see `_decoded`.
        lines = [
            ("Host", authority),
            ("Accept-Encoding", "identity"),
            *((k, v) for k, v in headers.items() if k.lower() != "accept"),
        ]
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in lines).encode("ascii")
        self._connect_timeout = connect_timeout
        self._idle: list[tuple[float, _Connection]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self._closed = False

    def head(self, method: str, target: str, accept: str, body: bytes | None) -> bytes:
        """The request's head (request line and headers, blank line included)."""
        out = b"%s %s HTTP/1.1\r\n%sAccept: %s\r\n" % (
            method.encode("ascii"),
            (self.prefix + target).encode("ascii"),
            self._fixed,
            accept.encode("ascii"),
        )
        if body is not None:
            out += b"Content-Length: %d\r\nContent-Type: application/json\r\n" % len(body)
        elif method in ("POST", "PUT", "PATCH"):
            out += b"Content-Length: 0\r\n"  # as httpx2 does: some proxies refuse a POST without a length
        return out + b"\r\n"

    async def request(self, method: str, target: str, accept: str, body: bytes | None, limit: int) -> Answer:
        """Send one request (`target`: the path under the base URL, query included) and read its answer whole;
        at most `limit` bytes of body are read (`Oversized` past that)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Connections belong to the loop that opened them; a new loop (a test, a restart) starts afresh.
            self._drop_idle(loop)
            self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
            self._loop = loop
        head = self.head(method, target, accept, body)
        data = [head, body] if body else [head]  # a large body is not copied to be sent
        async with self._slots:
            conn = self._reuse() or await self._connect(loop)
            done = False
            try:
                answer = await conn.exchange(data, limit)
                done = True
                return answer
            finally:
                if done and conn.reusable and not self._closed and len(self._idle) < MAX_IDLE:
                    self._idle.append((time.monotonic(), conn))
                else:
                    conn.close()

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            since, conn = self._idle.pop()
            if conn.open and now - since < IDLE_EXPIRY:
                return conn
            conn.close()
        return None

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(_Connection, self.host, self.port)
        except TimeoutError:
            raise httpx2.ConnectTimeout(f"no connection to {self.host}:{self.port} in time") from None
        except OSError as exc:
            raise httpx2.ConnectError(str(exc) or type(exc).__name__) from None
        sock = conn.transport.get_extra_info("socket") if conn.transport else None
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _drop_idle(self, running: asyncio.AbstractEventLoop) -> None:
        """Close the idle connections, each on its own loop (gone with it when that loop is closed)."""
        owner = self._loop
        for _, conn in self._idle:
            if owner is running:
                conn.close()
            elif owner is not None and not owner.is_closed():
                owner.call_soon_threadsafe(conn.close)
        self._idle.clear()

    async def aclose(self) -> None:
        self._closed = True
        self._drop_idle(asyncio.get_running_loop())


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one exchange at a time (the pool hands it to one request)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = False
        self._waiter: asyncio.Future[Answer] | None = None
        self._parser: Any = None
        self._limit = 0
        self._reason = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._got_bytes = False
        self._headers_done = False
        self._until_close = False  # no length, not chunked: the body ends when WAHA closes

    # --- the request side --------------------------------------------------------------------------------

    @property
    def open(self) -> bool:
        # is_closing(): WAHA's FIN was read but connection_lost has not run yet.
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    async def exchange(self, data: list[bytes], limit: int) -> Answer:
        if not self.open or self.transport is None:
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        waiter: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._parser = _httptools().HttpResponseParser(self)
        self._limit = limit
        self._reason = b""
        self._headers = {}
        self._body = []
        self._size = 0
        self._got_bytes = False
        self._headers_done = False
        self._until_close = False
        self.reusable = False
        self.transport.writelines(data)
        try:
            return await waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: BaseException) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    def _finish(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        status = self._parser.get_status_code()
        body = b"".join(self._body)
        coding = self._headers.get("content-encoding", "").strip().lower() or "identity"
        if coding != "identity":
            try:
                body = _decoded(body, coding, self._limit)
            except (httpx2.RemoteProtocolError, Oversized) as exc:
                self._fail(Oversized(status, None) if isinstance(exc, Oversized) else exc)
                return
        waiter.set_result(Answer(status, self._reason.decode("latin-1"), self._headers, body))

    # --- asyncio.Protocol --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # create_connection's: a stream transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if exc is None and self._headers_done and self._until_close:
            self._finish()
        elif exc is not None:
            waiter.set_exception(httpx2.ReadError(str(exc) or type(exc).__name__))
        elif self._got_bytes:
            waiter.set_exception(httpx2.RemoteProtocolError("peer closed connection without sending complete message"))
        else:
            waiter.set_exception(httpx2.RemoteProtocolError("Server disconnected without sending a response."))

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Bytes nobody asked for: this connection's framing can no longer be trusted.
            self.reusable = False
            self.close()
            return
        self._got_bytes = True
        httptools = _httptools()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx2.RemoteProtocolError("WAHA switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(httpx2.RemoteProtocolError(f"malformed HTTP answer: {exc}"))

    # --- httptools callbacks -----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None or self._waiter.done():
            self.reusable = False  # a second answer in the same bytes: not ours to read
            self.close()

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        old = self._headers.get(key)
        self._headers[key] = text if old is None else f"{old}, {text}"

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:
            return  # informational: the real answer follows
        self._headers_done = True
        declared = self._headers.get("content-length", "")
        chunked = "chunked" in self._headers.get("transfer-encoding", "").lower()
        self._until_close = not declared and not chunked and status not in _BODYLESS
        if declared.isdigit() and int(declared) > self._limit:
            self._fail(Oversized(status, int(declared)))

    def on_body(self, body: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            return
        self._size += len(body)
        if self._size > self._limit:
            self._fail(Oversized(self._parser.get_status_code(), None))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._parser.get_status_code() < 200:
            self._headers = {}
            self._reason = b""
            return
        self.reusable = bool(self._parser.should_keep_alive()) and not self.closed
        self._finish()
