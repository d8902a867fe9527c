"""tools/list size: compact JSON bytes of the tools/list result per tool, all toolsets on, as the server sends it
over stdio; where the bytes go (by field, the 10 largest tools).

python bench/tools_size.py [--top 10]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from _harness import StdioServer, deadline, waha_mcp_cmd

TARGET = 300
# MCP ToolAnnotations defaults: a hint equal to its default says nothing; destructive and idempotent only mean
# something on a tool that is not read-only.
HINT_DEFAULTS = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}


def _minimal_hints(annotations: dict[str, Any]) -> dict[str, Any]:
    read_only = annotations.get("readOnlyHint", False)
    return {
        key: value
        for key, value in annotations.items()
        if HINT_DEFAULTS.get(key, object()) != value
        and not (read_only and key in ("destructiveHint", "idempotentHint"))
    }


def compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def run(top: int = 10) -> dict[str, Any]:
    # Listing tools makes no WAHA request, so the in-process emulator is enough here.
    with StdioServer([*waha_mcp_cmd(), "serve", "--toolsets", "all", "--sandbox"]) as server:
        server.initialize()
        listed = server.request("tools/list")
    tools = listed["tools"]
    total = compact(listed)
    fields: dict[str, int] = {}
    for tool in tools:
        for key, value in tool.items():
            # a field's share: `"key":value` plus its comma
            fields[key] = fields.get(key, 0) + compact({key: value}) - 2 + 1
    largest = sorted(tools, key=compact, reverse=True)[:top]
    # the same property (name and schema) on many tools
    repeats: dict[str, int] = {}
    for tool in tools:
        for prop, schema in tool.get("inputSchema", {}).get("properties", {}).items():
            fragment = json.dumps({prop: schema}, separators=(",", ":"), ensure_ascii=False)[1:-1]
            repeats[fragment] = repeats.get(fragment, 0) + 1
    repeated = sorted(
        ((fragment, n) for fragment, n in repeats.items() if n > 1), key=lambda kv: -len(kv[0].encode()) * kv[1]
    )[:5]
    annotations = sum(compact(tool["annotations"]) for tool in tools if "annotations" in tool)
    minimal = sum(compact(_minimal_hints(tool["annotations"])) for tool in tools if "annotations" in tool)
    return {
        "tools": len(tools),
        "bytes": total,
        "per_tool": total / len(tools),
        "target": TARGET,
        "fields": {key: size / len(tools) for key, size in sorted(fields.items(), key=lambda kv: -kv[1])},
        "annotations_saving": (annotations - minimal) / len(tools),
        "repeated": [
            {"fragment": fragment, "tools": n, "bytes_per_tool": len(fragment.encode()) * n / len(tools)}
            for fragment, n in repeated
        ],
        "largest": [
            {
                "name": tool["name"],
                "bytes": compact(tool),
                "description": len(tool.get("description", "").encode()),
                "inputSchema": compact(tool.get("inputSchema", {})),
            }
            for tool in largest
        ],
    }


def report(out: dict[str, Any]) -> str:
    lines = [
        f"tools/list: {out['tools']} tools, {out['bytes']} bytes compact JSON, "
        f"{out['per_tool']:.0f} bytes per tool (target ≤ {out['target']})",
        "  bytes per tool by field: " + ", ".join(f"{key} {size:.0f}" for key, size in out["fields"].items()),
        f"  annotations with default-valued or meaningless hints left out would save "
        f"{out['annotations_saving']:.0f} bytes per tool",
        "  the same property on several tools (bytes per tool over the whole list):",
        *(f"    {row['bytes_per_tool']:5.0f}  {row['tools']:3} × {row['fragment'][:90]}" for row in out["repeated"]),
        f"  {len(out['largest'])} largest tools:",
        f"    {'tool':36} {'bytes':>6} {'descr':>6} {'schema':>7}",
    ]
    for row in out["largest"]:
        lines.append(f"    {row['name']:36} {row['bytes']:6} {row['description']:6} {row['inputSchema']:7}")
    return "\n".join(lines)


def main() -> None:
    deadline(60)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    out = run(args.top)
    print(json.dumps(out, indent=1) if args.json else report(out))


if __name__ == "__main__":
    sys.exit(main())
