"""The one capped read (waha_mcp.capped_read) that WAHA's answers, its files and webhook requests go through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from waha_mcp.capped_read import OverLimit, check_declared, read_capped


async def test_reads_up_to_the_limit_and_stops_at_the_first_chunk_over_it() -> None:
    pulled: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(10):
            pulled.append(n)
            yield b"x" * 4

    assert await read_capped(chunks(), 40) == b"x" * 40
    pulled.clear()
    with pytest.raises(OverLimit) as caught:
        await read_capped(chunks(), 10)
    assert caught.value.declared is None
    assert pulled == [0, 1, 2]  # the fourth chunk and after are never asked for


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    check_declared(b"10", 10)
    check_declared(None, 10)
    check_declared("chunked?", 10)
    with pytest.raises(OverLimit) as caught:
        check_declared("11", 10)
    assert caught.value.declared == 11
