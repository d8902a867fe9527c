"""The one place that builds WAHA URLs, sends requests, retries reads and maps failures."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import anyio
import httpx2

from waha_mcp.client.errors import WAHAError, message_from_body, parse_error_body

log = logging.getLogger("waha_mcp.client")

RETRY_STATUSES = frozenset({502, 503, 504})
READ_RETRIES = 2
BACKOFF = 0.25
USER_AGENT = "waha-mcp"
EMPTY_BODY = "an empty body"
NOT_JSON = "a body that is not JSON"


@dataclass(frozen=True)
class Unreadable:
    """A 2xx answer whose body could not be used: `problem` is EMPTY_BODY or NOT_JSON."""

    method: str
    path: str
    session: str | None
    status: int
    problem: str


# The tool runtime sets a list here for each call, so it can explain a result built from such a body.
UNREADABLE: ContextVar[list[Unreadable] | None] = ContextVar("waha_unreadable", default=None)


def _note_unreadable(method: str, path: str, session: str | None, status: int, problem: str) -> None:
    seen = UNREADABLE.get()
    if seen is not None:
        seen.append(Unreadable(method, path, session, status, problem))


@dataclass(frozen=True)
class Binary:
    """A non-JSON response body (QR PNG, screenshot, converted media)."""

    data: bytes
    mimetype: str


def segment(value: str) -> str:
    """Percent-encode one path segment: chat ids carry '@', session names are user input."""
    return quote(str(value), safe="")


class HTTPCore:
    """Owns the pooled `httpx2.AsyncClient`; holds no session."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._transport = transport
        self._http: httpx2.AsyncClient | None = None

    @property
    def http(self) -> httpx2.AsyncClient:
        # Created lazily so constructing a client (and the server) costs no I/O.
        if self._http is None or self._http.is_closed:
            headers = {"User-Agent": USER_AGENT}
            if self._api_key:
                headers["X-Api-Key"] = self._api_key
            self._http = httpx2.AsyncClient(
                base_url=self.base_url,
                headers=headers,
                timeout=httpx2.Timeout(self._timeout, connect=min(10.0, self._timeout)),
                transport=self._transport,
                limits=httpx2.Limits(max_connections=32, max_keepalive_connections=16),
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def path(self, template: str, **params: str) -> str:
        return template.format(**{key: segment(value) for key, value in params.items()})

    async def request(
        self,
        method: str,
        path: str,
        *,
        session: str | None = None,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        accept: str = "application/json",
        retry: bool | None = None,
    ) -> Any:
        """Send one request; JSON (or None for an empty body), or `Binary` for non-JSON media."""
        query = _clean_params(params)
        retry = method == "GET" if retry is None else retry
        attempts = 1 + (READ_RETRIES if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                # A total deadline as well: httpx's timeouts are per read, and a slow drip never trips them.
                with anyio.fail_after(self._timeout):
                    response = await self.http.request(
                        method,
                        path,
                        params=query,
                        json=json_body,
                        headers={"Accept": accept},
                    )
            except (httpx2.TimeoutException, TimeoutError):
                raise self._error(
                    method,
                    path,
                    session,
                    "timeout",
                    f"WAHA did not answer within {self._timeout:g} s (WAHA_TIMEOUT)",
                ) from None
            except (httpx2.ConnectError, httpx2.RemoteProtocolError, httpx2.ReadError) as exc:
                if retry and not last:
                    await anyio.sleep(BACKOFF * 2**attempt)
                    continue
                raise self._connection_error(method, path, session, exc) from None
            except httpx2.HTTPError as exc:
                raise self._error(method, path, session, "protocol", f"HTTP error: {type(exc).__name__}") from None
            if response.status_code in RETRY_STATUSES and retry and not last:
                await anyio.sleep(BACKOFF * 2**attempt)
                continue
            return self._result(method, path, session, response)
        raise AssertionError("unreachable")

    def local_path(self, url: str) -> str | None:
        """The path (and query) of `url` on the configured WAHA host, or None when it points elsewhere.

        WAHA announces its file server under its own `WAHA_BASE_URL`, which may name the same server
        differently (a Docker host name): an `/api/files/...` path is therefore fetched from the
        configured host. Nothing else is ever fetched from another host.
        """
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
        elif "/api/files/" in path:
            path = path[path.index("/api/files/") :]
        else:
            return None
        return path + (f"?{parts.query}" if parts.query else "")

    async def fetch_file(self, session: str | None, url: str, *, max_bytes: int) -> Binary:
        """GET a file from WAHA's host (its file server, same API key); at most `max_bytes` are read."""
        path = self.local_path(url)
        if path is None:
            raise ValueError(f"{url!r} is not on the WAHA host {self.base_url}")
        try:
            with anyio.fail_after(self._timeout):
                async with self.http.stream("GET", path, headers={"Accept": "*/*"}) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        self._result("GET", path, session, response)
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise self._too_large(path, session, max_bytes, int(declared))
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise self._too_large(path, session, max_bytes, None)
                        chunks.append(chunk)
                    ctype = response.headers.get("content-type", "application/octet-stream")
        except (httpx2.TimeoutException, TimeoutError):
            raise self._error(
                "GET", path, session, "timeout", f"WAHA did not answer within {self._timeout:g} s (WAHA_TIMEOUT)"
            ) from None
        except (httpx2.ConnectError, httpx2.RemoteProtocolError, httpx2.ReadError) as exc:
            raise self._connection_error("GET", path, session, exc) from None
        except httpx2.HTTPError as exc:
            raise self._error("GET", path, session, "protocol", f"HTTP error: {type(exc).__name__}") from None
        return Binary(b"".join(chunks), ctype.split(";")[0].strip().lower() or "application/octet-stream")

    def _too_large(self, path: str, session: str | None, limit: int, size: int | None) -> WAHAError:
        told = f"{size} bytes" if size is not None else "more"
        message = f"the file is {told}, over the WAHA_MCP_MAX_MEDIA_BYTES limit of {limit} bytes"
        return WAHAError(message, method="GET", path=path, session=session, kind="too_large")

    def _result(self, method: str, path: str, session: str | None, response: httpx2.Response) -> Any:
        raw = response.content
        if response.status_code >= 400:
            body = parse_error_body(raw)
            reason = response.reason_phrase or "error"
            message = message_from_body(body, f"HTTP {response.status_code} {reason}")
            if response.status_code == 401:
                message = "WAHA rejected the API key (401): check WAHA_API_KEY"
            raise WAHAError(message, status=response.status_code, method=method, path=path, session=session, body=body)
        if not raw.strip():
            _note_unreadable(method, path, session, response.status_code, EMPTY_BODY)
            return None
        ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and "json" not in ctype and not ctype.startswith("text/"):
            return Binary(raw, ctype)
        try:
            return json.loads(raw)
        except ValueError:
            if ctype.startswith("text/"):
                return raw.decode("utf-8", "replace")
            # A 2xx with a garbled body still succeeded on WAHA's side; say so rather than fail the send.
            log.warning("non-JSON 2xx body from %s %s", method, path)
            _note_unreadable(method, path, session, response.status_code, NOT_JSON)
            return {"ok": True, "note": "WAHA answered 2xx with a body that is not JSON"}

    def _error(self, method: str, path: str, session: str | None, kind: str, message: str) -> WAHAError:
        return WAHAError(message, method=method, path=path, session=session, kind=kind)

    def _connection_error(self, method: str, path: str, session: str | None, exc: Exception) -> WAHAError:
        if isinstance(exc, httpx2.ConnectError):
            text = str(exc).lower()
            if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
                message = f"cannot resolve the WAHA host in {self.base_url} (DNS): check WAHA_BASE_URL"
            else:
                message = f"cannot connect to WAHA at {self.base_url}: is it running? (check WAHA_BASE_URL)"
            return self._error(method, path, session, "connect", message)
        message = f"WAHA at {self.base_url} closed the connection before answering"
        return self._error(method, path, session, "connect", message)


def _clean_params(params: dict[str, Any] | None) -> dict[str, Any] | None:
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
