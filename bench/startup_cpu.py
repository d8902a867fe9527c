"""waha-mcp's own start-up CPU beyond the MCP SDK's: import, build the server (every toolset), list the tools, in
a fresh process each time (bytecode cached). CPU time moves much less than wall time on a busy machine.

python bench/startup_cpu.py [--runs 10] [--before SRC]

`--before SRC`: another source tree of waha_mcp (e.g. a `git archive` of main's `src`), interleaved in one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from _harness import PYCACHE, deadline, median

CHILD = """
import time, anyio
import mcp.server.mcpserver  # the SDK's share, as a bare server imports it: not counted
started = time.process_time()
from waha_mcp.config import load_settings
from waha_mcp.server import build_server
settings = load_settings(WAHA_BASE_URL="http://127.0.0.1:9", WAHA_SESSION="default", WAHA_TOOLSETS="all")
tools = anyio.run(build_server(settings).list_tools)
print((time.process_time() - started) * 1000, len(tools))
"""


def sample(src: str | None) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHA_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if src:
        env["PYTHONPATH"] = src
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, cwd="/", check=True)
    ms, tools = done.stdout.split()
    return float(ms), int(tools)


def run(runs: int = 10, before: str | None = None) -> dict[str, Any]:
    variants: dict[str, str | None] = {"waha-mcp": None}
    if before:
        variants["before"] = str(Path(before).resolve())
    samples: dict[str, list[float]] = {name: [] for name in variants}
    tools = 0
    for src in variants.values():
        sample(src)  # warm-up: byte-compile
    for index in range(runs):
        order = list(variants.items())
        for name, src in order[index % len(order) :] + order[: index % len(order)]:
            ms, tools = sample(src)
            samples[name].append(ms)
    return {
        "tools": tools,
        "runs": runs,
        "rows": [
            {"variant": name, "median_ms": median(v), "min_ms": min(v), "max_ms": max(v)} for name, v in samples.items()
        ],
    }


def report(out: dict[str, Any]) -> str:
    lines = [f"waha-mcp's own start-up CPU beyond the SDK ({out['tools']} tools, {out['runs']} interleaved runs)"]
    for row in out["rows"]:
        lines.append(
            f"  {row['variant']:10} median {row['median_ms']:5.0f} ms"
            f"  min {row['min_ms']:5.0f}  max {row['max_ms']:5.0f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--before", metavar="SRC", help="another source tree of waha_mcp, measured beside")
    args = parser.parse_args()
    deadline(150)
    print(report(run(args.runs, args.before)))


if __name__ == "__main__":
    sys.exit(main())
