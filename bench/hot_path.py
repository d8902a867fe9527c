"""The hot path against an independent fake WAHA (bench/fake_waha.py) on a loopback socket, each figure beside a
bare MCPServer measured in the same run.

python bench/hot_path.py [--iterations 1000] [--warmup 100] [--calls 3000] [--inflight 32] [--latency-ms 20]
                         [--skip-http] [--off sdk-stdio,asyncio-loop,stdlib-json,lean-wire,structured]
                         [--versus aiohttp-wire] [--json FILE]

1. Overhead: `tools/call waha_get_chats {}` over stdio (→ `GET /api/default/chats/overview?limit=20&offset=0`,
   a 20-chat, ~15 KB body) vs that same GET with a keep-alive `httpx2.Client`, and a bare MCPServer's trivial
   tool, interleaved call by call (the fake answers at once). Medians; the server's and the bare server's CPU
   per call from /proc/PID/task/*/schedstat over the timed calls.
2. Throughput: `--calls` tool calls with `--inflight` in flight, the fake answering after `--latency-ms`: over
   stdio (an asyncio client that keeps the pipe full), over Streamable HTTP stateful (one MCP session, 32
   keep-alive connections) and stateless (`--stateless`); the bare MCPServer's trivial tool over stdio too.
   The client runs on the same machine: its CPU per call is printed, as it competes for the same cores.
--off runs waha-mcp through bench/variant_server.py with those speed-ups turned off (one measured at a time).
--versus VARIANT also runs waha-mcp as bench/variant_server.py VARIANT beside it in the same run: interleaved call by
call in the overhead figures, and over stdio in the throughput ones (e.g. `aiohttp-wire`: aiohttp to WAHA instead of
the lean client, issue 23).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client as http_client
import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
from _harness import (
    BENCH,
    PROTOCOL,
    ServerError,
    StdioServer,
    bare_cmd,
    child_env,
    cpu_seconds,
    deadline,
    free_port,
    machine,
    median,
    waha_mcp_cmd,
)

TOOL = "waha_get_chats"
ROUTE = "/api/default/chats/overview"
QUERY = {"limit": "20", "offset": "0"}
TARGETS = {"overhead_ms": 0.6, "cpu_ratio": 1.3, "stdio_calls_per_s": 1000}
_ID = re.compile(rb'"id":(\d+)')


@contextlib.contextmanager
def fake_waha(latency_ms: float = 0.0) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "fake_waha.py"), "--latency-ms", str(latency_ms)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise ServerError(f"the fake WAHA did not start (exit {proc.poll()})")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.terminate()
        proc.wait(5)


def serve_args(url: str) -> list[str]:
    return ["serve", "--toolsets", "all", "--base-url", url, "--session", "default"]


OFF: list[str] = []  # --off: speed-ups turned off (bench/variant_server.py)


VERSUS: list[str] = []  # --versus: a variant measured beside waha-mcp in the same run


def server_cmd() -> list[str]:
    if not OFF:
        return waha_mcp_cmd()
    return [sys.executable, str(BENCH / "variant_server.py"), ",".join(OFF)]


def versus_cmd() -> list[str]:
    return [sys.executable, str(BENCH / "variant_server.py"), ",".join(OFF + VERSUS)]


def overhead(iterations: int, warmup: int) -> dict[str, Any]:
    direct: list[float] = []
    raw: list[float] = []
    via_mcp: list[float] = []
    bare_ms: list[float] = []
    floor_ms: list[float] = []
    versus_ms: list[float] = []
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fake_waha())
        http = stack.enter_context(httpx2.Client(base_url=url, headers={"Accept": "application/json"}))
        server = stack.enter_context(StdioServer([*server_cmd(), *serve_args(url)]))
        bare = stack.enter_context(StdioServer(bare_cmd(1)))
        floor = stack.enter_context(StdioServer(bare_cmd(1, floor=True)))
        versus = stack.enter_context(StdioServer([*versus_cmd(), *serve_args(url)])) if VERSUS else None
        for each in (server, bare, floor, *([versus] if versus else [])):
            each.initialize()
            each.request("tools/list")
        params = {"name": TOOL, "arguments": {}}
        bare_params = {"name": "bare_tool_000", "arguments": {}}
        sample = server.call_tool(TOOL)
        if versus is not None and versus.call_tool(TOOL) != sample:
            raise ServerError(f"--versus {','.join(VERSUS)} answers {TOOL} differently")
        bare.call_tool("bare_tool_000")
        floor.call_tool("bare_tool_000")
        body = http.get(ROUTE, params=QUERY)
        body.raise_for_status()
        # The same GET on the standard library's keep-alive client: close to WAHA's own latency (httpx2's client
        # spends more of its own), the stricter baseline.
        plain = http_client.HTTPConnection(url.removeprefix("http://"))
        target = f"{ROUTE}?{urlencode(QUERY)}"
        for index in range(warmup + iterations):
            plain_start = time.perf_counter()
            plain.request("GET", target, headers={"Accept": "application/json"})
            answer = plain.getresponse()
            answer.read()
            plain_end = time.perf_counter()
            if answer.status != 200:
                raise ServerError(f"call {index}: the plain GET got HTTP {answer.status}")
            if index == warmup:
                cpu_start = server.cpu_seconds(), bare.cpu_seconds(), floor.cpu_seconds()
                versus_start = versus.cpu_seconds() if versus else 0.0
            start = time.perf_counter()
            response = http.get(ROUTE, params=QUERY)
            response.read()
            middle = time.perf_counter()
            line = server.request_raw("tools/call", params)
            end = time.perf_counter()
            bare.request_raw("tools/call", bare_params)
            last = time.perf_counter()
            floor.request_raw("tools/call", bare_params)
            floor_end = time.perf_counter()
            if versus is not None:
                versus_line = versus.request_raw("tools/call", params)
                if b'"isError":true' in versus_line:
                    raise ServerError(f"call {index} failed on the --versus server: {versus_line[:300]!r}")
                if index >= warmup:
                    versus_ms.append(time.perf_counter() - floor_end)
            if response.status_code != 200 or b'"isError":true' in line:
                raise ServerError(f"call {index} failed: HTTP {response.status_code}; {line[:300]!r}")
            if index >= warmup:
                raw.append(plain_end - plain_start)
                direct.append(middle - start)
                via_mcp.append(end - middle)
                bare_ms.append(last - end)
                floor_ms.append(floor_end - last)
        server_cpu = (server.cpu_seconds() - cpu_start[0]) / iterations * 1000
        bare_cpu = (bare.cpu_seconds() - cpu_start[1]) / iterations * 1000
        floor_cpu = (floor.cpu_seconds() - cpu_start[2]) / iterations * 1000
        versus_cpu = (versus.cpu_seconds() - versus_start) / iterations * 1000 if versus else None
    extra = {}
    if versus_cpu is not None:
        extra = {"versus_ms": median(versus_ms) * 1000, "versus_cpu_ms": versus_cpu}
    return extra | {
        "iterations": iterations,
        "waha_body_bytes": len(body.content),
        "result_bytes": len(json.dumps(sample, separators=(",", ":"), ensure_ascii=False).encode()),
        "direct_ms": median(direct) * 1000,
        "plain_ms": median(raw) * 1000,
        "overhead_plain_ms": (median(via_mcp) - median(raw)) * 1000,
        "mcp_ms": median(via_mcp) * 1000,
        "bare_ms": median(bare_ms) * 1000,
        "floor_ms": median(floor_ms) * 1000,
        "floor_cpu_ms": floor_cpu,
        "overhead_ms": (median(via_mcp) - median(direct)) * 1000,
        "paired_ms": median([b - a for a, b in zip(direct, via_mcp, strict=True)]) * 1000,
        "server_cpu_ms": server_cpu,
        "bare_cpu_ms": bare_cpu,
        "cpu_ratio": server_cpu / bare_cpu,
    }


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def stdio_throughput(cmd: list[str], tool: str, calls: int, inflight: int) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        cwd="/",
        limit=64 * 1024 * 1024,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def send(message: dict[str, Any]) -> None:
        stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    async def answer() -> bytes:
        line = await stdout.readline()
        if not line:
            raise ServerError(f"{cmd[0]} closed stdout")
        return line

    try:
        init = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
        send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init})
        await answer()
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        call = {"name": tool, "arguments": {}}
        warm = min(200, calls // 5)

        async def batch(count: int) -> float:
            sent = done = 0
            start = time.perf_counter()
            while sent < min(inflight, count):
                sent += 1
                send({"jsonrpc": "2.0", "id": sent, "method": "tools/call", "params": call})
            await stdin.drain()
            while done < count:
                line = await answer()
                if not _ID.search(line[:64]):
                    continue  # a notification
                if b'"isError":true' in line or b'"error":' in line[:64]:
                    raise ServerError(f"{tool} failed under load: {line[:300]!r}")
                done += 1
                if sent < count:
                    sent += 1
                    send({"jsonrpc": "2.0", "id": sent, "method": "tools/call", "params": call})
                    await stdin.drain()
            return time.perf_counter() - start

        await batch(warm)
        client_start, server_start = _client_cpu(), cpu_seconds(proc.pid)
        elapsed = await batch(calls)
        client_cpu = _client_cpu() - client_start
        server_cpu = cpu_seconds(proc.pid) - server_start
    finally:
        stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return {
        "calls": calls,
        "per_s": calls / elapsed,
        "client_cpu_ms": client_cpu / calls * 1000,
        "server_cpu_ms": server_cpu / calls * 1000,
    }


@contextlib.asynccontextmanager
async def http_server(url: str, stateless: bool) -> AsyncIterator[str]:
    port = free_port()
    cmd = [*waha_mcp_cmd(), *serve_args(url), "--http", "--host", "127.0.0.1", "--port", str(port)]
    proc = await asyncio.create_subprocess_exec(
        *cmd + (["--stateless"] if stateless else []),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        cwd="/",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx2.AsyncClient() as probe:
            for _ in range(200):
                with contextlib.suppress(httpx2.HTTPError):
                    if (await probe.get(base + "/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                raise ServerError("the HTTP server did not answer /healthz")
        yield base + "/mcp"
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def http_throughput(url: str, stateless: bool, calls: int, inflight: int) -> dict[str, Any]:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    limits = httpx2.Limits(max_connections=inflight, max_keepalive_connections=inflight)
    async with http_server(url, stateless) as endpoint, httpx2.AsyncClient(limits=limits, timeout=30) as client:
        init = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}
        first = await client.post(
            endpoint, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}, headers=headers
        )
        first.raise_for_status()
        headers["MCP-Protocol-Version"] = PROTOCOL
        if not stateless:
            headers["Mcp-Session-Id"] = first.headers["mcp-session-id"]
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            (await client.post(endpoint, json=note, headers=headers)).raise_for_status()
        call = {"name": TOOL, "arguments": {}}
        counter = iter(range(1, 10**9))

        async def one() -> None:
            message = {"jsonrpc": "2.0", "id": next(counter), "method": "tools/call", "params": call}
            response = await client.post(endpoint, json=message, headers=headers)
            if (
                response.status_code != 200
                or b'"isError":true' in response.content
                or b'"result"' not in response.content
            ):
                raise ServerError(f"HTTP {response.status_code}: {response.content[:300]!r}")

        async def batch(count: int) -> float:
            remaining = iter(range(count))

            async def worker() -> None:
                for _ in remaining:
                    await one()

            start = time.perf_counter()
            async with asyncio.TaskGroup() as group:
                for _ in range(inflight):
                    group.create_task(worker())
            return time.perf_counter() - start

        await batch(min(200, calls // 5))
        client_start = _client_cpu()
        elapsed = await batch(calls)
        client_cpu = _client_cpu() - client_start
    return {"calls": calls, "per_s": calls / elapsed, "client_cpu_ms": client_cpu / calls * 1000}


def throughput(calls: int, inflight: int, latency_ms: float, http: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"calls": calls, "inflight": inflight, "latency_ms": latency_ms}
    with fake_waha(latency_ms) as url:
        out["stdio"] = asyncio.run(stdio_throughput([*server_cmd(), *serve_args(url)], TOOL, calls, inflight))
        if VERSUS:
            versus = [*versus_cmd(), *serve_args(url)]
            out["versus_stdio"] = asyncio.run(stdio_throughput(versus, TOOL, calls, inflight))
            out["stdio_again"] = asyncio.run(stdio_throughput([*server_cmd(), *serve_args(url)], TOOL, calls, inflight))
        out["bare_stdio"] = asyncio.run(stdio_throughput(bare_cmd(1), "bare_tool_000", calls, inflight))
        floor = bare_cmd(1, floor=True)
        out["floor_stdio"] = asyncio.run(stdio_throughput(floor, "bare_tool_000", calls, inflight))
        if http:
            out["http_stateful"] = asyncio.run(http_throughput(url, False, calls, inflight))
            out["http_stateless"] = asyncio.run(http_throughput(url, True, calls, inflight))
    return out


def report(over: dict[str, Any], load: dict[str, Any]) -> str:
    lines = [
        f"Overhead ({over['iterations']} interleaved calls; WAHA body {over['waha_body_bytes']} B, "
        f"tool result {over['result_bytes']} B)",
        f"  direct GET {ROUTE}          median {over['direct_ms']:.3f} ms (httpx2.Client)",
        f"  same GET, http.client                          median {over['plain_ms']:.3f} ms",
        f"  tools/call {TOOL} over stdio       median {over['mcp_ms']:.3f} ms",
        f"  bare MCPServer trivial tool over stdio  median {over['bare_ms']:.3f} ms",
        f"  same, served as waha-mcp serves (floor) median {over['floor_ms']:.3f} ms",
        f"  overhead: {over['overhead_ms']:.3f} ms (difference of medians), {over['paired_ms']:.3f} ms (median of "
        f"paired differences); target ≤ {TARGETS['overhead_ms']} ms; over the http.client GET: "
        f"{over['overhead_plain_ms']:.3f} ms",
        f"  server CPU per call: waha-mcp {over['server_cpu_ms']:.3f} ms, bare {over['bare_cpu_ms']:.3f} ms = "
        f"{over['cpu_ratio']:.2f}× (target ≤ {TARGETS['cpu_ratio']}×); the floor {over['floor_cpu_ms']:.3f} ms",
    ]
    if "versus_ms" in over:
        lines.append(
            f"  --versus {','.join(VERSUS)}: median {over['versus_ms']:.3f} ms "
            f"({over['versus_ms'] / over['mcp_ms']:.2f}× waha-mcp's), server CPU {over['versus_cpu_ms']:.3f} ms/call "
            f"({over['versus_cpu_ms'] / over['server_cpu_ms']:.2f}×)"
        )
    lines.append(
        f"Throughput ({load['calls']} calls, {load['inflight']} in flight, WAHA latency {load['latency_ms']:g} ms)"
    )
    for key, label in (
        ("stdio", f"waha-mcp {TOOL}, stdio"),
        ("versus_stdio", f"--versus {','.join(VERSUS)}, stdio"),
        ("stdio_again", f"waha-mcp {TOOL}, stdio, again"),
        ("bare_stdio", "bare MCPServer trivial tool, stdio"),
        ("floor_stdio", "same, served as waha-mcp serves (the floor)"),
        ("http_stateful", f"waha-mcp {TOOL}, Streamable HTTP stateful"),
        ("http_stateless", f"waha-mcp {TOOL}, Streamable HTTP stateless"),
    ):
        if key in load:
            row = load[key]
            server = f"server CPU {row['server_cpu_ms']:.3f}, " if "server_cpu_ms" in row else ""
            lines.append(
                f"  {label:42} {row['per_s']:7.0f} calls/s  ({server}client CPU {row['client_cpu_ms']:.3f} ms/call)"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--inflight", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--off", default="", help="turned off: sdk-stdio,asyncio-loop,stdlib-json,lean-wire,structured")
    parser.add_argument(
        "--versus", default="", help="a variant run beside waha-mcp (variant_server.py), e.g. aiohttp-wire"
    )
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    deadline(300 if not args.versus else 600)
    VERSUS.extend(name for name in args.versus.split(",") if name)
    OFF.extend(name for name in args.off.split(",") if name)
    info = machine()
    info["loadavg"] = Path("/proc/loadavg").read_text().split()[0]
    over = overhead(args.iterations, args.warmup)
    load = throughput(args.calls, args.inflight, args.latency_ms, not args.skip_http)
    print(
        f"waha-mcp hot path {info['date']}, commit {info['commit']}; nproc {info['nproc']} ({info['cpu']}), "
        f"Python {info['python']}, load {info['loadavg']}" + (f"; turned off: {', '.join(OFF)}" if OFF else "")
    )
    print(report(over, load))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "overhead": over, "throughput": load}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
