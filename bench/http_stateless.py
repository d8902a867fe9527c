"""Stateless Streamable HTTP: server CPU per tool call, waha-mcp beside a bare MCPServer, in one run (issue 19).

python bench/http_stateless.py [--calls 2000] [--rounds 5] [--inflight 8] [--latency-ms 0] [--protocol 2025-06-18]
                               [--baseline SRC] [--profile DIR] [--json FILE]

Servers, each a child process on a loopback port, measured round after round in turn (so load from elsewhere on
the machine falls on all of them alike):
- waha-mcp: `waha-mcp serve --http --stateless`, `tools/call waha_get_chats {}` (→ a 20-chat, ~15 KB GET on
  bench/fake_waha.py, projected); with `--baseline SRC`, also the waha-mcp whose `src/` is SRC (e.g. a
  `git archive` of an older commit), so before and after are measured in the same run;
- bare: a bare MCPServer's trivial tool over stateless HTTP with uvicorn's defaults (bench/bare_server.py --http);
- floor: the same bare server served as waha-mcp serves (no OpenTelemetry middleware, waha-mcp's uvicorn options);
- floor returning waha-mcp's result (the structuredContent of one waha_get_chats call, answered as waha-mcp answers:
  structured and as text): what its size costs the SDK;
- floor doing the same job: the same GET to the fake WAHA on aiohttp, parsed by orjson, then waha-mcp's result:
  what a server answering this call costs without anything of waha-mcp's (its pipeline, projection, redaction,
  client layers);
- floor with JSON responses (the SDK's `json_response`, one JSON body per POST instead of an SSE stream): what the
  SSE stream costs. waha-mcp answers with SSE (progress notifications reach the client on it).
The client is a raw keep-alive HTTP/1.1 client (asyncio streams, the request bytes built once) with `--inflight`
connections, each one call at a time, new connections each round, so the client's own CPU stays small. Server CPU
from /proc/PID/task/*/schedstat over the timed calls.
`--profile DIR` runs waha-mcp under pyinstrument (`pip install pyinstrument`; DIR/waha-mcp.pyisession, shown by
`pyinstrument --load FILE`): its CPU figure is then the profiler's, not to be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from _harness import BENCH, PROTOCOL, ServerError, bare_cmd, child_env, cpu_seconds, deadline, free_port, machine
from _harness import waha_mcp_cmd as _waha_mcp_cmd
from hot_path import fake_waha, serve_args

TOOL = "waha_get_chats"
BARE_TOOL = "bare_tool_000"
TARGET = 1.2

PROFILED = """
import signal, sys
from pyinstrument import Profiler
from waha_mcp import cli
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # uvicorn re-raises the SIGTERM it stopped on
profiler = Profiler(interval=0.0005, async_mode="disabled")
profiler.start()
try:
    cli.main(sys.argv[2:])
finally:
    profiler.stop().save(sys.argv[1])  # read with `pyinstrument --load FILE`
