"""Presence: `/api/{session}/presence*` (set, get one or all, subscribe)."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore


class PresenceAPI(HTTPCore):
    async def set_presence(self, session: str, presence: str, chat_id: str | None = None) -> Any:
        """online/offline are account-wide; typing/recording/paused are shown in `chat_id`.

        WAHA refuses a chatId with online/offline (it tests `if (chatId)`), while the OpenAPI document
        marks chatId required: an empty string satisfies both.
        """
        body = {"chatId": chat_id or "", "presence": presence}
        return await self.call("PresenceController_setPresence", session, body=body)

    async def get_presences(self, session: str) -> list[dict[str, Any]]:
        return await self.call("PresenceController_getPresenceAll", session) or []

    async def get_presence(self, session: str, chat_id: str) -> dict[str, Any] | None:
        """Also subscribes to the chat's presence when not yet subscribed."""
        return await self.call("PresenceController_getPresence", session, path={"chatId": chat_id})

    async def subscribe_presence(self, session: str, chat_id: str) -> Any:
        return await self.call("PresenceController_subscribe", session, path={"chatId": chat_id})
