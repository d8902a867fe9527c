"""Concurrent sends through two replicas (two servers, two store instances) on one PostgreSQL: the same chat's
sends reach WAHA spaced by the chat gap, whichever replica each went through: no slot granted twice."""

from __future__ import annotations

import asyncio
import itertools

import httpx2
from mcp import Client

from tests.pg import pg_dsn
from tests.safety.test_pacing import A, arrivals, paced, send
from waha_mcp.safety.pacing import SAFE
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server

__all__ = ["pg_dsn"]
SENDS = 8
# A 300 ms gap: a slot granted twice shows as two sends together (~0 s apart), far below half the gap, while a
# loaded machine's delay of one request (tens of ms, seen in the full suite at scale 0.03) stays above it.
SCALE = 0.1


async def test_concurrent_sends_through_two_replicas_keep_the_gap(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, pg_dsn: str
) -> None:
    seen = arrivals(sandbox)
    settings = paced(pg_dsn, f"scale={SCALE},jitter=0,burst={SENDS},perMinute=1000")
    one, two = build_server(settings, transport=transport), build_server(settings, transport=transport)
    assert one.store() is not two.store()  # two store instances: two replicas' pools and locks
    async with Client(one) as first, Client(two) as second:
        await asyncio.gather(*(send(first if i % 2 else second, A) for i in range(SENDS)))
    times = sorted(t for _, t in seen())
    assert len(times) == SENDS
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= SAFE.chatGap * SCALE / 2, gaps
