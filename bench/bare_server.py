"""The cold-start baseline: a bare `MCPServer` over stdio with N trivial tools and nothing else.

python bench/bare_server.py N
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


if __name__ == "__main__":
    build(int(sys.argv[1]) if len(sys.argv) > 1 else 1).run()
