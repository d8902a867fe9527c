"""Cost per tool: source lines per tool and tools/list bytes per tool, all toolsets on, in process.

(a) lines of each registered tool function with its registration decorator (`inspect.getsourcelines`):
mean, median, max; and every line under `src/waha_mcp/tools/` (helpers included) over the tool count.
(b) compact-JSON bytes of the tools/list result (through the SDK's in-memory client) per tool: mean, total.

python bench/tool_cost.py [--json]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

# Relies only on all_tools() (items with .name, .fn) and build_server(settings); adapt here if they change.
from waha_mcp.config import load_settings
from waha_mcp.server import build_server
from waha_mcp.tools.registry import all_tools

ROOT = Path(__file__).resolve().parent.parent


def _compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _tools_dir() -> Path:
    import waha_mcp.tools

    return Path(waha_mcp.tools.__file__).resolve().parent


def source_lines() -> dict[str, Any]:
    tools = all_tools()
    per_tool = {spec.name: len(inspect.getsourcelines(inspect.unwrap(spec.fn))[0]) for spec in tools}
    # rglob: a later split of the tool modules into subpackages still counts every line of them.
    files = sorted(_tools_dir().rglob("*.py"))
    module_lines = {str(path.relative_to(_tools_dir())): len(path.read_text().splitlines()) for path in files}
    total = sum(module_lines.values())
    counts = list(per_tool.values())
    # A plain operation tool: one WAHA operation and a projection (the "about 15 lines" figure).
    plain = [per_tool[spec.name] for spec in tools if len(getattr(spec, "operations", ())) == 1]
    return {
        "plain_tools": len(plain),
        "plain_mean": statistics.mean(plain) if plain else None,
        "plain_max": max(plain) if plain else None,
        "plain_median": statistics.median(plain) if plain else None,
        "tools": len(tools),
        "mean": statistics.mean(counts),
        "median": statistics.median(counts),
        "max": max(counts),
        "max_tool": max(per_tool, key=lambda name: per_tool[name]),
        "module_lines": total,
        "module_lines_per_tool": total / len(tools),
        "modules": module_lines,
    }


async def _listed(toolsets: str | None) -> dict[str, Any]:
    # Output schemas on, so one listing gives both figures: as served by default (without them) and with
    # WAHA_MCP_OUTPUT_SCHEMAS=on.
    extra = {"WAHA_TOOLSETS": toolsets} if toolsets else {}
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_MCP_OUTPUT_SCHEMAS="on", **extra
    )
    async with Client(build_server(settings)) as client:
        result = await client.list_tools()
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def listing_bytes(toolsets: str | None = "all") -> dict[str, Any]:
    """tools/list of every toolset (`all`) or of the default set (None); tokens as characters / 4."""
    listed = anyio.run(_listed, toolsets)
    tools = listed["tools"]
    sizes = [_compact(tool) for tool in tools]
    inputs_only = [_compact({k: v for k, v in tool.items() if k != "outputSchema"}) for tool in tools]
    chars = len(json.dumps(listed, separators=(",", ":"), ensure_ascii=False))
    return {
        "tools": len(tools),
        "result_bytes": _compact(listed),
        "tool_bytes": sum(sizes),
        "mean": sum(sizes) / len(tools),
        "mean_without_output_schemas": sum(inputs_only) / len(tools),
        "tokens": chars / 4,
        "tokens_without_output_schemas": (chars - sum(sizes) + sum(inputs_only)) / 4,
    }


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True, text=True)
    except OSError:
        return "unknown"
    sha = out.stdout.strip() or "unknown"
    return sha + (" (src/ modified)" if dirty.stdout.strip() else "")


def report(lines: dict[str, Any], listing: dict[str, Any], default: dict[str, Any], commit: str) -> str:
    modules = ", ".join(f"{name} {n}" for name, n in lines["modules"].items())
    return "\n".join(
        [
            f"commit {commit}, {lines['tools']} tools",
            f"source lines per tool (function + decorator): mean {lines['mean']:.1f}, median {lines['median']:.0f}, "
            f"max {lines['max']} ({lines['max_tool']})",
            f"plain operation tools (one WAHA operation): {lines['plain_tools']}, mean {lines['plain_mean']:.1f}, "
            f"median {lines['plain_median']:.0f}, max {lines['plain_max']} lines",
            f"src/waha_mcp/tools/ lines over tools: {lines['module_lines']} / {lines['tools']} = "
            f"{lines['module_lines_per_tool']:.1f} per tool",
            f"  {modules}",
            f"tools/list compact JSON, every toolset: {listing['mean_without_output_schemas']:.0f} bytes per tool as "
            f"served by default; {listing['mean']:.0f} with WAHA_MCP_OUTPUT_SCHEMAS=on ({listing['tool_bytes']} "
            "bytes of tools)",
            f"default set: {default['tools']} tools, {default['tokens_without_output_schemas']:.0f} tokens "
            f"(characters / 4) as served by default; {default['tokens']:.0f} with WAHA_MCP_OUTPUT_SCHEMAS=on",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    # The caller's WAHA_* variables would change which tools are registered.
    for key in [key for key in os.environ if key.startswith("WAHA_")]:
        del os.environ[key]
    os.chdir("/")  # no `.env` either
    lines, listing, default = source_lines(), listing_bytes("all"), listing_bytes(None)
    commit = _commit()
    if args.json:
        out = {"commit": commit, "source_lines": lines, "tools_list": listing, "default_set": default}
        print(json.dumps(out, indent=1))
    else:
        print(report(lines, listing, default, commit))


if __name__ == "__main__":
    sys.exit(main())
