"""Per-call overhead: a tool call through waha-mcp over stdio vs the direct HTTP request it makes, both against
the standalone sandbox on a loopback socket, interleaved.

python bench/call_overhead.py [--iterations 300] [--warmup 50] [--no-breakdown] [--profile FILE]

(a) `httpx2.Client().get("/api/sessions/default")` (keep-alive, body read, not parsed);
(b) `tools/call waha_get_session {}` to `waha-mcp serve --base-url URL --session default --toolsets all`
    (response line read, not parsed). The difference is what the MCP server adds per call: JSON-RPC parsing,
    argument validation, session resolution, the projection, result serialisation, two pipe hops;
(c) the SDK's own floor: `tools/call` of a trivial tool on the bare MCPServer (bench/bare_server.py), no HTTP.
(a), (b), (c) are interleaved call by call. The breakdown then times the layers of (b) in this process, on the
same socket: async GET with the server's httpx2.AsyncClient, WAHAClient.get_session, the bound tool function,
MCPServer.call_tool (argument validation included).
--profile runs the server under cProfile and writes FILE (pstats); the timings are then inflated.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import anyio
import httpx2
from _harness import StdioServer, bare_cmd, deadline, median, standalone_sandbox, waha_mcp_cmd

TARGET_MS = 1.0
ROUTE = "/api/sessions/default"
TOOL = "waha_get_session"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def server_cmd(url: str, profile: str | None = None) -> list[str]:
    args = ["serve", "--toolsets", "all", "--base-url", url, "--session", "default"]
    if profile:
        return [sys.executable, "-m", "cProfile", "-o", profile, "-m", "waha_mcp.cli", *args]
    return [*waha_mcp_cmd(), *args]


async def _layers(url: str, iterations: int, warmup: int) -> dict[str, float]:
    """Median ms of each layer of a waha_get_session call, in this process.

    Socket rows: the sync and the async httpx2 client on the same sandbox socket, interleaved. The other rows
    run the server's stack on a canned WAHA answer (httpx2.MockTransport), so they are CPU cost without
    network noise; each row includes the ones above it.
    """
    from waha_mcp.client import WAHAClient
    from waha_mcp.client.fleet import Fleet
    from waha_mcp.config import load_settings
    from waha_mcp.server import build_server
    from waha_mcp.tools.pipeline import App, Invocation, invoke

    headers = {"Accept": "application/json"}
    with httpx2.Client(base_url=url, headers=headers) as sync_http:
        canned = sync_http.get(ROUTE)
        body, ctype = canned.content, canned.headers["content-type"]
    settings = load_settings(WAHA_BASE_URL=url, WAHA_SESSION="default")
    mock = httpx2.MockTransport(lambda _: httpx2.Response(200, content=body, headers={"content-type": ctype}))
    server = build_server(settings, transport=mock)
    client = WAHAClient(url, transport=mock)
    app = server.app = App(client=Fleet({"waha": client}), settings=settings)  # what the lifespan would hand to calls
    (spec,) = [spec for spec in server.specs if spec.name == TOOL]

    async def sync_get() -> None:
        sync_http.get(ROUTE).read()

    async def async_get() -> None:
        (await async_http.get(ROUTE)).read()

    async def mock_get() -> None:
        (await client.http.get(ROUTE, headers=headers)).read()

    layers = {
        "sync httpx2 GET, socket": sync_get,
        "async httpx2 GET, canned answer": mock_get,
        "async httpx2 GET, socket": async_get,
        "+ WAHAClient.call (route from the document, errors)": lambda: client.call("SessionsController_get", "default"),
        "+ pipeline (arguments, session, tool, projection, scrub)": lambda: invoke(Invocation(spec, {}, app)),
        "+ WahaMCP.call_tool (lookup, narrowing)": lambda: server.call_tool(TOOL, {}),
    }
    times: dict[str, list[float]] = {name: [] for name in layers}
    with httpx2.Client(base_url=url, headers=headers) as sync_http:
        async with httpx2.AsyncClient(base_url=url, headers=headers) as async_http:
            for index in range(warmup + iterations):
                for name, layer in layers.items():
                    start = time.perf_counter()
                    await layer()
                    if index >= warmup:
                        times[name].append(time.perf_counter() - start)
    await client.aclose()
    return {name: median(samples) * 1000 for name, samples in times.items()}


def run(iterations: int = 300, warmup: int = 50, profile: str | None = None, breakdown: bool = True) -> dict[str, Any]:
    direct: list[float] = []
    via_mcp: list[float] = []
    floor: list[float] = []
    with (
        standalone_sandbox() as url,
        httpx2.Client(base_url=url, headers={"Accept": "application/json", "User-Agent": "waha-mcp-bench"}) as http,
        StdioServer(server_cmd(url, profile)) as server,
        StdioServer(bare_cmd(1)) as bare,
    ):
        for each in (server, bare):
            each.initialize()
            each.request("tools/list")
        params = {"name": TOOL, "arguments": {}}
        bare_params = {"name": "bare_tool_000", "arguments": {}}
        # the answers must be the real thing, not errors
        http.get(ROUTE).raise_for_status()
        server.call_tool(TOOL)
        bare.call_tool("bare_tool_000")
        for index in range(warmup + iterations):
            if index == warmup:
                cpu_start = server.cpu_seconds(), bare.cpu_seconds()
            start = time.perf_counter()
            response = http.get(ROUTE)
            response.read()
            middle = time.perf_counter()
            line = server.request_raw("tools/call", params)
            end = time.perf_counter()
            bare.request_raw("tools/call", bare_params)
            last = time.perf_counter()
            if response.status_code != 200 or b'"isError":true' in line:
                raise SystemExit(f"call {index} failed: HTTP {response.status_code}; {line[:300]!r}")
            if index >= warmup:
                direct.append(middle - start)
                via_mcp.append(end - middle)
                floor.append(last - end)
        server_cpu = (server.cpu_seconds() - cpu_start[0]) / iterations
        bare_cpu = (bare.cpu_seconds() - cpu_start[1]) / iterations
        sample = json.loads(line)["result"]
        layers = anyio.run(_layers, url, iterations, warmup) if breakdown else {}
    paired = [b - a for a, b in zip(direct, via_mcp, strict=True)]
    return {
        "iterations": iterations,
        "route": ROUTE,
        "tool": TOOL,
        "direct_ms": median(direct) * 1000,
        "mcp_ms": median(via_mcp) * 1000,
        "bare_call_ms": median(floor) * 1000,
        "server_cpu_ms": server_cpu * 1000,
        "bare_cpu_ms": bare_cpu * 1000,
        "layers_ms": layers,
        "overhead_ms": (median(via_mcp) - median(direct)) * 1000,
        "paired_median_ms": median(paired) * 1000,
        "direct_p90_ms": percentile(direct, 0.9) * 1000,
        "mcp_p90_ms": percentile(via_mcp, 0.9) * 1000,
        "response_bytes": len(json.dumps(sample, separators=(",", ":"))),
        "target_ms": TARGET_MS,
        "profiled": bool(profile),
    }


def report(out: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"Per-call overhead ({out['iterations']} interleaved calls after warm-up"
            + (", server under cProfile" if out["profiled"] else "")
            + ")",
            f"  (a) direct GET {out['route']:28} median {out['direct_ms']:6.2f} ms  p90 {out['direct_p90_ms']:6.2f} ms",
            f"  (b) tools/call {out['tool']:28} median {out['mcp_ms']:6.2f} ms  p90 {out['mcp_p90_ms']:6.2f} ms",
            f"  overhead (b)-(a): {out['overhead_ms']:.2f} ms difference of medians, "
            f"{out['paired_median_ms']:.2f} ms median of paired differences (target ≤ {out['target_ms']:g} ms)",
            f"  (c) SDK floor, tools/call of a trivial tool on a bare MCPServer: median {out['bare_call_ms']:.2f} ms",
            f"  server CPU per call (all threads): waha-mcp {out['server_cpu_ms']:.2f} ms, "
            f"bare MCPServer {out['bare_cpu_ms']:.2f} ms; the {out['tool']} result is {out['response_bytes']} "
            "bytes of JSON",
        ]
        + (["  layers of (b), in process, median ms each:"] if out["layers_ms"] else [])
        + [f"    {name:44} {ms:6.3f}" for name, ms in out["layers_ms"].items()]
    )


def main() -> None:
    deadline(120)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--no-breakdown", action="store_true", help="skip the in-process layer timings")
    parser.add_argument("--profile", metavar="FILE", help="run the server under cProfile, write pstats to FILE")
    args = parser.parse_args()
    print(report(run(args.iterations, args.warmup, args.profile, not args.no_breakdown)))
    if args.profile:
        import pstats

        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    sys.exit(main())
