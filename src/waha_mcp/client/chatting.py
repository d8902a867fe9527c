"""Chatting and Events: the `/api/send*` family, reactions, stars, seen, typing, `/api/{session}/events`.

No named methods: every one of these operations is a plain `call(operationId, session, body=...)`, and
the tools (`waha_mcp.tools.messages`) build the bodies. What was logic lives in `call()`: the older
Chatting routes take the session as the body field `session`, events take it in the path, both where the
document says; and sends are never retried (only GETs and `READ_POSTS` are), since a timeout after WAHA
accepted a message would send it twice.
"""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore


class ChattingAPI(HTTPCore):
    async def send_text(self, session: str, chat_id: str, text: str) -> Any:
        """Kept only while tests/client/test_http.py calls it; it goes when that calls `call()` directly."""
        return await self.call("ChattingController_sendText", session, body={"chatId": chat_id, "text": text})
