"""The WAHA leg's HTTP/1.1 client for plain-http WAHA: aiohttp (its C parser), keep-alive connections to one origin.

`HTTPCore` sends through it when it can carry the request exactly as httpx2 would (see `lean_wire`); otherwise
httpx2 does (https, a proxy, an injected transport). Its failures are raised as httpx2's exception types, so the
error mapping, retries and caps above it are one code path; an answer over the cap is `Oversized`, raised as soon
as the header or the streamed body shows it. (aiohttp replaced a hand-written client here, issue 23: within 20 %
of its speed per call on bench/hot_path.py, see docs/benchmarks.md.)
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx2
from yarl import URL

MAX_CONNECTIONS = 32  # as httpx2's limits in HTTPCore
# Node's default keep-alive timeout is 5 s: a connection idle for longer may be closing under us.
IDLE_EXPIRY = 4.0


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer, read whole (under the cap)."""

    status: int
    reason: str
    headers: Mapping[str, str]  # lower-case names; a repeated header's values joined with ", "
    body: bytes


class Oversized(Exception):
    """The answer is over the byte limit: `declared` by its Content-Length, or None when found while streaming."""

    def __init__(self, status: int, declared: int | None) -> None:
        super().__init__(status, declared)
        self.status = status
        self.declared = declared


def lean_wire(base_url: str, headers: Mapping[str, str], connect_timeout: float) -> Wire | None:
    """The aiohttp client for `base_url`, or None where httpx2 must carry the requests: https (httpx2's TLS set-up
    and certificate store stay the one way to verify WAHA), or a proxy in the environment."""
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


def query_string(params: Mapping[str, Any] | None) -> str:
    """`?a=1&b=x+y`, encoded as httpx2 encodes `params` (lists repeat the name); empty for none."""
    if not params:
        return ""
    # Only str and int values are remembered: 1, 1.0 and True are one dict key but three query strings.
    key = tuple(params.items()) if all(type(value) in _PLAIN for value in params.values()) else None
    known = _QUERIES.get(key) if key is not None else None
    if known is None:
        known = "?" + urlencode(params, doseq=True)
        if key is not None:
            if len(_QUERIES) >= 1024:
                _QUERIES.clear()
            _QUERIES[key] = known
    return known


# The same few queries come back call after call (a page of chats): encoded once.
_QUERIES: dict[tuple[tuple[str, Any], ...], str] = {}
_PLAIN = (str, int)


