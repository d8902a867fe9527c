"""Builds the MCPServer from settings; the lifespan owns the shared WAHA client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from waha_mcp import __version__
from waha_mcp.client import WAHAClient
from waha_mcp.config import Settings
from waha_mcp.errors import one_line, validation_problems
from waha_mcp.tools._common import Deps, error_result
from waha_mcp.tools._runtime import annotations, bind, compact_schema
from waha_mcp.tools.registry import ToolSpec, select_for

log = logging.getLogger("waha_mcp")

INSTRUCTIONS = (
    "WhatsApp through WAHA, across several accounts (sessions). Every tool takes an optional `session`; "
    "without it WAHA_SESSION is used. Start with waha_list_sessions."
)


class WahaMCP(MCPServer[Any]):
    """MCPServer whose argument-validation failures come back as one-line `isError` results."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                return error_result(one_line(f"{name}: invalid arguments: {validation_problems(cause)}"))
            if str(exc).startswith("Unknown tool"):
                return error_result(one_line(f"unknown tool {name[:80]!r}: see tools/list"))
            return error_result(one_line(str(exc)))


def build_server(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    tools: list[ToolSpec] | None = None,
) -> WahaMCP:
    """The MCP server for `settings`; `transport` lets tests and the embedded sandbox stand in for WAHA."""
    client = WAHAClient(
        settings.waha_base_url or "http://sandbox",
        settings.api_key,
        timeout=settings.waha_timeout,
        transport=transport,
    )
    deps = Deps(client=client, settings=settings)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[Deps]:
        try:
            yield deps
        finally:
            await client.aclose()

    server = WahaMCP(
        "waha-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level,
    )  # type: ignore[arg-type]
    for spec in tools if tools is not None else select_for(settings):
        server.add_tool(
            bind(spec, deps),
            name=spec.name,
            description=spec.description,
            annotations=annotations(spec),
            structured_output=False,
        )
        registered = server._tool_manager.get_tool(spec.name)
        if registered is not None:
            registered.parameters = compact_schema(registered.parameters)
    return server
