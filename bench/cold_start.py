"""Cold start: spawn → `tools/list` answered over stdio, waha-mcp (all toolsets) vs a bare MCPServer with as
many trivial tools, interleaved in one run.

python bench/cold_start.py [--runs 10] [--before SRC]

`--before SRC` adds a row for another source tree of waha_mcp (e.g. a `git archive` of main's `src`), run the
same way, so a change is measured before and after in one run on one (busy) machine.

waha-mcp runs as a user would run it against a WAHA: `waha-mcp serve --base-url URL --session default
--toolsets all`, URL being a standalone sandbox (`waha-mcp sandbox`) on loopback, so no real WAHA is needed
(answering tools/list needs no WAHA request anyway). `--sandbox` (the emulator in-process) is a second row.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _harness import StdioServer, bare_cmd, deadline, median, standalone_sandbox, tool_count, waha_mcp_cmd


def spawn_to_tools_list(cmd: list[str]) -> tuple[float, float, int]:
    """Seconds from Popen to the tools/list response read, the server's CPU seconds by then, the tool count."""
    with StdioServer(cmd) as server:
        server.initialize()
        tools = server.request("tools/list")["tools"]
        elapsed = time.perf_counter() - server.started
        cpu = server.cpu_seconds()
    return elapsed, cpu, len(tools)


def from_source(src: str) -> list[str]:
    """`waha-mcp` as its console script runs it, but importing waha_mcp from the source tree `src`."""
    boot = f"import sys; sys.path.insert(0, {src!r}); from waha_mcp.cli import main; sys.exit(main())"
    return [sys.executable, "-c", boot]


def run(runs: int = 10, before: str | None = None) -> dict[str, Any]:
    count = tool_count()
    with standalone_sandbox() as url:
        against = ["serve", "--toolsets", "all", "--base-url", url, "--session", "default"]
        variants = {
            "bare MCPServer": bare_cmd(count),
            "waha-mcp --base-url": [*waha_mcp_cmd(), *against],
            "waha-mcp --sandbox": [*waha_mcp_cmd(), "serve", "--toolsets", "all", "--sandbox"],
        }
        if before:
            variants["before: --base-url"] = [*from_source(before), *against]
        times: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        # Sandbox mode also lists the sandbox toolset (waha_sandbox_*), there and only there.
        expected = {name: tool_count(sandbox=True) if "--sandbox" in name else count for name in names}
        for name in names:  # warm-up: byte-compile, page cache
            _, _, listed = spawn_to_tools_list(variants[name])
            if listed != expected[name]:
                raise SystemExit(f"{name} listed {listed} tools, `waha-mcp tools` says {expected[name]}")
        for index in range(runs):
            shift = index % len(names)  # rotate the order so no variant always runs first
            for name in names[shift:] + names[:shift]:
                wall, used, _ = spawn_to_tools_list(variants[name])
                times[name].append(wall)
                cpu[name].append(used)
    bare = median(times["bare MCPServer"])
    bare_cpu = median(cpu["bare MCPServer"])
    rows = [
        {
            "variant": name,
            "median_ms": median(samples) * 1000,
            "min_ms": min(samples) * 1000,
            "max_ms": max(samples) * 1000,
            "ratio": median(samples) / bare,
            "cpu_ms": median(cpu[name]) * 1000,
            "cpu_ratio": median(cpu[name]) / bare_cpu,
        }
        for name, samples in times.items()
    ]
    return {"tools": count, "runs": runs, "rows": rows}


def report(out: dict[str, Any]) -> str:
    lines = [f"Cold start, spawn → tools/list answered ({out['tools']} tools, {out['runs']} interleaved runs each)"]
    lines.append(
        f"  {'server':22} {'median ms':>10} {'min ms':>7} {'max ms':>7} {'× bare':>7}   {'CPU ms':>7} {'× bare':>7}"
    )
    for row in out["rows"]:
        lines.append(
            f"  {row['variant']:22} {row['median_ms']:10.0f} {row['min_ms']:7.0f} {row['max_ms']:7.0f} "
            f"{row['ratio']:7.2f}   {row['cpu_ms']:7.0f} {row['cpu_ratio']:7.2f}"
        )
    lines.append("  (wall: Popen → tools/list response read; CPU: the server process's CPU time by then, median)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--before", metavar="SRC", help="another source tree of waha_mcp, measured beside")
    args = parser.parse_args()
    deadline(200 if args.before else 150)
    print(report(run(args.runs, args.before)))


if __name__ == "__main__":
    sys.exit(main())
