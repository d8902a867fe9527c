"""What the version gate adds to a WAHA call: `WAHAClient.call` (which refuses, unsent, a route the connected WAHA
is too old for) against the ungated `HTTPCore.call` it wraps, on a canned answer (httpx2.MockTransport), in
process, interleaved call by call.

python bench/version_gate.py [--iterations 3000] [--warmup 300]

Rows: an operation of the vendored document (no `since`: one dict lookup), and one of the supplement
(`SessionsController_getMessageCapping`, since 2026.8.1, on a WAHA that said it is 2026.9.1: the cached version
compared too).
"""

from __future__ import annotations

import argparse
import json
import time

import anyio
import httpx2
from _harness import median

from waha_mcp.client import WAHAClient
from waha_mcp.client._http import HTTPCore

VERSION = {"version": "2026.9.1", "engine": "NOWEB", "tier": "PLUS"}
CAPPING = {"cappingStatus": "NONE", "totalQuota": -1, "usedQuota": 0, "cycleStart": None, "cycleEnd": None}


def answer(request: httpx2.Request) -> httpx2.Response:
    path = request.url.path
    body = VERSION if path == "/api/server/version" else CAPPING if path.endswith("/capping") else {"name": "default"}
    return httpx2.Response(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


async def main(iterations: int, warmup: int) -> None:
    client = WAHAClient("http://waha", transport=httpx2.MockTransport(answer))
    await client.server_version()
    rows = {
        "SessionsController_get": ("vendored operation", []),
        "SessionsController_getMessageCapping": ("supplement operation", []),
    }
    timings: dict[tuple[str, str], list[float]] = {(op, kind): [] for op in rows for kind in ("gated", "ungated")}
    for i in range(warmup + iterations):
        for op in rows:
            for kind, call in (("ungated", HTTPCore.call), ("gated", WAHAClient.call)):
                start = time.perf_counter()
                await call(client, op, "default")
                if i >= warmup:
                    timings[(op, kind)].append((time.perf_counter() - start) * 1e6)
    await client.aclose()
    print(f"{iterations} calls each, median µs per call (canned answer, in process)")
    for op, (label, _) in rows.items():
        ungated, gated = median(timings[(op, "ungated")]), median(timings[(op, "gated")])
        print(f"  {label:22} ungated {ungated:8.1f}   gated {gated:8.1f}   added {gated - ungated:6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    args = parser.parse_args()
    anyio.run(main, args.iterations, args.warmup)