"""


BASELINE = """
import sys
sys.path.insert(0, sys.argv[1])
from waha_mcp import cli
sys.exit(cli.main(sys.argv[2:]))
"""


def waha_cmd(url: str, port: int, profile: Path | None = None, baseline: Path | None = None) -> list[str]:
    args = [*serve_args(url), "--http", "--stateless", "--host", "127.0.0.1", "--port", str(port)]
    if profile is not None:
        return [sys.executable, "-c", PROFILED, str(profile / "waha-mcp.pyisession"), *args]
    if baseline is not None:
        return [sys.executable, "-c", BASELINE, str(baseline.resolve()), *args]
    return [*_waha_mcp_cmd(), *args]


@contextlib.asynccontextmanager
async def started(cmd: list[str], port: int) -> AsyncIterator[int]:
    env = child_env()  # a SQLite store of its own, as by default, never the per-user one
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd="/"
    )
    try:
        for _ in range(400):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            if proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise ServerError(f"{cmd[:3]} did not listen on {port}")
        if proc.returncode is not None:
            assert proc.stderr is not None
            raise ServerError(f"{cmd[:3]} exited: {(await proc.stderr.read())[-500:]!r}")
        yield proc.pid
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
                await proc.wait()


class RawClient:
    """Keep-alive HTTP/1.1 connections, one call at a time each; answers read by Content-Length or chunks."""

    def __init__(self, port: int, protocol: str, tool: str, connections: int) -> None:
        self.port, self.protocol, self.tool, self.count = port, protocol, tool, connections
        self.conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    def request(self, ident: int) -> bytes:
        message = {"jsonrpc": "2.0", "id": ident, "method": "tools/call", "params": {"name": self.tool}}
        message["params"]["arguments"] = {}
        if self.protocol > "2025-11-25":  # the 2026 generation: what the client is, on every request
            message["params"]["_meta"] = {
                "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"},
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/protocolVersion": self.protocol,
            }
        body = json.dumps(message, separators=(",", ":")).encode()
        routing = f"Mcp-Method: tools/call\r\nMcp-Name: {self.tool}\r\n" if self.protocol > "2025-11-25" else ""
        head = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {self.protocol}\r\n{routing}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for _, writer in self.conns:
            writer.close()
        self.conns = []

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> bytes:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise ServerError(f"{head[:200]!r}: {await reader.read(500)!r}")
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            body = b""
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    return body
                body += chunk[:-2]
        start = lower.index(b"content-length:") + 15
        length = int(lower[start : lower.index(b"\r\n", start)])
        return await reader.readexactly(length)

    async def calls(self, count: int) -> None:
        """`count` calls spread over the connections; each answer checked to be a result, not an error. The
        connections are new each time: one idle while the other servers ran may have been closed by its server."""
        self.close()
        for _ in range(self.count):
            self.conns.append(await asyncio.open_connection("127.0.0.1", self.port))
        remaining = iter(range(count))
        request = self.request(1)

        async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for _ in remaining:
                body = await self._one(reader, writer, request)
                if b'"result"' not in body or b'"isError":true' in body:
                    raise ServerError(f"{self.tool}: {body[:300]!r}")

        async with asyncio.TaskGroup() as group:
            for reader, writer in self.conns:
                group.create_task(worker(reader, writer))


async def structured_result(port: int, protocol: str) -> Any:
    client = RawClient(port, protocol, TOOL, 1)
    client.conns.append(await asyncio.open_connection("127.0.0.1", port))
    reader, writer = client.conns[0]
    body = await client._one(reader, writer, client.request(1))
    client.close()
    text = body.decode()
    if "data:" in text:
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    return json.loads(text)["result"]["structuredContent"]


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


LABELS = {
    "waha-mcp": f"waha-mcp {TOOL}",
    "baseline": f"baseline waha-mcp {TOOL}",
    "bare": "bare MCPServer trivial tool (uvicorn defaults)",
    "floor": "bare, served as waha-mcp serves (floor)",
    "floor+result": "floor, returning waha-mcp's result",
    "floor+fetch": "floor, same GET to WAHA + waha-mcp's result",
    "floor+json": "floor, JSON responses instead of SSE",
}


async def measure(args: argparse.Namespace, url: str) -> dict[str, Any]:
    names = [
        "waha-mcp",
        *(["baseline"] if args.baseline else []),
        *["bare", "floor", "floor+result", "floor+fetch", "floor+json"],
    ]
    ports = {name: free_port() for name in names}
    tools = {name: TOOL if name in ("waha-mcp", "baseline") else BARE_TOOL for name in names}
    async with contextlib.AsyncExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="waha-mcp-bench-")))
        result_file = temp / "result.json"
        cmds = {
            "waha-mcp": waha_cmd(url, ports["waha-mcp"], profile=args.profile),
            "baseline": waha_cmd(url, ports["baseline"], baseline=args.baseline) if args.baseline else [],
            "bare": [*bare_cmd(1), "--http", str(ports["bare"])],
            "floor": [*bare_cmd(1, floor=True), "--http", str(ports["floor"])],
            "floor+result": [
                *bare_cmd(1, floor=True),
                "--http",
                str(ports["floor+result"]),
                "--result",
                str(result_file),
            ],
            "floor+fetch": [
                *bare_cmd(1, floor=True),
                "--http",
                str(ports["floor+fetch"]),
                "--result",
                str(result_file),
                "--fetch",
                f"{url}/api/default/chats/overview?limit=20&offset=0",  # as waha_get_chats {} asks
            ],
            "floor+json": [*bare_cmd(1, floor=True), "--http", str(ports["floor+json"]), "--json-response"],
        }
        pids: dict[str, int] = {}
        for name in names:
            if not result_file.exists() and name.startswith("floor+"):
                result_file.write_text(json.dumps(await structured_result(ports["waha-mcp"], args.protocol)))
            pids[name] = await stack.enter_async_context(started(cmds[name], ports[name]))
        totals = {name: {"cpu": 0.0, "wall": 0.0, "client": 0.0, "calls": 0} for name in names}
        clients = {name: RawClient(ports[name], args.protocol, tools[name], args.inflight) for name in names}
        for client in clients.values():
            stack.push_async_exit(client)
            await client.calls(min(300, args.calls))  # warm-up: imports, caches, connections to WAHA
        per_round = args.calls // args.rounds
        for _ in range(args.rounds):
            for name, client in clients.items():
                cpu, own, start = cpu_seconds(pids[name]), _client_cpu(), time.perf_counter()
                await client.calls(per_round)
                totals[name]["wall"] += time.perf_counter() - start
                totals[name]["cpu"] += cpu_seconds(pids[name]) - cpu
                totals[name]["client"] += _client_cpu() - own
                totals[name]["calls"] += per_round
    out: dict[str, Any] = {}
    for name, row in totals.items():
        calls = row["calls"]
        out[name] = {
            "calls": calls,
            "server_cpu_ms": row["cpu"] / calls * 1000,
            "calls_per_s": calls / row["wall"],
            "client_cpu_ms": row["client"] / calls * 1000,
        }
    ours = out["waha-mcp"]["server_cpu_ms"]
    out["ratios"] = {name: ours / out[name]["server_cpu_ms"] for name in names if name != "waha-mcp"}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inflight", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--protocol", default=PROTOCOL)
    parser.add_argument("--profile", type=Path, metavar="DIR")
    parser.add_argument("--baseline", type=Path, metavar="SRC", help="also measure the waha-mcp in this src/ tree")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    deadline(600)
    info = machine()
    info["loadavg"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    with fake_waha(args.latency_ms) as url:
        result = asyncio.run(measure(args, url))
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"stateless Streamable HTTP {info['date']}, commit {info['commit']}; nproc {info['nproc']} ({info['cpu']}), "
        f"Python {info['python']}; load {info['loadavg']} → {load_after}; protocol {args.protocol}; "
        f"{args.calls} calls per server in {args.rounds} rounds, {args.inflight} in flight, WAHA latency "
        f"{args.latency_ms:g} ms" + ("; waha-mcp under pyinstrument" if args.profile else "")
    )
    for name, label in LABELS.items():
        if name in result:
            row = result[name]
            print(
                f"  {label:48} server CPU {row['server_cpu_ms']:.3f} ms/call  {row['calls_per_s']:6.0f} calls/s  "
                f"(client CPU {row['client_cpu_ms']:.3f} ms/call)"
            )
    ratios = result["ratios"]
    print(
        "  waha-mcp / "
        + ", / ".join(f"{name} {ratio:.2f}×" for name, ratio in ratios.items())
        + f" (target ≤ {TARGET}× bare)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, **result}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    os.chdir(BENCH)
    sys.exit(main())
