"""Media and calls: `/api/{session}/media/convert/*`, `/api/{session}/calls/reject`.

Downloading received media is `get_chat_message(..., download_media=True)` then `fetch_file(media.url)`.
"""

from __future__ import annotations

from typing import Any, Literal

from waha_mcp.client._http import Binary, HTTPCore

CONVERT = {
    "voice": ("MediaController_convertVoice", "audio/ogg"),
    "video": ("MediaController_convertVideo", "video/mp4"),
}


class MediaAPI(HTTPCore):
    async def convert_media(
        self, session: str, kind: Literal["voice", "video"], *, url: str | None = None, data: str | None = None
    ) -> Binary | dict[str, Any]:
        """Voice → OGG/Opus, video → MP4; WAHA answers with the bytes (or JSON `{mimetype, data}`)."""
        operation, accept = CONVERT[kind]
        body = {"url": url} if url is not None else {"data": data}
        return await self.call(operation, session, body=body, accept=accept)

    async def reject_call(self, session: str, caller: str, call_id: str) -> Any:
        return await self.call("CallsController_rejectCall", session, body={"from": caller, "id": call_id})
