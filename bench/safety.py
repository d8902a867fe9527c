"""Bulk, pacing and audit figures (issue 12), in process: an SDK client over memory, the sandbox over its
ASGI transport with a latency fault on every WAHA request, a real SQLite store file.

    python bench/safety.py            # all four figures
    python bench/safety.py --sessions 100 --latency 0.05 --callers 32

1. `waha_for_sessions` sending a text from 100 working sessions (50 ms per WAHA request, pacing off), end to end.
2. The same for a read (`waha_get_chats`).
3. Pacing on (safe values, time scaled): 32 concurrent callers send from 8 sessions; from the sandbox's request
   log, the most sends any session had in any rolling (scaled) minute vs its cap, and the shortest gap between
   two sends to one chat vs `chatGap`.
4. The audit log's cost per write: the two store writes (start, finish) timed alone, and a send's median
   with and without the audit step, interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import Client

from waha_mcp.config import load_settings
from waha_mcp.safety import audit
from waha_mcp.safety.guards import audit as audit_step
from waha_mcp.safety.pacing import parse_pacing
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.app import RecordedRequest
from waha_mcp.server import build_server
from waha_mcp.store import Store
from waha_mcp.tools import pipeline

PERSON = "4915112345678@c.us"


def settings(store: Path, pacing: str = "off") -> Any:
    return load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_TOOLSETS="all", WAHA_MCP_STORE=str(store), WAHA_MCP_PACING=pacing
    )


async def bulk(sessions: int, latency: float, tmp: Path, runs: int = 5) -> dict[str, Any]:
    sandbox = Sandbox(sessions=sessions)
    sandbox.faults.add(None, kind="latency", delay=latency)
    server = build_server(settings(tmp / "bulk.sqlite3"), transport=sandbox_transport(sandbox))
    out: dict[str, Any] = {"sessions": sessions, "latencyMs": latency * 1000}
    async with Client(server) as client:
        for name, call in {
            "send": {
                "tool": "waha_send_message",
                "arguments": {"chatId": PERSON, "text": "hello"},
                "confirm": True,
            },
            "read": {"tool": "waha_get_chats", "arguments": {"limit": 5}},
        }.items():
            times, cpu = [], []
            for _ in range(runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                result = await client.call_tool("waha_for_sessions", call | {"sessions": "working"})
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                counts = json.loads(result.content[-1].text)["counts"]  # type: ignore[union-attr]
                assert not result.is_error and counts == {"ok": sessions}, counts
            out[name] = {
                "medianS": round(statistics.median(times), 3),
                "minS": round(min(times), 3),
                "maxS": round(max(times), 3),
                # CPU of this process (server and the in-process sandbox together): on a busy machine the wall
                # time is mostly waiting for a core.
                "cpuMedianS": round(statistics.median(cpu), 3),
                "runs": runs,
            }
    out["sequentialS"] = round(sessions * latency, 2)
    server.close()
    return out


async def pacing(
    callers: int, sessions: int, seconds: float, scale: float, tmp: Path, slack: float = 0.02
) -> dict[str, Any]:
    spec = f"scale={scale}"
    rules = parse_pacing(spec)
    assert rules is not None
    sandbox = Sandbox(sessions=sessions)
    arrivals: list[tuple[str, str, float]] = []

    def hook(request: RecordedRequest) -> None:
        if request.path == "/api/sendText" and isinstance(request.json, dict):
            arrivals.append((request.json["session"], request.json["chatId"], time.monotonic()))

    sandbox.on_request.append(hook)
    server = build_server(settings(tmp / "pacing.sqlite3", spec), transport=sandbox_transport(sandbox))
    names = list(sandbox.sessions)
    chats = [f"49151000000{n:02d}@c.us" for n in range(6)]
    outcomes = {"sent": 0, "refused (retry later)": 0, "other error": 0}
    deadline = time.monotonic() + seconds
    async with Client(server) as client:

        async def caller(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                args = {"session": rng.choice(names), "chatId": rng.choice(chats), "text": "hi"}
                result = await client.call_tool("waha_send_message", args)
                text = result.content[-1].text if result.content else ""  # type: ignore[union-attr]
                key = (
                    "sent"
                    if not result.is_error
                    else "refused (retry later)"
                    if "retry after" in text
                    else "other error"
                )
                outcomes[key] += 1
                if result.is_error:
                    await asyncio.sleep(rules.seconds(5))

        await asyncio.gather(*(caller(n) for n in range(callers)))
    server.close()
    window, worst, trimmed, gaps = rules.seconds(60), {}, {}, []
    for name in names:
        times = sorted(t for s, _, t in arrivals if s == name)
        worst[name] = max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)
        # The same, with each window shortened by `slack`: a send's trip from the pacer to WAHA's log varies.
        trimmed[name] = max((sum(1 for u in times if t <= u < t + window - slack) for t in times), default=0)
    for name in names:
        for chat in chats:
            times = sorted(t for s, c, t in arrivals if s == name and c == chat)
            gaps += [b - a for a, b in itertools.pairwise(times)]
    return {
        "callers": callers,
        "sessions": sessions,
        "scale": scale,
        "secondsRun": seconds,
        "scaledMinutes": round(seconds / window, 1),
        "cap": rules.cap,
        "perMinute": rules.perMinute,
        "maxInAnyMinute": max(worst.values()),
        "maxInAnyMinuteLessSlack": max(trimmed.values()),
        "slackS": slack,
        "perSessionMax": worst,
        "chatGapS": rules.seconds(rules.chatGap),
        "shortestChatGapS": round(min(gaps), 4) if gaps else None,
        "calls": outcomes,
        "sendsPerSessionPerScaledMinute": round(len(arrivals) / sessions / (seconds / window), 1),
    }


async def audit_cost(tmp: Path, writes: int = 400) -> dict[str, Any]:
    store = Store(tmp / "audit.sqlite3")
    entry = audit.Entry("default", "waha_send_message", PERSON, '{"chatId":"x","text":"hi"}', None)
    await audit.start(store, entry)  # schema, warm
    pairs = []
    for _ in range(writes):
        started = time.perf_counter()
        row = await audit.start(store, entry)
        audit.finish(store, row, "ok", None, "true_x_ABC")  # queued, as the guard does
        pairs.append(time.perf_counter() - started)
    await store.write(lambda db: None)  # the last queued outcome, before closing
    store.close()

    sandbox = Sandbox(sessions=1)
    server = build_server(settings(tmp / "ab.sqlite3"), transport=sandbox_transport(sandbox))
    with_audit, without, cpu_with, cpu_without = [], [], [], []
    full = list(pipeline.STEPS)
    bare = [step for step in full if step is not audit_step]
    async with Client(server) as client:
        args = {"session": "default", "chatId": PERSON, "text": "hi"}
        await client.call_tool("waha_send_message", args)
        for n in range(writes):
            order = ((full, with_audit, cpu_with), (bare, without, cpu_without))
            for steps, into, cpu in order if n % 2 else order[::-1]:
                pipeline.STEPS[:] = steps
                started, cpu_started = time.perf_counter(), time.process_time()
                await client.call_tool("waha_send_message", args)
                into.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
    pipeline.STEPS[:] = full
    server.close()
    ms = 1000
    return {
        "writes": writes,
        "storeStartFinishMedianMs": round(statistics.median(pairs) * ms, 3),
        "storeStartFinishP90Ms": round(statistics.quantiles(pairs, n=10)[-1] * ms, 3),
        "sendMedianWithAuditMs": round(statistics.median(with_audit) * ms, 3),
        "sendMedianWithoutAuditMs": round(statistics.median(without) * ms, 3),
        "addedMedianMs": round((statistics.median(with_audit) - statistics.median(without)) * ms, 3),
        # CPU time of the process (all threads, the store's writer included) per send, with and without.
        "sendCpuMedianWithAuditMs": round(statistics.median(cpu_with) * ms, 3),
        "sendCpuMedianWithoutAuditMs": round(statistics.median(cpu_without) * ms, 3),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--pacing-seconds", type=float, default=15.0)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--only", choices=["bulk", "pacing", "audit"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, Any] = {"python": sys.version.split()[0]}
        if args.only in (None, "bulk"):
            results["bulk"] = await bulk(args.sessions, args.latency, Path(tmp))
        if args.only in (None, "pacing"):
            results["pacing"] = await pacing(args.callers, 8, args.pacing_seconds, args.scale, Path(tmp))
        if args.only in (None, "audit"):
            results["audit"] = await audit_cost(Path(tmp))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
