"""Replicas on one PostgreSQL (issue 19's figures): real `waha-mcp serve --http --stateless` processes, each phase
on a fresh PostgreSQL schema, every comparison measured in the same run.

    python bench/replicas.py --pg postgresql://... [--calls 3000] [--inflight 32] [--latency-ms 20]
                             [--burst 10000] [--rounds 50] [--only cpu,burst,latency,kill]

1. cpu: `tools/call waha_get_chats` over stateless Streamable HTTP against bench/fake_waha.py answering after
   `--latency-ms`, `--inflight` calls in flight from one raw client: one replica on SQLite, one on PostgreSQL,
   two on PostgreSQL (the client's connections alternate between them). Server CPU per call summed over the
   replicas (/proc schedstat), calls/s, and the client's own CPU per call. WAHA_MCP_EVENTS=off: the call path
   only (the store's follower still listens).
2. burst: `--burst` signed webhook deliveries split across two replicas (16 keep-alive connections each), then
   the same on one replica: events/s, and the rows in PostgreSQL (each id once, none missing).
3. latency: one inbound message injected in the standalone sandbox (`waha-mcp sandbox`, a real socket) per
   round; replica A consumes its /ws, replica B consumes nothing; a `subscriptions/listen` client on each:
   the delay to `resources/updated` on B (through the store) beside A's (its own ingest).
4. kill: both replicas consume the sandbox's /ws; inbound messages every 10 ms; `kill -9` of one after a third
   of them. Every event the sandbox emitted is looked up in PostgreSQL (lost, stored twice), and each event's
   delay (stored `received` minus the sandbox's `timestamp`) after the kill.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import asyncpg
import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import PROTOCOL, ServerError, child_env, cpu_seconds, free_port, machine, waha_mcp_cmd
from events_ingest import KEY, bodies, pct, request
from hot_path import TOOL, _client_cpu, fake_waha, serve_args

Replica = tuple[subprocess.Popen[bytes], str]
STATE_KEY = "bench-replicas-state-key-0123456789abcdef"
CHAT = "4915777000111@c.us"
COUNT_BURST = "SELECT count(*), count(DISTINCT id) FROM inbox_events WHERE id LIKE 'evt_burst%'"
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": PROTOCOL,
}


@contextlib.asynccontextmanager
async def schema(base: str) -> AsyncIterator[str]:
    """A DSN on a fresh, empty schema, dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    db = await asyncpg.connect(base)
    try:
        await db.execute(f"CREATE SCHEMA {name}")
        query = urlsplit(base).query
        yield f"{base}{'&' if query else '?'}{urlencode({'search_path': name})}"
    finally:
        await db.execute(f"DROP SCHEMA {name} CASCADE")
        await db.close()


