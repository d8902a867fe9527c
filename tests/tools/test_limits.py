"""Size caps every tool obeys: WAHA's answers (WAHA_MCP_MAX_RESPONSE_BYTES) and what a result carries inline
(WAHA_MCP_MAX_INLINE_BYTES): QR code, screenshot, pictures, downloaded images."""

from __future__ import annotations

from typing import Any

import httpx2
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.world import Media, Message, World
from waha_mcp.server import WahaMCP, build_server


class BigQR(httpx2.AsyncBaseTransport):
    """The sandbox, except that the QR image is a 4 KB PNG (a real phone-sized QR is bigger than ours)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._inner = sandbox_transport(sandbox)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/auth/qr") and request.url.params.get("format") == "image":
            return httpx2.Response(200, content=b"\x89PNG" + b"\0" * 4092, headers={"content-type": "image/png"})
        return await self._inner.handle_async_request(request)


def server_with(sandbox: Sandbox, **env: Any) -> WahaMCP:
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all", **env)
    return build_server(settings, transport=BigQR(sandbox))


def world(sandbox: Sandbox) -> World:
    w = sandbox.sessions["default"].world
    assert w is not None
    return w


def image(sandbox: Sandbox, size: int) -> Message:
    w = world(sandbox)
    chat = next(cid for cid in w.chats if cid.endswith("@c.us"))
    media = Media("image/png", None, size)
    return w.add_message(chat, from_me=False, sender=chat, body="", timestamp=w.now(), ack=2, media=media)


async def test_a_waha_answer_over_the_cap_is_a_clear_error(sandbox: Sandbox) -> None:
    huge = [{"name": f"s{i}", "status": "WORKING", "config": {}} for i in range(20000)]
    sandbox.faults.add("SessionsController_list", kind="status", status=200, body=huge, times=1)
    async with Client(server_with(sandbox, WAHA_MCP_MAX_RESPONSE_BYTES="65536")) as mcp:
        message = error(await call(mcp, "waha_list_sessions"))
        assert "GET /api/sessions" in message and "65536" in message
        assert "WAHA_MCP_MAX_RESPONSE_BYTES" in message
        assert data(await call(mcp, "waha_list_sessions"))  # the next answer is small again


async def test_every_inline_image_obeys_the_inline_cap(sandbox: Sandbox) -> None:
    big = image(sandbox, 4096)
    small = image(sandbox, 900)
    async with Client(server_with(sandbox, WAHA_MCP_MAX_INLINE_BYTES="1024")) as mcp:
        sandbox.set_status("business", "SCAN_QR_CODE")
        qr = error(await call(mcp, "waha_get_qr_code", {"session": "business"}))
        assert "the image is 4096 bytes" in qr and "1024" in qr and "WAHA_MCP_MAX_INLINE_BYTES" in qr
        url = f"http://sandbox/api/files/default/{big.id}.png"
        big.media.downloaded_at = 1e18
        sandbox.faults.add("ChatsController_getChatPicture", kind="status", status=200, body={"url": url}, times=1)
        picture = error(await call(mcp, "waha_get_chat_picture", {"chatId": big.chat_id}))
        assert "4096 bytes" in picture and "WAHA_MCP_MAX_INLINE_BYTES" in picture
        media = error(await call(mcp, "waha_download_media", {"chatId": big.chat_id, "messageId": big.id}))
        assert "4096 bytes" in media and "WAHA_MCP_MAX_INLINE_BYTES" in media
        ok = await call(mcp, "waha_download_media", {"chatId": small.chat_id, "messageId": small.id})
        assert not ok.is_error and ok.content[0].type == "image"
        shot = await call(mcp, "waha_get_screenshot")  # 159 bytes: under the cap
        assert not shot.is_error and shot.content[0].type == "image"
