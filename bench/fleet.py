"""Fleet figures (issue 20): three sandbox WAHA servers × 50 sessions at 50 ms latency, over real sockets.

    python bench/fleet.py                    # the fleet and its baseline, 5 runs each
    python bench/fleet.py --servers 3 --sessions 50 --latency-ms 50 --runs 5

The WAHA servers are `waha-mcp sandbox --sandbox-servers current:50ms,...` in a child process (each server on
its own loopback port, every WAHA route answering after the latency); the MCP server runs in this process with
`WAHA_SERVERS` set to the line that child prints, reached by an SDK client over memory, as an agent's calls are.

1. A bulk read over every session of the fleet: `waha_for_sessions` running `waha_get_chats` (limit 5) on all
   working sessions (target: 150 sessions ≤ 0.6 s).
2. `waha_list_sessions`: its time, and how many requests each server saw during one call (read from each
   sandbox's request count, `GET /__sandbox/state`): one round trip per server, the servers in parallel.

Baseline, in the same run: one server carrying as many sessions (150) at the same latency, the same calls.
Variant: the fleet again with the bulk tools' gate (`tools/bulk.py` CONCURRENCY, sessions worked on at once,
across the whole fleet) raised to 32 per server (`--per-server-gate`), to show what a gate per server would give.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _harness import ServerError, child_env, cpu_seconds, machine, stop, waha_mcp_cmd
from mcp import Client

from waha_mcp.config import load_settings
from waha_mcp.server import build_server


@contextlib.contextmanager
def sandbox_fleet(
    servers: int, sessions: int, latency_ms: float, timeout: float = 120.0
) -> Iterator[tuple[dict[str, str], int]]:
    """`waha-mcp sandbox --sandbox-servers current:50ms,...` in a child process; yields {server name: URL} and its
    pid (every server of the fleet is served by that one process, on its own port)."""
    entries = ",".join(f"current:{latency_ms:g}ms" for _ in range(servers))
    proc = subprocess.Popen(
        [*waha_mcp_cmd(), "sandbox", "--sandbox-servers", entries, "--sessions", str(sessions), "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        cwd="/",
    )
    try:
        assert proc.stdout is not None
        began = time.monotonic()
        line = proc.stdout.readline().decode().strip()  # printed once every server listens
        if not line.startswith("WAHA_SERVERS=") or time.monotonic() - began > timeout:
            raise ServerError(f"the sandbox fleet did not start (exit {proc.poll()}): {line!r}")
        yield dict(pair.split("=", 1) for pair in line.removeprefix("WAHA_SERVERS=").split(",")), proc.pid
    finally:
        stop(proc)


def requests_seen(url: str) -> int:
    """How many WAHA requests this sandbox has recorded (its control routes are not counted)."""
    with urllib.request.urlopen(f"{url}/__sandbox/state", timeout=10) as answer:
        return int(json.loads(answer.read())["requests"])


def payload(result: Any) -> Any:
    text = result.content[-1].text
    if result.is_error:
        raise RuntimeError(text)
    return json.loads(text)


def summary(times: list[float], cpu: list[float], waha_cpu: list[float]) -> dict[str, Any]:
    return {
        "medianS": round(statistics.median(times), 3),
        "minS": round(min(times), 3),
        "maxS": round(max(times), 3),
        # CPU of this process (the MCP server; the sandboxes run in their own process): on a busy machine the
        # wall time is mostly waiting for a core.
        "cpuMedianS": round(statistics.median(cpu), 3),
        # CPU of the child serving the sandboxes (every server of the fleet shares that one process).
        "sandboxCpuMedianS": round(statistics.median(waha_cpu), 3),
        "runs": len(times),
    }


class Setup:
    """One way to serve the sessions (the fleet, or one server), its MCP server and an SDK client over memory."""

    def __init__(self, name: str, urls: dict[str, str], pid: int, total: int, tmp: Path, gate: int | None) -> None:
        self.name, self.urls, self.pid, self.total, self.gate = name, urls, pid, total, gate
        settings = load_settings(
            WAHA_SERVERS=",".join(f"{server}={url}" for server, url in urls.items()),
            WAHA_TOOLSETS="all",
            WAHA_MCP_STORE=str(tmp / f"{name}.sqlite3"),
            WAHA_MCP_PACING="off",
            WAHA_MCP_EVENTS="off",
        )
        self.server = build_server(settings)
        self.client = Client(self.server)
        self.samples: dict[str, list[tuple[float, float, float]]] = {"listSessions": [], "bulkRead": []}
        self.seen: list[dict[str, int]] = []

    async def timed(self, figure: str, tool: str, arguments: dict[str, Any]) -> Any:
        from waha_mcp.tools import bulk

        default = bulk.CONCURRENCY
        bulk.CONCURRENCY = self.gate or default  # read by each bulk call as it starts
        try:
            started, cpu_started, waha_started = time.perf_counter(), time.process_time(), cpu_seconds(self.pid)
            result = payload(await self.client.call_tool(tool, arguments))
            took = time.perf_counter() - started
            self.samples[figure].append((took, time.process_time() - cpu_started, cpu_seconds(self.pid) - waha_started))
        finally:
            bulk.CONCURRENCY = default
        return result

    async def round(self) -> None:
        before = {name: requests_seen(url) for name, url in self.urls.items()}
        await self.timed("listSessions", "waha_list_sessions", {})
        self.seen.append({name: requests_seen(url) - before[name] for name, url in self.urls.items()})
        call = {"tool": "waha_get_chats", "arguments": {"limit": 5}, "sessions": "working"}
        result = await self.timed("bulkRead", "waha_for_sessions", call)
        assert result["counts"] == {"ok": self.total}, result["counts"]

    def results(self) -> dict[str, Any]:
        from waha_mcp.tools.bulk import CONCURRENCY

        out: dict[str, Any] = {"servers": len(self.urls), "sessions": self.total, "bulkGate": self.gate or CONCURRENCY}
        for figure, samples in self.samples.items():
            times, cpu, waha_cpu = (list(column) for column in zip(*samples, strict=True))
            out[figure] = summary(times, cpu, waha_cpu)
        out["listSessions"]["requestsPerServer"] = self.seen
        return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Every setup warmed, then measured round by round in turn, so load on the machine falls on all alike."""
    from waha_mcp.tools.bulk import CONCURRENCY

    total = args.servers * args.sessions
    results: dict[str, Any] = {"machine": machine(), "latencyMs": args.latency_ms, "runs": args.runs}
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        fleet, fleet_pid = stack.enter_context(sandbox_fleet(args.servers, args.sessions, args.latency_ms))
        one, one_pid = stack.enter_context(sandbox_fleet(1, total, args.latency_ms))
        setups = [Setup("fleet", fleet, fleet_pid, total, Path(tmp), None)]
        if args.per_server_gate:
            gate = CONCURRENCY * args.servers
            setups.append(Setup("fleetGatePerServer", fleet, fleet_pid, total, Path(tmp), gate))
        setups.append(Setup("oneServer", one, one_pid, total, Path(tmp), None))
        async with contextlib.AsyncExitStack() as clients:
            for setup in setups:
                await clients.enter_async_context(setup.client)
                listed = payload(await setup.client.call_tool("waha_list_sessions", {}))  # warm: connections, directory
                assert len(listed["sessions"]) == total, f"{len(listed['sessions'])} sessions listed, not {total}"
            for _ in range(args.runs):
                for setup in setups:
                    await setup.round()
        for setup in setups:
            setup.server.close()
            results[setup.name] = setup.results()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=50, help="per server")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--per-server-gate", action="store_true", help="also the fleet with the bulk gate x servers")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