async def fetch(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    db = await asyncpg.connect(dsn)
    try:
        return list(await db.fetch(sql, *args))
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def replicas(envs: list[dict[str, str]], argv: list[str]) -> AsyncIterator[list[Replica]]:
    """`waha-mcp <argv> --http --stateless` once per env, each on its own port; yields (process, base URL) once
    every /healthz answers 200."""
    started = []
    for env in envs:
        port = free_port()
        cmd = [*waha_mcp_cmd(), *argv, "--http", "--stateless", "--host", "127.0.0.1", "--port", str(port)]
        full = child_env() | {"WAHA_MCP_STATE_KEY": STATE_KEY, "WAHA_MCP_HTTP_MAX_CONNECTIONS": "1000"} | env
        proc = subprocess.Popen(cmd, env=full, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        started.append((proc, f"http://127.0.0.1:{port}"))
    try:
        async with httpx2.AsyncClient(timeout=5) as probe:
            for proc, base in started:
                deadline = time.monotonic() + 60
                while True:
                    with contextlib.suppress(httpx2.HTTPError):
                        if (await probe.get(base + "/healthz")).status_code == 200:
                            break
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise ServerError(f"{base} did not start (exit {proc.poll()})")
                    await asyncio.sleep(0.05)
        yield started
    finally:
        for proc, _ in started:
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# --- 1. CPU per call -----------------------------------------------------------------------------------------


async def call_load(endpoints: list[str], pids: list[int], calls: int, inflight: int) -> dict[str, float]:
    """`calls` tool calls, `inflight` at once, worker i on endpoint i % len; after a warm-up of each."""
    limits = httpx2.Limits(max_connections=inflight, max_keepalive_connections=inflight)
    async with httpx2.AsyncClient(limits=limits, timeout=30) as client:
        init = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
        for endpoint in endpoints:
            first = await client.post(
                endpoint, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}, headers=HEADERS
            )
            first.raise_for_status()
        params = {"name": TOOL, "arguments": {}}
        counter = iter(range(1, 10**9))

        async def one(endpoint: str) -> None:
            message = {"jsonrpc": "2.0", "id": next(counter), "method": "tools/call", "params": params}
            response = await client.post(endpoint, json=message, headers=HEADERS)
            if response.status_code != 200 or b'"isError":true' in response.content:
                raise ServerError(f"HTTP {response.status_code}: {response.content[:300]!r}")

        async def batch(count: int) -> float:
            remaining = iter(range(count))

            async def worker(endpoint: str) -> None:
                for _ in remaining:
                    await one(endpoint)

            start = time.perf_counter()
            async with asyncio.TaskGroup() as group:
                for i in range(inflight):
                    group.create_task(worker(endpoints[i % len(endpoints)]))
            return time.perf_counter() - start

        await batch(min(300, calls // 5))
        client_start, server_start = _client_cpu(), sum(cpu_seconds(pid) for pid in pids)
        elapsed = await batch(calls)
        client_cpu = _client_cpu() - client_start
        server_cpu = sum(cpu_seconds(pid) for pid in pids) - server_start
    per_call = {"server_cpu_ms": server_cpu / calls * 1000, "client_cpu_ms": client_cpu / calls * 1000}
    return {"per_s": calls / elapsed} | per_call


async def cpu_phase(pg: str, calls: int, inflight: int, latency_ms: float) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with fake_waha(latency_ms) as waha:
        tmp = Path(tempfile.mkdtemp(prefix="waha-replicas-bench-"))
        for label, count, backend in (("one, SQLite", 1, "sqlite"), ("one, PostgreSQL", 1, "pg"),
                                      ("two, PostgreSQL", 2, "pg")):  # fmt: skip
            async with contextlib.AsyncExitStack() as stack:
                sqlite = str(tmp / f"{count}.sqlite3")
                store = sqlite if backend == "sqlite" else await stack.enter_async_context(schema(pg))
                env = {"WAHA_MCP_STORE": store, "WAHA_MCP_EVENTS": "off"}
                started = await stack.enter_async_context(replicas([env] * count, serve_args(waha)))
                endpoints = [f"{base}/mcp" for _, base in started]
                out[label] = await call_load(endpoints, [p.pid for p, _ in started], calls, inflight)
    return out


# --- 2. webhook burst ----------------------------------------------------------------------------------------


async def deliver(targets: list[tuple[int, list[bytes]]], per_target: int) -> tuple[float, int]:
    """Each target port gets its requests over `per_target` keep-alive connections; (seconds, 200s)."""
    ok = 0

    async def worker(port: int, queue: list[bytes]) -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            writer.write(queue.pop())
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            ok += status.split()[1] == b"200"
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(port, queue) for port, queue in targets for _ in range(per_target)))
    return time.perf_counter() - started, ok


async def burst_phase(pg: str, burst: int, concurrency: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with fake_waha(0) as waha:
        for label, count in (("two replicas", 2), ("one replica", 1)):
            async with schema(pg) as dsn:
                env = {"WAHA_MCP_STORE": dsn, "WAHA_MCP_EVENTS": "webhook", "WAHA_MCP_WEBHOOK_HMAC_KEY": KEY}
                async with replicas([env] * count, serve_args(waha)) as started:
                    ports = [int(base.rsplit(":", 1)[1]) for _, base in started]
                    for port in ports:  # warm each replica's ingest path
                        await deliver([(port, [request(port, bodies(f"warm{port}", 1)[0])])], 1)
                    raw = bodies("burst", burst)
                    split = [(port, [request(port, b) for b in raw[i :: len(ports)]][::-1])
                             for i, port in enumerate(ports)]  # fmt: skip
                    cpu = sum(cpu_seconds(p.pid) for p, _ in started)
                    seconds, ok = await deliver(split, concurrency // len(ports))
                    cpu = sum(cpu_seconds(p.pid) for p, _ in started) - cpu
                    rows = await fetch(dsn, COUNT_BURST)
                    stored, distinct = rows[0][0], rows[0][1]
            out[label] = {"per_s": burst / seconds, "acked": ok, "stored": stored, "distinct": distinct,
                          "lost": burst - distinct, "cpu_us": cpu / burst * 1e6}  # fmt: skip
    return out


# --- 3 and 4: the standalone sandbox --------------------------------------------------------------------------


@contextlib.contextmanager
def sandbox() -> Iterator[str]:
    port = free_port()
    cmd = [*waha_mcp_cmd(), "sandbox", "--port", str(port), "--sessions", "1"]
    quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen(cmd, env=child_env(), cwd="/", **quiet)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"{url}/ping").status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ServerError("the sandbox did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def inbound(http: httpx2.AsyncClient, waha: str, text: str) -> None:
    answer = await http.post(f"{waha}/__sandbox/default/inbound", json={"chatId": CHAT, "text": text})
    if answer.status_code != 201:
        raise ServerError(answer.text)


async def latency_phase(pg: str, rounds: int) -> dict[str, list[float]]:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    uri = f"waha://chats/{CHAT}/messages?session=default"
    delays: dict[str, list[float]] = {"ingesting replica": [], "other replica": []}
    with sandbox() as waha:
        async with schema(pg) as dsn:
            base = {"WAHA_MCP_STORE": dsn, "WAHA_SESSION": "default", "WAHA_TOOLSETS": "all"}
            envs = [base | {"WAHA_MCP_EVENTS": "ws"}, base | {"WAHA_MCP_EVENTS": "webhook"}]  # B: nothing of its own
            async with replicas(envs, ["serve", "--base-url", waha]) as started, httpx2.AsyncClient(timeout=30) as http:
                (_, a), (_, b) = started
                async with contextlib.AsyncExitStack() as stack:
                    subs = []
                    for url in (a, b):
                        client = await stack.enter_async_context(
                            Client(streamable_http_client(f"{url}/mcp", http_client=http))
                        )
                        subs.append(await stack.enter_async_context(client.listen(resource_subscriptions=[uri])))

                    async def first_update(sub: Any) -> float:
                        async for event in sub:
                            if str(getattr(event, "uri", "")) == uri:
                                return time.perf_counter()
                        raise ServerError("the listen stream ended")

                    for n in range(5):  # until A's /ws consumer hears the sandbox
                        waiting = [asyncio.ensure_future(first_update(s)) for s in subs]
                        await inbound(http, waha, f"warm {n}")
                        done, _ = await asyncio.wait(waiting, timeout=5)
                        for task in waiting:
                            task.cancel()
                        if len(done) == 2:
                            break
                    for n in range(rounds):
                        waiting = [asyncio.ensure_future(first_update(s)) for s in subs]
                        await asyncio.sleep(0.01)
                        t0 = time.perf_counter()
                        await inbound(http, waha, f"round {n}")
                        at = await asyncio.wait_for(asyncio.gather(*waiting), 10)
                        delays["ingesting replica"].append(at[0] - t0)
                        delays["other replica"].append(at[1] - t0)
    return delays


async def kill_phase(pg: str, seconds: float, every_ms: float) -> dict[str, float]:
    with sandbox() as waha:
        async with schema(pg) as dsn:
            env = {"WAHA_MCP_STORE": dsn, "WAHA_SESSION": "default", "WAHA_MCP_EVENTS": "ws"}
            two = replicas([env, env], ["serve", "--base-url", waha])
            async with two as started, httpx2.AsyncClient(timeout=30) as http:
                await asyncio.sleep(2.0)  # both /ws consumers connected
                before = (await http.get(f"{waha}/__sandbox/events")).json()
                after_id = before[-1]["id"] if before else ""
                total = int(seconds * 1000 / every_ms)
                killed_at = 0.0
                for n in range(total):
                    if n == total // 3:
                        os.kill(started[0][0].pid, signal.SIGKILL)
                        killed_at = time.time() * 1000
                    await inbound(http, waha, f"flow {n}")
                    await asyncio.sleep(every_ms / 1000)
                await asyncio.sleep(3.0)
                emitted = [e for e in (await http.get(f"{waha}/__sandbox/events")).json() if e["id"] > after_id]
            rows = await fetch(dsn, "SELECT id, received, event, message_id FROM inbox_events")  # outlives both
    received = {r["id"]: r["received"] for r in rows}
    ids = [r["id"] for r in rows]
    keys = [(r["event"], r["message_id"]) for r in rows if r["message_id"]]
    after = [e for e in emitted if e["timestamp"] >= killed_at]
    delays = [received[e["id"]] - e["timestamp"] for e in after if e["id"] in received]
    return {
        "emitted": len(emitted),
        "lost": sum(1 for e in emitted if e["id"] not in received),
        # One message stored under two ids (the same event and message id twice) would be a duplicate.
        "twice": len(keys) - len(set(keys)),
        "gaps": sum(1 for i in ids if i.startswith("gap_")),
        "first_after_kill_ms": min((received[e["id"]] - killed_at for e in after if e["id"] in received), default=-1),
        "max_delay_after_kill_ms": max(delays, default=-1),
        "p50_delay_after_kill_ms": sorted(delays)[len(delays) // 2] if delays else -1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("WAHA_MCP_TEST_PG"), help="PostgreSQL DSN (a schema a phase)")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--inflight", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--only", default="cpu,burst,latency,kill")
    args = parser.parse_args()
    if not args.pg:
        parser.error("--pg (or WAHA_MCP_TEST_PG) is required: start one with bash .ci/postgres.sh start")
    phases = set(args.only.split(","))
    info = machine()
    print(f"waha-mcp replicas {info['date']}, commit {info['commit']}; nproc {info['nproc']} ({info['cpu']}), "
          f"Python {info['python']}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    if "cpu" in phases:
        cpu = asyncio.run(cpu_phase(args.pg, args.calls, args.inflight, args.latency_ms))
        print(f"CPU per call: {TOOL}, stateless HTTP, {args.calls} calls, {args.inflight} in flight, "
              f"WAHA latency {args.latency_ms:g} ms")  # fmt: skip
        for label, row in cpu.items():
            print(f"  {label:16} {row['per_s']:7.0f} calls/s  server CPU {row['server_cpu_ms']:.3f} ms/call "
                  f"(summed)  client CPU {row['client_cpu_ms']:.3f} ms/call")  # fmt: skip
        one, two, lite = cpu["one, PostgreSQL"], cpu["two, PostgreSQL"], cpu["one, SQLite"]
        print(f"  two/one replicas (PostgreSQL): server CPU {two['server_cpu_ms'] / one['server_cpu_ms']:.2f}x "
              f"(target ≤ 1.10), calls/s {two['per_s'] / one['per_s']:.2f}x; PostgreSQL/SQLite (one replica): "
              f"server CPU {one['server_cpu_ms'] / lite['server_cpu_ms']:.2f}x (target ≤ 1.10)")  # fmt: skip
    if "burst" in phases:
        burst = asyncio.run(burst_phase(args.pg, args.burst, args.inflight))
        print(f"Signed webhook burst: {args.burst} events, {args.inflight} connections split over the replicas")
        for label, row in burst.items():
            print(f"  {label:13} {row['per_s']:7.0f} events/s  acked {row['acked']}, rows {row['stored']}, "
                  f"distinct {row['distinct']}, lost {row['lost']}; "
                  f"server CPU {row['cpu_us']:.0f} µs/event")  # fmt: skip
    if "latency" in phases:
        delays = asyncio.run(latency_phase(args.pg, args.rounds))
        print(f"Inbound (sandbox control endpoint) → resources/updated, {args.rounds} rounds")
        for label, values in delays.items():
            print(f"  {label:18} p50 {pct(values, 50):.1f} ms, p90 {pct(values, 90):.1f} ms, "
                  f"max {max(values) * 1000:.1f} ms")  # fmt: skip
    if "kill" in phases:
        k = asyncio.run(kill_phase(args.pg, 6.0, 10.0))
        print(f"kill -9 of one of two /ws consumers mid-stream: {k['emitted']} events emitted, lost {k['lost']}, "
              f"stored twice {k['twice']}, gap markers {k['gaps']}; after the kill the first event stored "
              f"{k['first_after_kill_ms']:.0f} ms later, each event's delay p50 {k['p50_delay_after_kill_ms']:.0f} ms, "
              f"max {k['max_delay_after_kill_ms']:.0f} ms (target: flowing within 5 s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
