"""The one capped read of a streamed body (WAHA's answers, files from its file server, webhook requests): never
more than the limit is held, whatever the sender declared or sends."""

from __future__ import annotations

from collections.abc import AsyncIterable


class OverLimit(Exception):
    """The body is over the limit; `declared` is its size when a Content-Length said so (else unknown)."""

    def __init__(self, declared: int | None = None) -> None:
        super().__init__(f"over the limit ({declared} bytes)" if declared is not None else "over the limit")
        self.declared = declared


def check_declared(content_length: str | bytes | None, limit: int) -> None:
    """OverLimit before any byte is read when a Content-Length already says the body is too large."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise OverLimit(int(content_length))


async def read_capped(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """The chunks joined; OverLimit as soon as they add up to more than `limit` (the rest is never read)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise OverLimit()
        parts.append(chunk)
    return b"".join(parts)
