"""The WAHA leg's HTTP client alone: waha-mcp's lean client (client/wire.py) vs aiohttp (bench/aiohttp_wire.py, the
same interface and work), in this process on uvloop, against bench/fake_waha.py on loopback (issue 23).

python bench/wire_vs_aiohttp.py [--n 3000] [--rounds 5] [--inflight 1,32]

Each round runs `--n` GETs of the ~15 KB chats overview through each client in turn, one at a time and with 32 in
flight, measuring this process's CPU per request (the fake WAHA is another process) and the wall time per request.
Needs aiohttp (`pip install aiohttp`, the `bench` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any
from urllib.parse import urlencode

import uvloop
from _harness import deadline, machine
from aiohttp_wire import AiohttpWire
from hot_path import QUERY, ROUTE
from hot_path import fake_waha as fake_waha_server

from waha_mcp.client.wire import lean_wire

TARGET = f"{ROUTE}?{urlencode(QUERY)}"
LIMIT = 10 * 1024 * 1024


async def run(client: Any, n: int, inflight: int) -> tuple[float, float]:
    remaining = iter(range(n))

    async def worker() -> None:
        for _ in remaining:
            answer = await client.request("GET", TARGET, "application/json", None, LIMIT)
            if answer.status != 200 or len(answer.body) < 10_000:
                raise RuntimeError(f"{type(client).__name__}: HTTP {answer.status}, {len(answer.body)} bytes")

    cpu, wall = time.process_time(), time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(inflight):
            group.create_task(worker())
    return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6


async def measure(url: str, n: int, rounds: int, inflights: list[int]) -> dict[str, dict[int, tuple[float, float]]]:
    headers = {"User-Agent": "waha-mcp", "X-Api-Key": "bench-key"}
    clients: dict[str, Any] = {"wire.py": lean_wire(url, headers, 10.0), "aiohttp": AiohttpWire(url, headers, 10.0)}
    assert clients["wire.py"] is not None, "the lean client needs httptools and a plain-http URL"
    totals = {name: {k: [0.0, 0.0] for k in inflights} for name in clients}
    try:
        for client in clients.values():
            await run(client, min(500, n), max(inflights))  # warm-up: connections, caches
        for _ in range(rounds):
            for inflight in inflights:
                for name, client in clients.items():
                    cpu, wall = await run(client, n, inflight)
                    totals[name][inflight][0] += cpu / rounds
                    totals[name][inflight][1] += wall / rounds
    finally:
        for client in clients.values():
            await client.aclose()
    return {name: {k: (v[0], v[1]) for k, v in rows.items()} for name, rows in totals.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inflight", default="1,32")
    args = parser.parse_args()
    deadline(600)
    inflights = [int(x) for x in args.inflight.split(",")]
    info = machine()
    load = open("/proc/loadavg").read().split()[0]
    with fake_waha_server() as url:
        result = uvloop.run(measure(url, args.n, args.rounds, inflights))
    print(
        f"WAHA-leg client alone {info['date']}, commit {info['commit']}; nproc {info['nproc']} ({info['cpu']}), "
        f"Python {info['python']}, load {load}; {args.rounds} rounds × {args.n} GETs of {ROUTE} (~15 KB) each"
    )
    for inflight in inflights:
        ours, theirs = result["wire.py"][inflight], result["aiohttp"][inflight]
        print(
            f"  {inflight:2} in flight: wire.py {ours[0]:6.1f} µs CPU, {ours[1]:6.1f} µs wall per request; "
            f"aiohttp {theirs[0]:6.1f} µs CPU, {theirs[1]:6.1f} µs wall = {theirs[0] / ours[0]:.2f}× CPU, "
            f"{theirs[1] / ours[1]:.2f}× wall"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
