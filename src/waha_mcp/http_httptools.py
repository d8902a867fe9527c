"""uvicorn's httptools protocol (a C parser: about twice the requests per CPU-second of h11, which webhook
ingest needs) with the same request-head limits as the h11 one in http_limits.py: a deadline for a complete head,
and a size cap. Imported only when httptools is installed (a dependency; h11 where it is missing)."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from waha_mcp.http_limits import MAX_HEAD_BYTES, HeadDeadline

TOO_LARGE = "Request head too large"


class HeadTooLarge(Exception):
    """Raised from a parser callback; httptools turns it into its parser error, which uvicorn answers 400."""


class HeadLimitsHttpToolsProtocol(HeadDeadline, HttpToolsProtocol):
    """With the head deadline (HeadDeadline); a head over MAX_HEAD_BYTES is answered 400."""

    _in_head = True  # no request head is complete since the last message ended
    _head_bytes = 0  # bytes received while in a head (all of them are head bytes while it is incomplete)
    _head_size = 0  # request line and headers parsed so far, for a whole big head arriving in one read

    def _awaiting_head(self) -> bool:
        return self._in_head

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self.send_400_response(TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        self._grow(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._grow(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        super().on_message_complete()

    def _grow(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD_BYTES:
            raise HeadTooLarge(TOO_LARGE)
