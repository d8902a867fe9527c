"""Media and calls: `/api/{session}/media/convert/*`, `/api/{session}/calls/reject`.

Downloading received media is `get_chat_message(..., download_media=True)` then `fetch_file(media.url)`.
"""

from __future__ import annotations

from typing import Any, Literal

from waha_mcp.client._http import Binary, HTTPCore

CONVERTED = {"voice": "audio/ogg", "video": "video/mp4"}


class MediaAPI(HTTPCore):
    async def convert_media(
        self, session: str, kind: Literal["voice", "video"], *, url: str | None = None, data: str | None = None
    ) -> Binary | dict[str, Any]:
        """Voice → OGG/Opus, video → MP4; WAHA answers with the bytes (or JSON `{mimetype, data}`)."""
        body = {"url": url} if url is not None else {"data": data}
        path = self.path("/api/{s}/media/convert/" + kind, s=session)
        return await self.request("POST", path, session=session, json_body=body, accept=CONVERTED[kind])

    async def reject_call(self, session: str, caller: str, call_id: str) -> Any:
        path = self.path("/api/{s}/calls/reject", s=session)
        return await self.request("POST", path, session=session, json_body={"from": caller, "id": call_id})
