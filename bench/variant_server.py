"""`waha-mcp` with some of the hot path's speed-ups turned off, to measure each one (bench/hot_path.py --off).

python bench/variant_server.py OFF[,OFF...] serve ...   OFF: sdk-stdio, asyncio-loop, stdlib-json, none
"""

from __future__ import annotations

import sys

from waha_mcp import cli, jsonfast, stdio

if __name__ == "__main__":
    off = set(sys.argv[1].split(","))
    unknown = off - {"sdk-stdio", "asyncio-loop", "stdlib-json", "none"}
    if unknown:
        raise SystemExit(f"unknown: {', '.join(sorted(unknown))}")
    if "sdk-stdio" in off:
        stdio.usable = lambda *_a, **_k: False  # type: ignore[assignment]
    if "asyncio-loop" in off:
        cli.event_loop_options = lambda: {}
    if "stdlib-json" in off:
        jsonfast._orjson = False
    sys.exit(cli.main(sys.argv[2:]))
