"""All four waha-mcp benchmarks in one go (about a minute; aborted past 170 s), summary table first.

python bench/run.py [--runs 10] [--iterations 300] [--calls 200] [--json]

Loopback only: the servers run as children over stdio, WAHA is the standalone sandbox (`waha-mcp sandbox`) on
127.0.0.1. Each figure also has its own script: cold_start.py, tools_size.py, call_overhead.py, memory.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import call_overhead
import cold_start
import memory
import tools_size
from _harness import deadline, machine

BUDGET_S = 170


def summary(results: dict[str, Any]) -> str:
    cold = {row["variant"]: row for row in results["cold_start"]["rows"]}
    size = results["tools_size"]
    call = results["call_overhead"]
    mem = results["memory"]["waha-mcp"]
    waha_cold = cold["waha-mcp --base-url"]
    rows = [
        (
            "cold start, spawn → tools/list (median)",
            f"{waha_cold['median_ms']:.0f} ms vs bare {cold['bare MCPServer']['median_ms']:.0f} ms "
            f"= {waha_cold['ratio']:.2f}× (CPU {waha_cold['cpu_ratio']:.2f}×; --sandbox "
            f"{cold['waha-mcp --sandbox']['ratio']:.2f}×)",
            "≤ 1.2×",
            waha_cold["ratio"] <= 1.2,
        ),
        (
            "tools/list bytes per tool",
            f"{size['per_tool']:.0f} ({size['tools']} tools, {size['bytes']} B)",
            f"≤ {size['target']}",
            size["per_tool"] <= size["target"],
        ),
        (
            "per-call overhead over direct HTTP (median)",
            f"{call['overhead_ms']:.2f} ms ({call['mcp_ms']:.2f} − {call['direct_ms']:.2f}); "
            f"SDK floor {call['bare_call_ms']:.2f} ms",
            f"≤ {call['target_ms']:g} ms",
            call["overhead_ms"] <= call["target_ms"],
        ),
        (
            "peak RSS (VmHWM) after start / after calls",
            f"{mem['startup_mib']:.1f} / {mem['after_mib']:.1f} MiB",
            f"≤ {results['memory']['target_mib']} MiB",
            mem["after_mib"] <= results["memory"]["target_mib"],
        ),
    ]
    lines = ["| figure | waha-mcp | target | met |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {target} | {'yes' if ok else 'NO'} |" for name, value, target, ok in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="cold-start runs per server")
    parser.add_argument("--iterations", type=int, default=300, help="timed tool calls (after 50 warm-up)")
    parser.add_argument("--calls", type=int, default=200, help="tool calls before the second RSS reading")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    args = parser.parse_args()
    deadline(BUDGET_S)
    started = time.monotonic()
    info = machine()
    info["loadavg"] = Path("/proc/loadavg").read_text().split()[0]
    results: dict[str, Any] = {"machine": info}
    results["tools_size"] = tools_size.run()
    results["memory"] = memory.run(args.calls)
    results["call_overhead"] = call_overhead.run(args.iterations)
    results["cold_start"] = cold_start.run(args.runs)
    info["loadavg_after"] = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"waha-mcp bench {info['date']}, {info['src']} at commit {info['commit']}\n"
        f"nproc {info['nproc']} ({info['cpu']}), {info['memory']} RAM, Python {info['python']}; "
        f"load average {info['loadavg']} → {info['loadavg_after']}"
    )
    print()
    print(summary(results))
    for name, module in (
        ("cold_start", cold_start),
        ("tools_size", tools_size),
        ("call_overhead", call_overhead),
        ("memory", memory),
    ):
        print()
        print(module.report(results[name]))
    print(f"\n(bench took {time.monotonic() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
