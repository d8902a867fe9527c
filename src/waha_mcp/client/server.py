"""Reads about the server as a whole, used below the tools (session resolution, error advice, doctor)."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore


class ServerAPI(HTTPCore):
    async def list_sessions(self, all: bool = False) -> list[dict[str, Any]]:
        return await self.call("SessionsController_list", query={"all": all}) or []

    async def ping(self) -> Any:
        return await self.call("PingController_ping")

    async def get_version(self) -> dict[str, Any]:
        return await self.call("ServerController_get")
