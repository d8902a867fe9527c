"""What routing by session adds to a WAHA call in a fleet: `Fleet.call` over three servers (the session directory
looked up in memory) against the member `WAHAClient.call` it ends in, and against a one-server `Fleet` (which
routes nothing), on a canned answer (httpx2.MockTransport), in process, interleaved call by call.

python bench/fleet_routing.py [--iterations 3000] [--warmup 300] [--sessions 150]

The directory holds `--sessions` sessions spread over the three servers (learnt before timing, as at start).
"""

from __future__ import annotations

import argparse
import json
import time

import anyio
import httpx2
from _harness import median

from waha_mcp.client import WAHAClient
from waha_mcp.client.fleet import Fleet

SERVERS = ("a", "b", "c")


BODY = json.dumps({"name": "s1"}).encode()


def answer(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, content=BODY, headers={"content-type": "application/json"})


async def main(iterations: int, warmup: int, sessions: int) -> None:
    def client() -> WAHAClient:
        return WAHAClient("http://waha", transport=httpx2.MockTransport(answer))

    fleet = Fleet({name: client() for name in SERVERS})
    for i, name in enumerate(SERVERS):
        fleet.learn(name, [f"s{n}" for n in range(sessions) if n % len(SERVERS) == i])
    single = Fleet({"waha": client()})
    bare = client()
    target = "s1"  # on server b
    ways = {
        "WAHAClient.call (no routing)": lambda: bare.call("SessionsController_get", target),
        "Fleet.call, one server": lambda: single.call("SessionsController_get", target),
        f"Fleet.call, 3 servers, {sessions} sessions": lambda: fleet.call("SessionsController_get", target),
    }
    timings: dict[str, list[float]] = {label: [] for label in ways}
    for i in range(warmup + iterations):
        for label, call in ways.items():
            start = time.perf_counter()
            await call()
            if i >= warmup:
                timings[label].append((time.perf_counter() - start) * 1e6)
    for each in (fleet, single, bare):
        await each.aclose()
    base = median(timings["WAHAClient.call (no routing)"])
    print(f"{iterations} calls each, median µs per call (canned answer, in process)")
    for label, values in timings.items():
        print(f"  {label:40} {median(values):8.1f}   added {median(values) - base:6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=150)
    args = parser.parse_args()
    anyio.run(main, args.iterations, args.warmup, args.sessions)
