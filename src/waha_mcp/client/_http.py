"""The one place that builds WAHA URLs, sends requests, retries reads and turns answers into results.

Requests are built from the vendored OpenAPI document: `call()` takes an operationId and knows the
method, the path template and where the session goes, so a request the document lacks cannot be made.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import anyio
import httpx2

from waha_mcp import jsonfast
from waha_mcp.capped_read import OverLimit, check_declared, read_capped
from waha_mcp.client.errors import (
    BadResponse,
    EndpointMissing,
    NotOnFileServer,
    TooLarge,
    WAHAError,
    from_redirect,
    from_response,
    from_transport,
)
from waha_mcp.client.wire import Answer, Oversized, Wire, lean_wire, query_string
from waha_mcp.config import MAX_RESPONSE_BYTES, split_credentials
from waha_mcp.openapi import load_spec

log = logging.getLogger("waha_mcp.client")
# httpx2's own request log line, kept for the requests sent past its client (`HTTPCore._request`).
_http_log = logging.getLogger("httpx2")

RETRY_STATUSES = frozenset({502, 503, 504})
READ_RETRIES = 2
BACKOFF = 0.25
USER_AGENT = "waha-mcp"
EMPTY_BODY = "an empty body"
NOT_JSON = "a body that is not JSON"
# WAHA's file server (downloaded media, pictures): the one route fetched by URL, with the API key.
FILES_ROUTE = "/api/files/"

# POSTs that only read (the body carries a filter too long for a URL): retried like a GET.
READ_POSTS = frozenset({"ChatsController_postChatsOverview"})
# GETs whose empty 2xx is a real answer although the document declares JSON (BEHAVIOUR.md:
# `GET /me` when the session is not logged in).
EMPTY_ANSWERS = frozenset({"SessionsController_getMe"})
# Operations that send a message answer with it; an empty 2xx means it may or may not have gone out.
# (`sendSeen` only marks messages read.)
NOT_SENDS = frozenset({"ChattingController_sendSeen"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# True while the client reads something for its own bookkeeping (the WAHA version): not an operation of the
# caller, so `on_operation` is not told.
QUIET: ContextVar[bool] = ContextVar("waha_client_quiet", default=False)
_TRANSPORT_ERRORS = (httpx2.HTTPError, TimeoutError)
_RETRYABLE_ERRORS = (httpx2.ConnectError, httpx2.RemoteProtocolError, httpx2.ReadError)


@dataclass(frozen=True, slots=True)
class Route:
    """What `call()` needs about one operation, computed once from the document."""

    operation_id: str
    method: str
    parts: tuple[str, ...]  # the path template split at placeholders: literal, name, literal, ...
    path_names: frozenset[str]  # placeholders other than {session}
    query_names: frozenset[str]  # query parameters other than `session`
    session_in: str | None  # 'path', 'query', 'body' or None
    # The body's session may be null (an API key for every session): None is sent as null, not refused.
    session_nullable: bool
    read: bool  # safe to retry; a garbled answer means nothing was done
    empty_ok: bool  # an empty 2xx body is an answer, not a failure
    send: bool = False  # sends a message: an empty 2xx leaves its result unknown
    since: str = ""  # the first WAHA release with this route (the supplement's operations); "" for the rest

    @property
    def url_template(self) -> str:
        """The path as the document writes it: /api/{session}/chats/{chatId}."""
        return "".join(part if i % 2 == 0 else f"{{{part}}}" for i, part in enumerate(self.parts))

    def url(self, given: Mapping[str, Any]) -> str:
        """The raw path, every value percent-encoded as one segment."""
        return "".join(part if i % 2 == 0 else segment(given[part]) for i, part in enumerate(self.parts))


@cache
def routes() -> dict[str, Route]:
    """Every operation of the document by operationId; built on first use, then shared."""
    out: dict[str, Route] = {}
    for op in load_spec().operations:
        names = [p["name"] for p in op.parameters if p.get("in") == "path" and p.get("name") != "session"]
        query = [p["name"] for p in op.parameters if p.get("in") == "query" and p.get("name") != "session"]
        read = op.method == "GET" or op.operation_id in READ_POSTS
        declares_json = any(
            code.startswith("2") and any("json" in media for media in (answer.get("content") or {}))
            for code, answer in op.responses.items()
        )
        empty_ok = op.method != "GET" or not declares_json or op.operation_id in EMPTY_ANSWERS
        out[op.operation_id] = Route(
            operation_id=op.operation_id,
            method=op.method,
            parts=tuple(_PLACEHOLDER.split(op.path)),
            path_names=frozenset(names),
            query_names=frozenset(query),
            session_in=op.session_location,
            session_nullable=_nullable_session(op.request_schema),
            read=read,
            empty_ok=empty_ok,
            send=op.method == "POST"
            and op.operation_id.startswith("ChattingController_send")
            and op.operation_id not in NOT_SENDS,
            since=op.since,
        )
    return out


def _nullable_session(schema: dict[str, Any] | None) -> bool:
    return bool(((schema or {}).get("properties") or {}).get("session", {}).get("nullable"))


@dataclass(frozen=True)
class Binary:
    """A non-JSON response body (QR PNG, screenshot, converted media)."""

    data: bytes
    mimetype: str


def segment(value: str) -> str:
    """Percent-encode one path segment: chat ids carry '@', session names are user input.

    A segment of dots only ('.', '..') is encoded too: left bare, URL normalisation would send another route.
    """
    known = _SEGMENTS.get(value) if type(value) is str else None
    if known is not None:
        return known
    text = quote(str(value), safe="")
    text = text.replace(".", "%2E") if text and set(text) == {"."} else text
    if type(value) is str:
        if len(_SEGMENTS) >= 4096:
            _SEGMENTS.clear()
        _SEGMENTS[value] = text
    return text


# The same sessions and chats come back call after call: each encoded once (quote() costs more than a lookup).
_SEGMENTS: dict[str, str] = {}


class HTTPCore:
    """Owns the pooled `httpx2.AsyncClient`; holds no session."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        wire: bool = True,
    ) -> None:
        # A WAHA behind basic auth (`http://user:password@host`): the credentials go in a header, never in the
        # base URL that errors show.
        base_url, user, password = split_credentials(base_url)
        self._basic = None if user is None else _basic_auth(user, password or "")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        # No answer is read into memory beyond this (WAHA_MCP_MAX_RESPONSE_BYTES).
        self.max_response_bytes = max_response_bytes
        self._transport = transport
        self._http: httpx2.AsyncClient | None = None
        self._lean: _Lean | None = None
        # aiohttp (client/wire.py) carries API requests to a plain-http WAHA; `wire=False` keeps httpx2.
        self._wire: Wire | None = None
        self._wire_wanted = wire and transport is None
        # Called with the operationId of every request `call()` sends (tests learn what was reached).
        self.on_operation: list[Callable[[str], None]] = []
        # Operations this WAHA answered with NestJS's `Cannot GET ...` (an older version): a tool with an
        # older route for the same job goes straight to it next time.
        self.missing_operations: set[str] = set()

    @property
    def http(self) -> httpx2.AsyncClient:
        # Created lazily so constructing a client (and the server) costs no I/O.
        if self._http is None or self._http.is_closed:
            self._http = httpx2.AsyncClient(
                base_url=self.base_url,
                headers=self._headers(),
                timeout=httpx2.Timeout(self._timeout, connect=min(10.0, self._timeout)),
                transport=self._transport,
                # A redirect would carry the key (and a write's body) wherever it points: never followed.
                follow_redirects=False,
                limits=httpx2.Limits(max_connections=32, max_keepalive_connections=16),
            )
            self._lean = _Lean(self._http)
        return self._http

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self._api_key:
            headers["X-Api-Key"] = self._api_key
        if self._basic:
            headers["Authorization"] = self._basic
        return headers

    def wire(self) -> Wire | None:
        """The aiohttp client (client/wire.py) when it can carry this WAHA's API requests; None: httpx2 carries them."""
        if self._wire is None and self._wire_wanted:
            self._wire = lean_wire(self.base_url, self._headers(), min(10.0, self._timeout))
            self._wire_wanted = self._wire is not None
        return self._wire

    async def aclose(self) -> None:
        if self._wire is not None:
            await self._wire.aclose()
            self._wire = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def call(
        self,
        operation_id: str,
        session: str | None = None,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        accept: str = "application/json",
    ) -> Any:
        """Send the document's operation `operation_id`; `session` goes where the document puts it
        (for an operation that takes none, it only names the account in errors).

        Returns JSON, None for an empty 2xx the operation may give, or `Binary` for non-JSON media.
        A name the operation does not declare (or a missing path value) is a TypeError: a bug of ours.
        """
        route = _ROUTES.get(operation_id) or _route(operation_id)
        given = path or {}
        if given.keys() != route.path_names:
            raise TypeError(f"{operation_id} takes path values {sorted(route.path_names)}, not {sorted(given)}")
        if query and not route.query_names.issuperset(query):
            unknown = sorted(set(query) - route.query_names)
            raise TypeError(f"{operation_id} has no query parameter {', '.join(unknown)}")
        where = route.session_in
        if where is not None and not session and not route.session_nullable:
            raise TypeError(f"{operation_id} needs a session")
        if where == "path":
            given = {**given, "session": session}
        elif where == "query":
            query = {**(query or {}), "session": session}
        elif where == "body":
            # Last, as in WAHA's examples.
            body = {**(body or {}), "session": session}
        url = route.url(given)
        if not QUIET.get():
            for observe in self.on_operation:
                observe(operation_id)
        return await self._send(route, url, session, _clean_params(query), body, accept)

    async def _send(
        self, route: Route, url: str, session: str | None, query: dict[str, Any] | None, body: Any, accept: str
    ) -> Any:
        method = route.method
        attempts = 1 + (READ_RETRIES if route.read else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                answer = await self._exchange(route, url, session, query, body, accept)
            except _TRANSPORT_ERRORS as exc:
                # Only a read may go again: a write that reached WAHA before the drop would happen twice.
                if route.read and not last and isinstance(exc, _RETRYABLE_ERRORS):
                    await anyio.sleep(BACKOFF * 2**attempt)
                    continue
                raise self._unanswered(exc, method, url, session, write=not route.read) from None
            if answer.status in RETRY_STATUSES and route.read and not last:
                await anyio.sleep(BACKOFF * 2**attempt)
                continue
            return self._result(route, url, session, answer)
        raise AssertionError("unreachable")

    async def _exchange(
        self, route: Route, url: str, session: str | None, query: dict[str, Any] | None, body: Any, accept: str
    ) -> Answer:
        """One request and its whole answer (under the cap), on aiohttp where it can, else on httpx2.

        Within a total deadline (WAHA_TIMEOUT) either way: httpx's timeouts are per read, and a slow drip never trips
        them. aiohttp runs on asyncio only, so its deadline is asyncio's (half the cost of a cancel scope).
        """
        wire = self.wire()
        if wire is not None:
            content = None if body is None else jsonfast.dumps(body).encode()
            try:
                async with asyncio.timeout(self._timeout):
                    answer = await wire.request(
                        route.method, url + query_string(query), accept, content, self.max_response_bytes
                    )
            except Oversized as exc:
                raise self._answer_too_large(route, url, session, exc.status, exc.declared) from None
            if log.isEnabledFor(logging.DEBUG):
                log.debug("HTTP %s %s -> %d", route.method, url, answer.status)
            return answer
        with anyio.fail_after(self._timeout):
            response = await self._request(route.method, url, query, body, accept)
            try:
                raw = await self._read_capped(response, route, url, session)
            finally:
                await response.aclose()
        return Answer(response.status_code, response.reason_phrase, response.headers, raw)

    async def _request(
        self, method: str, url: str, query: dict[str, Any] | None, body: Any, accept: str
    ) -> httpx2.Response:
        """One request on the client's connection pool, its body not read yet.

        The transport is driven directly: what `AsyncClient.send` adds on top (auth flows, redirects, which are
        never followed here anyway, cookie persistence, event hooks) costs each call and is not used.
        """
        client = self.http
        lean = self._lean
        assert lean is not None
        request = httpx2.Request(
            method,
            lean.base + url,
            params=query,
            headers=[*lean.headers, (b"Accept", accept.encode())],
            json=body,
            extensions=lean.extensions,
        )
        transport_for = _transport_for(client)
        if transport_for is None:  # an httpx2 without the hook: the public path, slower
            response = await client.send(request, stream=True)
        else:
            response = await transport_for(request.url).handle_async_request(request)
            response.request = request
        if _http_log.isEnabledFor(logging.INFO):
            _http_log.info(
                'HTTP Request: %s %s "%s %d %s"',
                method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response

    async def _read_capped(self, response: httpx2.Response, route: Route, path: str, session: str | None) -> bytes:
        """The body, read as it streams in and abandoned at WAHA_MCP_MAX_RESPONSE_BYTES (never buffered whole)."""
        limit = self.max_response_bytes
        try:
            check_declared(response.headers.get("content-length"), limit)
            return await read_capped(response.aiter_bytes(), limit)
        except OverLimit as over:
            raise self._answer_too_large(route, path, session, response.status_code, over.declared) from None

    def _answer_too_large(
        self, route: Route, path: str, session: str | None, status: int, size: int | None
    ) -> TooLarge:
        told = f"{size} bytes" if size is not None else "more"
        message = (
            f"WAHA's answer to {route.method} {path} is {told}, over the {self.max_response_bytes}-byte limit "
            "(WAHA_MCP_MAX_RESPONSE_BYTES), and was not read: ask for less (a smaller limit, a filter) "
            "or raise the setting"
        )
        if not route.read and 200 <= status < 300:
            message += "; WAHA accepted the request, so it has probably taken effect"
        return TooLarge(message, status=status, method=route.method, path=path, session=session)

    def files_path(self, url: str, session: str | None = None) -> str:
        """The path (and query) of `url` on WAHA's file server (`/api/files/...` on the configured host); else
        `NotOnFileServer`: nothing else is ever fetched with the API key (not another route of WAHA's API, not
        another host). `fetch_file` makes this check; its callers catch the error rather than check first.

        WAHA announces its file server under its own `WAHA_BASE_URL`, which may name the same server
        differently (a Docker host name): an `/api/files/...` path is therefore fetched from the
        configured host.
        """
        path = self._on_file_server(url)
        if path is None:
            shown = re.sub(r"[?#].*$", "", url.strip())[:100]  # a query may carry a token
            raise NotOnFileServer(
                f"{shown} is not on WAHA's file server ({self.base_url}{FILES_ROUTE}...): not fetched",
                url=url,
                file_server=self.base_url,
                session=session,
            )
        return path

    def _on_file_server(self, url: str) -> str | None:
        parts = urlsplit(url.strip())
        base = urlsplit(self.base_url)
        if parts.scheme and parts.scheme not in ("http", "https"):
            return None
        if parts.username or parts.password or "\\" in url:
            return None
        path = parts.path
        if not path.startswith("/") or any(seg in (".", "..") for seg in unquote(path).split("/")):
            return None
        prefix = base.path.rstrip("/")
        if not parts.netloc or (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower()):
            if prefix and parts.netloc:
                if not path.startswith(prefix + "/"):
                    return None
                path = path[len(prefix) :]
        elif FILES_ROUTE in path:
            path = path[path.index(FILES_ROUTE) :]
        else:
            return None
        if not path.startswith(FILES_ROUTE):
            return None
        return path + (f"?{parts.query}" if parts.query else "")

    async def fetch_file(self, session: str | None, url: str, *, max_bytes: int) -> Binary:
        """GET a file from WAHA's host (its file server, same API key); at most `max_bytes` are read.
        `NotOnFileServer` (nothing sent) for any other URL."""
        path = self.files_path(url, session)
        try:
            with anyio.fail_after(self._timeout):
                async with self.http.stream("GET", path, headers={"Accept": "*/*"}) as response:
                    if 300 <= response.status_code < 400:
                        raise self._redirected(response.status_code, response.headers, "GET", path, session)
                    if response.status_code >= 400:
                        raw = await response.aread()
                        raise from_response(
                            response.status_code,
                            raw,
                            response.reason_phrase,
                            method="GET",
                            path=path,
                            session=session,
                            keyed=bool(self._api_key),
                        )
                    try:
                        check_declared(response.headers.get("content-length"), max_bytes)
                        data = await read_capped(response.aiter_bytes(), max_bytes)
                    except OverLimit as over:
                        raise self._too_large(path, session, max_bytes, over.declared) from None
                    ctype = response.headers.get("content-type", "application/octet-stream")
        except _TRANSPORT_ERRORS as exc:
            raise self._unanswered(exc, "GET", path, session) from None
        return Binary(data, ctype.split(";")[0].strip().lower() or "application/octet-stream")

    def _too_large(self, path: str, session: str | None, limit: int, size: int | None) -> TooLarge:
        told = f"{size} bytes" if size is not None else "more"
        message = f"the file is {told}, over the WAHA_MCP_MAX_MEDIA_BYTES limit of {limit} bytes"
        return TooLarge(message, method="GET", path=path, session=session)

    def _redirected(
        self, status: int, headers: Mapping[str, str], method: str, path: str, session: str | None
    ) -> WAHAError:
        location = headers.get("location", "")
        return from_redirect(status, location, base_url=self.base_url, method=method, path=path, session=session)

    def _unanswered(
        self, exc: Exception, method: str, path: str, session: str | None, *, write: bool = False
    ) -> WAHAError:
        return from_transport(
            exc, base_url=self.base_url, timeout=self._timeout, method=method, path=path, session=session, write=write
        )

    def _result(self, route: Route, path: str, session: str | None, answer: Answer) -> Any:
        status, raw = answer.status, answer.body
        where = {"status": status, "method": route.method, "path": path, "session": session}
        if status >= 400:
            error = from_response(
                status, raw, answer.reason, method=route.method, path=path, session=session, keyed=bool(self._api_key)
            )
            error.operation = route.operation_id
            if isinstance(error, EndpointMissing) and status == 404:
                self.missing_operations.add(route.operation_id)
            raise error
        if status >= 300:
            raise self._redirected(status, answer.headers, route.method, path, session)
        if not raw.strip():
            if route.send:
                # WAHA answered 2xx to a send but said nothing about the message: it may have gone out.
                raise BadResponse(f"with {EMPTY_BODY}", problem=EMPTY_BODY, accepted=True, **where)
            if route.empty_ok:
                return None
            raise BadResponse(f"with {EMPTY_BODY} where data was expected", problem=EMPTY_BODY, accepted=False, **where)
        ctype = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and "json" not in ctype and not ctype.startswith("text/"):
            return Binary(raw, ctype)
        try:
            return jsonfast.loads(raw)
        except ValueError:
            if ctype.startswith("text/"):
                return raw.decode("utf-8", "replace")
            log.warning("non-JSON 2xx body from %s %s", route.method, path)
            # A write that got a 2xx was done: the caller must not present it as a failure to repeat.
            raise BadResponse(
                f"with {NOT_JSON} where data was expected", problem=NOT_JSON, accepted=not route.read, **where
            ) from None


@dataclass(frozen=True, slots=True)
class _Lean:
    """What each request takes from the pooled client, computed once: the base URL, default headers, timeouts."""

    base: str
    headers: list[tuple[bytes, bytes]]  # as the client would send them (names in their own case), less Accept
    extensions: dict[str, Any]

    def __init__(self, client: httpx2.AsyncClient) -> None:
        object.__setattr__(self, "base", str(client.base_url).rstrip("/"))
        object.__setattr__(self, "headers", [(k, v) for k, v in client.headers.raw if k.lower() != b"accept"])
        object.__setattr__(self, "extensions", {"timeout": client.timeout.as_dict()})


def _basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _transport_for(client: httpx2.AsyncClient) -> Callable[[httpx2.URL], httpx2.AsyncBaseTransport] | None:
    """The transport httpx2 picks for a URL (proxy mounts included). httpx2 has no public way to reach it, so
    this is the one place that uses its private `_transport_for_url`; a test fails when httpx2 drops it, and
    until then a client without it falls back to `send`."""
    return getattr(client, "_transport_for_url", None)


def _route(operation_id: str) -> Route:
    """The route of `operation_id`; the table is filled on first use so importing costs nothing."""
    if not _ROUTES:
        _ROUTES.update(routes())
        if operation_id in _ROUTES:
            return _ROUTES[operation_id]
    raise TypeError(f"{operation_id!r} is not an operation of the WAHA OpenAPI document")


# The hot-path lookup table (a plain dict: no cache wrapper per call).
_ROUTES: dict[str, Route] = {}


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset values and spell booleans the way WAHA's query parser expects."""
    if not params:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            if value:
                out[key] = [str(v).lower() if isinstance(v, bool) else v for v in value]
        else:
            out[key] = value
    return out or None
