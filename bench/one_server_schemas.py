"""What one WAHA server saves in tools/list now that `server` is listed only for a fleet: the compact-JSON bytes
of the tools/list result over stdio (as served by default: no output schemas), and tokens as characters / 4, with
one server (`--base-url`) and with two (`WAHA_SERVERS`), for the default set and `--toolsets all`.

python bench/one_server_schemas.py [--before SRC] [--json]

The servers are a standalone sandbox fleet (`waha-mcp sandbox --sandbox-servers current,current`); listing tools
makes no WAHA request. `--before SRC` adds the one-server listing of another source tree of waha_mcp (e.g. a
`git archive` of main's `src`), run the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from _harness import StdioServer, deadline, waha_mcp_cmd
from cold_start import from_source

from fleet import sandbox_fleet


def listing(cmd: list[str]) -> dict[str, Any]:
    with StdioServer(cmd) as server:
        server.initialize()
        listed = server.request("tools/list")
    text = json.dumps(listed, separators=(",", ":"), ensure_ascii=False)
    tools = listed["tools"]
    with_server = [tool["name"] for tool in tools if "server" in tool["inputSchema"].get("properties", {})]
    return {"tools": len(tools), "bytes": len(text.encode()), "tokens": len(text) / 4, "with_server": with_server}


def run(before: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with sandbox_fleet(2, 1, 0) as (urls, _):
        first = next(iter(urls.values()))
        servers = "WAHA_SERVERS=" + ",".join(f"{name}={url}" for name, url in urls.items())
        for label, toolsets in (("default set", []), ("--toolsets all", ["--toolsets", "all"])):
            one = ["serve", "--base-url", first, "--session", "default", *toolsets]
            rows = {
                "one server": listing([*waha_mcp_cmd(), *one]),
                "two servers (WAHA_SERVERS)": listing(["env", servers, *waha_mcp_cmd(), "serve", *toolsets]),
            }
            if before:
                rows["before: one server"] = listing([*from_source(before), *one])
            out[label] = rows
    return out


def report(out: dict[str, Any]) -> str:
    lines = [f"{'':16} {'listing':28} {'tools':>5} {'bytes':>7} {'tokens':>7} {'with server':>11}"]
    for label, rows in out.items():
        for name, row in rows.items():
            listed = len(row["with_server"])
            lines.append(f"{label:16} {name:28} {row['tools']:5} {row['bytes']:7} {row['tokens']:7.0f} {listed:11}")
        one, fleet = rows["one server"], rows["two servers (WAHA_SERVERS)"]
        saved = fleet["bytes"] - one["bytes"]
        lines.append(
            f"{label:16} saved with one server: {saved} bytes ({saved / fleet['bytes']:.1%}), "
            f"{fleet['tokens'] - one['tokens']:.0f} tokens per turn"
        )
    return "\n".join(lines)


def main() -> None:
    deadline(180)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="SRC", help="another source tree of waha_mcp, its one-server listing")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    out = run(args.before)
    print(json.dumps(out, indent=1) if args.json else report(out))


if __name__ == "__main__":
    sys.exit(main())
