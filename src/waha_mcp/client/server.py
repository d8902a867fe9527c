"""Server information: `/ping`, `/api/server/*` (not session-scoped)."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore


class ServerAPI(HTTPCore):
    async def ping(self) -> Any:
        return await self.call("PingController_ping")

    async def get_version(self) -> dict[str, Any]:
        return await self.call("ServerController_get")

    async def get_server_status(self) -> dict[str, Any]:
        return await self.call("ServerController_status")

    async def get_environment(self, all: bool = False) -> dict[str, Any]:
        return await self.call("ServerController_environment", query={"all": all})
