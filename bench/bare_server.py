"""The baseline: a bare `MCPServer` over stdio with N trivial tools and nothing else.

python bench/bare_server.py N [--floor]

--floor serves the same bare server the way waha-mcp serves itself (its event-loop stdio, uvloop when installed,
no OpenTelemetry middleware): what the SDK alone costs per call on this machine, the floor under waha-mcp's
figures. Over HTTP (`--http PORT`), `--result FILE` makes the tool answer that JSON object as waha-mcp answers
(structured, and as text), and `--fetch URL` makes it GET URL first (aiohttp, parsed by orjson): the same job as
waha-mcp's `waha_get_chats` without waha-mcp.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent


def build(count: int, result: dict | None = None, fetch: str | None = None) -> MCPServer:
    server = MCPServer("bare")
    for index in range(count):
        if fetch is not None and result is not None:
            server.add_tool(_fetching(fetch, result), name=f"bare_tool_{index:03d}", description="A trivial tool.")
            continue
        if result is not None:
            server.add_tool(_returning(result), name=f"bare_tool_{index:03d}", description="A trivial tool.")
            continue

        async def trivial(session: str | None = None) -> str:
            return "ok"

        server.add_tool(trivial, name=f"bare_tool_{index:03d}", description="A trivial tool.")
    return server


def _answer(result: dict) -> CallToolResult:
    """`result` answered as waha-mcp answers (structured content, and the same JSON as its text block), built once:
    a plain `-> dict` tool would answer the text block alone, half the bytes for the SDK to serialise."""
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(result, separators=(",", ":"), ensure_ascii=False))],
        structured_content=result,
    )


def _returning(result: dict) -> Any:
    answer = _answer(result)

    async def trivial(session: str | None = None) -> CallToolResult:
        return answer

    return trivial


def _fetching(url: str, result: dict) -> Any:
    answer = _answer(result)

    async def trivial(session: str | None = None) -> CallToolResult:
        # The job any server answering this call does (the GET to WAHA on aiohttp, as waha-mcp's client sends it,
        # and orjson's parse), none of what waha-mcp adds (its pipeline, projection, redaction, client layers).
        import orjson

        async with _fetcher().get(url, headers={"Accept": "application/json"}) as response:
            body = await response.read()
        if not isinstance(orjson.loads(body), list):
            raise RuntimeError(f"{url}: not a chat list")
        return answer

    return trivial


_SESSION: list[Any] = []


def _fetcher() -> Any:
    """One aiohttp session for the process's loop (kept-alive connections to the fake WAHA)."""
    import aiohttp

    if not _SESSION:
        _SESSION.append(aiohttp.ClientSession(auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()))
    return _SESSION[0]


def floor(server: MCPServer) -> None:
    import anyio
    from mcp.server._otel import OpenTelemetryMiddleware

    from waha_mcp import stdio
    from waha_mcp.cli import event_loop_options

    server.middleware[:] = [step for step in server.middleware if not isinstance(step, OpenTelemetryMiddleware)]
    lowlevel = server._lowlevel_server

    async def serve() -> None:
        async with stdio.loop_stdio() as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())

    anyio.run(serve, backend_options=event_loop_options())


def http(server: MCPServer, port: int, as_waha_mcp: bool) -> None:
    import uvicorn

    options: dict[str, object] = {"log_level": "warning"}
    if as_waha_mcp:
        from mcp.server._otel import OpenTelemetryMiddleware

        from waha_mcp.config import load_settings
        from waha_mcp.http_limits import server_limits

        server.middleware[:] = [step for step in server.middleware if not isinstance(step, OpenTelemetryMiddleware)]
        options |= server_limits(load_settings(WAHA_BASE_URL="http://127.0.0.1:1"))
    json_response = "--json-response" in sys.argv  # one JSON answer per POST instead of an SSE stream
    app = server.streamable_http_app(stateless_http=True, host="127.0.0.1", json_response=json_response)
    uvicorn.run(app, host="127.0.0.1", port=port, **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    result = None
    if "--result" in sys.argv:  # the trivial tool returns this JSON object (a real tool's result, for its size)
        from pathlib import Path

        result = json.loads(Path(sys.argv[sys.argv.index("--result") + 1]).read_text())
    # --fetch URL: the tool GETs URL (the fake WAHA's chat overview) before returning the --result
    fetch = sys.argv[sys.argv.index("--fetch") + 1] if "--fetch" in sys.argv else None
    bare = build(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1, result, fetch)
    if "--http" in sys.argv:
        http(bare, int(sys.argv[sys.argv.index("--http") + 1]), "--floor" in sys.argv)
    elif "--floor" in sys.argv:
        floor(bare)
    else:
        bare.run()
