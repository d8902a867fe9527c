"""The baseline: a bare `MCPServer` over stdio with N trivial tools and nothing else.

python bench/bare_server.py N [--floor]

--floor serves the same bare server the way waha-mcp serves itself (its event-loop stdio, uvloop when installed,
no OpenTelemetry middleware): what the SDK alone costs per call on this machine, the floor under waha-mcp's
figures.
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer


def build(count: int) -> MCPServer:
    server = MCPServer("bare")
    for index in range(count):

        async def trivial(session: str | None = None) -> str:
            return "ok"

        server.add_tool(trivial, name=f"bare_tool_{index:03d}", description="A trivial tool.")
    return server


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


if __name__ == "__main__":
    bare = build(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1)
    if "--floor" in sys.argv:
        floor(bare)
    else:
        bare.run()
