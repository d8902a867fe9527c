"""The limits every HTTP listener here is served with (the Streamable HTTP transport and the stdio-mode webhook
listener alike): a deadline for a complete request head, a cap on its size, a cap on open connections, and uvicorn's
protocol classes that enforce the first two. The body cap is the app's (each route knows its own)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from waha_mcp.config import Settings

# A request head (request line and headers) larger than this is refused (400) before it is parsed.
MAX_HEAD_BYTES = 32 * 1024


if TYPE_CHECKING:

    class _UvicornProtocol(asyncio.Protocol):
        """What HeadDeadline needs of the uvicorn protocol it is mixed into (h11's or httptools')."""

        loop: asyncio.AbstractEventLoop
        timeout_keep_alive: int
        transport: asyncio.Transport

        def on_response_complete(self) -> None: ...

else:
    _UvicornProtocol = object


class HeadDeadline(_UvicornProtocol):
    """For uvicorn's HTTP protocols: a connection that has not sent a complete request line and headers within
    `timeout_keep_alive` seconds of opening (or of its last response) is closed, however slowly it trickles bytes.
    uvicorn alone only times out a connection that sends nothing. The protocol says when a head is awaited."""

    _head_timer: asyncio.TimerHandle | None = None

    def _awaiting_head(self) -> bool:
        raise NotImplementedError

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.timeout_keep_alive, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head() and not self.transport.is_closing():
            self.transport.close()


class HeadTimeoutProtocol(HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol with the head deadline (HeadDeadline) and a cap on the head's size."""

    _head_bytes = 0  # bytes of the awaited head received so far
    _tail = b""  # the last bytes of them, for a blank line split across two reads

    def _awaiting_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def data_received(self, data: bytes) -> None:
        # h11's own cap only covers a head still incomplete; a whole big head in one read would pass it.
        if self.conn.their_state is h11.IDLE:
            end = (self._tail + data).find(b"\r\n\r\n")
            size = self._head_bytes + (end + 4 - len(self._tail) if end >= 0 else len(data))
            if size > MAX_HEAD_BYTES:
                too_large(self.transport)
                return
            self._head_bytes = 0 if end >= 0 else size
            self._tail = b"" if end >= 0 else (self._tail + data)[-3:]
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a whole request head arrived
            self._disarm_head_timer()


def too_large(transport: asyncio.Transport) -> None:
    """400 and close, before any request was read (h11 can only answer one it parsed)."""
    message = b"Request head too large"
    head = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    transport.write(head + b"content-length: %d\r\n\r\n" % len(message) + message)
    transport.close()


def protocol_class() -> type[Any]:
    """httptools' parser when installed (a dependency), else h11; both with the same head limits."""
    try:
        from waha_mcp.http_httptools import HeadLimitsHttpToolsProtocol
    except ImportError:
        return HeadTimeoutProtocol
    return HeadLimitsHttpToolsProtocol


def server_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn options for any listener: head deadline (WAHA_MCP_HTTP_HEADER_TIMEOUT, also the keep-alive idle
    limit), head cap, connection cap (WAHA_MCP_HTTP_MAX_CONNECTIONS; more get 503). No access log: a webhook path
    may carry a secret (WAHA_MCP_WEBHOOK_SECRET)."""
    return {
        "http": protocol_class(),
        "timeout_keep_alive": settings.http_header_timeout,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "limit_concurrency": settings.http_max_connections,
        "access_log": False,
    }
