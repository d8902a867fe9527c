"""Where waha-mcp's start-up goes beyond a bare MCPServer: `python -X importtime` of both servers up to the
tools/list answer, and the modules only waha-mcp imports, by package and by the largest self time.

python bench/import_profile.py [--runs 3] [--top 15]

Self times are the median over --runs starts of each server (bytecode cached, as installed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from typing import Any

from _harness import StdioServer, bare_cmd, deadline, median, tool_count


def _importtime(cmd: list[str]) -> dict[str, int]:
    """Module → self µs for one start of `cmd` (a python command line) up to the tools/list answer."""
    with tempfile.TemporaryFile() as log:
        with StdioServer([cmd[0], "-X", "importtime", *cmd[1:]], stderr=log.fileno()) as server:
            server.initialize()
            server.request("tools/list")
        log.seek(0)
        lines = log.read().decode(errors="replace").splitlines()
    out: dict[str, int] = {}
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|", 2)
        out[name.strip()] = int(self_us)
    return out


def _medians(cmd: list[str], runs: int) -> dict[str, float]:
    samples: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        for module, us in _importtime(cmd).items():
            samples[module].append(us)
    return {module: median([float(v) for v in values]) for module, values in samples.items()}


def run(runs: int = 3, top: int = 15) -> dict[str, Any]:
    count = tool_count()
    waha_cmd = [sys.executable, "-m", "waha_mcp.cli", "serve", "--toolsets", "all", "--sandbox"]
    _importtime(waha_cmd)  # warm the bytecode cache
    waha = _medians(waha_cmd, runs)
    waha_url = _medians([*waha_cmd[:-1], "--base-url", "http://127.0.0.1:9", "--session", "default"], runs)
    bare = _medians(bare_cmd(count), runs)
    extra = {module: us for module, us in waha.items() if module not in bare}
    by_package: dict[str, float] = defaultdict(float)
    for module, us in extra.items():
        by_package[module.split(".")[0]] += us
    sandbox_only = {module: us for module, us in waha.items() if module not in waha_url}
    return {
        "tools": count,
        "runs": runs,
        "total_ms": {
            "bare MCPServer": sum(bare.values()) / 1000,
            "waha-mcp --sandbox": sum(waha.values()) / 1000,
            "waha-mcp --base-url": sum(waha_url.values()) / 1000,
        },
        "extra_ms": sum(extra.values()) / 1000,
        "extra_modules": len(extra),
        "sandbox_only_ms": sum(sandbox_only.values()) / 1000,
        "by_package_ms": {pkg: us / 1000 for pkg, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]},
        "largest_ms": {mod: us / 1000 for mod, us in sorted(extra.items(), key=lambda kv: -kv[1])[:top]},
    }


def report(out: dict[str, Any]) -> str:
    totals = ", ".join(f"{name} {ms:.0f} ms" for name, ms in out["total_ms"].items())
    lines = [
        f"Import time up to tools/list ({out['tools']} tools, median of {out['runs']} starts): {totals}",
        f"  modules only waha-mcp --sandbox imports: {out['extra_modules']}, {out['extra_ms']:.0f} ms self time; "
        f"of which only with --sandbox (the emulator): {out['sandbox_only_ms']:.0f} ms",
        "  by top-level package:",
    ]
    lines += [f"    {pkg:40} {ms:7.1f} ms" for pkg, ms in out["by_package_ms"].items()]
    lines.append("  largest modules (self time):")
    lines += [f"    {mod:60} {ms:7.1f} ms" for mod, ms in out["largest_ms"].items()]
    return "\n".join(lines)


def main() -> None:
    deadline(120)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(report(run(args.runs, args.top)))


if __name__ == "__main__":
    sys.exit(main())
