"""Server information: `/ping`, `/api/server/*` (not session-scoped)."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore


class ServerAPI(HTTPCore):
    async def ping(self) -> Any:
        return await self.request("GET", "/ping")

    async def get_version(self) -> dict[str, Any]:
        return await self.request("GET", "/api/server/version")

    async def get_server_status(self) -> dict[str, Any]:
        return await self.request("GET", "/api/server/status")

    async def get_environment(self, all: bool = False) -> dict[str, Any]:
        return await self.request("GET", "/api/server/environment", params={"all": all})