class Wire:
    """aiohttp's pool of keep-alive connections to one origin; at most MAX_CONNECTIONS requests at once."""

    def __init__(self, url: httpx2.URL, headers: Mapping[str, str], connect_timeout: float) -> None:
        host = f"[{url.host}]" if ":" in url.host else url.host
        authority = host if url.port in (None, 80) else f"{host}:{url.port}"
        prefix = url.raw_path.decode("ascii").split("?")[0].rstrip("/")
        self.base = f"http://{authority}{prefix}"
        # The client's own headers (Accept is per request). Answers are asked for uncompressed (`identity`):
        # nothing to inflate on loopback or a LAN, and what comes compressed anyway is inflated under the cap
        # (`_decoded`), not by aiohttp.
        self._headers = {"Accept-Encoding": "identity", **{k: v for k, v in headers.items() if k.lower() != "accept"}}
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or self._loop is not loop:
            # Connections belong to the loop that opened them; a new loop (a test, a restart) starts afresh.
            self._retire()
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=IDLE_EXPIRY)
            session = aiohttp.ClientSession(
                connector=connector,
                # The overall deadline is the caller's (WAHA_TIMEOUT); only the connect has its own.
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout),
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # WAHA's API keeps no cookies; nor does the httpx2 path
            )
            # aiohttp sends an idempotent request (PUT, DELETE too) again when a kept connection drops: a write
            # is never sent twice here, and reads are retried (with a pause) by the caller. Private: pinned in
            # tests/test_private_apis.py.
            session._retry_connection = False
            self._session, self._loop = session, loop
        return session

    async def request(self, method: str, target: str, accept: str, body: bytes | None, limit: int) -> Answer:
        """Send one request (`target`: the path under the base URL, percent-encoded, query included) and read its
        answer whole; at most `limit` bytes of body are read (`Oversized` past that)."""
        headers = {**self._headers, "Accept": accept}
        skip: tuple[str, ...] = ()
        if body is not None:
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = "0"  # as httpx2 does: some proxies refuse a POST without a length
            skip = ("Content-Type",)  # no body, no type (aiohttp would say application/octet-stream)
        url = URL(self.base + target, encoded=True)  # encoded already: `%2E` stays, nothing is normalised
        try:
            response = await self._client().request(
                method, url, headers=headers, data=body, allow_redirects=False, skip_auto_headers=skip
            )
            try:
                raw = await _read_capped(response, limit)
            except BaseException:
                response.close()  # half read (over the cap, cancelled, broken): never handed to the next request
                raise
            response.release()
        except aiohttp.ConnectionTimeoutError:
            raise httpx2.ConnectTimeout(f"no connection to {url.host}:{url.port} in time") from None
        except aiohttp.ClientConnectorError as exc:
            raise httpx2.ConnectError(str(exc.os_error) or type(exc).__name__) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
            raise httpx2.RemoteProtocolError(_said(exc)) from None
        except aiohttp.ClientError as exc:
            raise httpx2.ReadError(_said(exc)) from None
        headers_seen: dict[str, str] = {}
        for name, value in response.headers.items():
            key = name.lower()
            old = headers_seen.get(key)
            headers_seen[key] = value if old is None else f"{old}, {value}"
        coding = headers_seen.get("content-encoding", "").strip().lower() or "identity"
        if coding != "identity":
            try:
                raw = _decoded(raw, coding, limit)
            except Oversized:
                raise Oversized(response.status, None) from None
        return Answer(response.status, response.reason or "", headers_seen, raw)

    def _retire(self) -> None:
        """Close the session of another loop on that loop (its connections are gone with it once it is closed)."""
        session, owner = self._session, self._loop
        self._session = self._loop = None
        if session is None or owner is None:
            return
        if owner.is_closed():
            session.detach()  # nothing can run on a closed loop; its sockets are closed with their transports
        else:
            asyncio.run_coroutine_threadsafe(session.close(), owner)

    async def aclose(self) -> None:
        session, owner = self._session, self._loop
        if session is not None and owner is asyncio.get_running_loop():
            self._session = self._loop = None
            await session.close()
        else:
            self._retire()


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = response.content_length
    if declared is not None:
        if declared > limit:
            raise Oversized(response.status, declared)
        return await response.read()  # one read, the length already checked
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise Oversized(response.status, None)
        chunks.append(chunk)
    return b"".join(chunks)


def _said(exc: aiohttp.ClientError) -> str:
    """What went wrong, without the request's URL or headers (no key, no credentials can be in it)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"malformed HTTP answer: {exc.message}"
    return str(exc) or type(exc).__name__


def _decoded(body: bytes, coding: str, limit: int) -> bytes:
    """A body compressed although `identity` was asked for (a proxy that compresses anyway): gzip and deflate are
    inflated, at most `limit` bytes of it; any other coding is a protocol error."""
    if coding in ("gzip", "x-gzip"):
        attempts = [16 + zlib.MAX_WBITS]
    elif coding == "deflate":
        attempts = [zlib.MAX_WBITS, -zlib.MAX_WBITS]  # zlib-wrapped, as the standard says, or raw, as some send
    else:
        raise httpx2.RemoteProtocolError(f"WAHA's answer is {coding[:40]}-encoded, which was not asked for")
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(out) > limit:
            raise Oversized(0, None)
        return out
    raise httpx2.RemoteProtocolError(f"WAHA's {coding}-encoded answer could not be inflated")
