"""Memory: peak RSS (VmHWM in /proc/PID/status) of the server process, every toolset on, after start-up
(initialize + tools/list) and after N tool calls; the bare MCPServer with as many tools alongside.

python bench/memory.py [--calls 200]

waha-mcp runs as `waha-mcp serve --toolsets all --base-url URL --session default` against the standalone
sandbox. The calls go round-robin over every read-only tool that needs no argument (so they succeed against
the sandbox and touch as many tool modules as possible).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from _harness import StdioServer, bare_cmd, deadline, standalone_sandbox, tool_count, waha_mcp_cmd

TARGET_MIB = 90


def _measure(cmd: list[str], calls: int, pick: Any) -> dict[str, Any]:
    with StdioServer(cmd) as server:
        server.initialize()
        tools = server.request("tools/list")["tools"]
        startup = server.status_kib("VmHWM")
        names = pick(tools)
        errors: set[str] = set()
        for index in range(calls):
            name = names[index % len(names)]
            if server.request("tools/call", {"name": name, "arguments": {}}).get("isError"):
                errors.add(name)
        after = server.status_kib("VmHWM")
        rss = server.status_kib("VmRSS")
    return {
        "tools": len(tools),
        "startup_mib": startup / 1024,
        "after_mib": after / 1024,
        "rss_mib": rss / 1024,
        "called": sorted(set(names)),
        "errors": sorted(errors),
    }


def _argument_free_reads(tools: list[dict[str, Any]]) -> list[str]:
    # The waiting tools (waha_wait_for_*) would each sit out their timeout: no event comes in this bench.
    return [
        tool["name"]
        for tool in tools
        if tool.get("annotations", {}).get("readOnlyHint")
        and not tool.get("inputSchema", {}).get("required")
        and not tool["name"].startswith("waha_wait_for_")
    ]


def run(calls: int = 200) -> dict[str, Any]:
    count = tool_count()
    with standalone_sandbox() as url:
        waha = _measure(
            [*waha_mcp_cmd(), "serve", "--toolsets", "all", "--base-url", url, "--session", "default"],
            calls,
            _argument_free_reads,
        )
    bare = _measure(bare_cmd(count), calls, lambda tools: [tool["name"] for tool in tools])
    return {"calls": calls, "target_mib": TARGET_MIB, "waha-mcp": waha, "bare MCPServer": bare}


def report(out: dict[str, Any]) -> str:
    waha = out["waha-mcp"]
    lines = [
        f"Peak RSS (VmHWM), every toolset on, {out['calls']} tool calls (target ≤ {out['target_mib']} MiB)",
        f"  {'server':16} {'tools':>5} {'after start MiB':>16} {'after calls MiB':>16} {'RSS now MiB':>12}",
    ]
    for name in ("waha-mcp", "bare MCPServer"):
        row = out[name]
        lines.append(
            f"  {name:16} {row['tools']:5} {row['startup_mib']:16.1f} {row['after_mib']:16.1f} {row['rss_mib']:12.1f}"
        )
    lines.append(
        f"  waha-mcp calls went round-robin over {len(waha['called'])} tools"
        + (f"; these answered isError (still a full call): {', '.join(waha['errors'])}" if waha["errors"] else "")
    )
    return "\n".join(lines)


def main() -> None:
    deadline(60)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    print(report(run(parser.parse_args().calls)))


if __name__ == "__main__":
    sys.exit(main())
