"""`waha-mcp` with some of the hot path's speed-ups turned off, to measure each one (bench/hot_path.py --off).

python bench/variant_server.py OFF[,OFF...] serve ...
OFF: sdk-stdio, asyncio-loop, stdlib-json, lean-wire (httpx2 to WAHA), aiohttp-wire (aiohttp to WAHA instead of the
lean client: bench/aiohttp_wire.py), none; and, to measure a lead rather than a speed-up, structured (results without
structuredContent, which waha-mcp always sends)
"""

from __future__ import annotations

import sys

from mcp_types import CallToolResult

from waha_mcp import cli, jsonfast, stdio
from waha_mcp.client import _http
from waha_mcp.tools import pipeline

if __name__ == "__main__":
    off = set(sys.argv[1].split(","))
    unknown = off - {"sdk-stdio", "asyncio-loop", "stdlib-json", "lean-wire", "aiohttp-wire", "structured", "none"}
    if unknown:
        raise SystemExit(f"unknown: {', '.join(sorted(unknown))}")
    if "sdk-stdio" in off:
        stdio.usable = lambda *_a, **_k: False  # type: ignore[assignment]
    if "asyncio-loop" in off:
        cli.event_loop_options = lambda: {}
    if "stdlib-json" in off:
        jsonfast._orjson = False
    if "lean-wire" in off:
        _http.lean_wire = lambda *_a, **_k: None  # type: ignore[assignment]
    if "aiohttp-wire" in off:
        from aiohttp_wire import aiohttp_wire

        _http.lean_wire = aiohttp_wire
    if "structured" in off:
        shaped = pipeline.shape

        def text_only(data, blocks=None) -> CallToolResult:  # type: ignore[no-untyped-def]
            return shaped(data, blocks).model_copy(update={"structured_content": None})

        pipeline.shape = text_only  # type: ignore[assignment]
    sys.exit(cli.main(sys.argv[2:]))
