"""Pacing's per-chat gap is a person's: their phone id and their `@lid` are one chat (the LID cache knows both)."""

from __future__ import annotations

import time
from pathlib import Path

from mcp import Client

from tests.helpers import call, data
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.app import RecordedRequest
from waha_mcp.server import build_server

SCALE = 0.03  # the gap 0.9 s: a margin above a loaded machine's scheduling noise for the "no gap" check
GAP = 30.0  # seconds, scaled: far above the time a send takes here
PHONE, LID = "12025550118@c.us", "136125136196969@lid"  # Isaac, in the sandbox's world
OTHER_LID = "175594773349967@lid"  # Gabriel


async def test_a_phone_and_its_lid_share_one_gap(sandbox: Sandbox, tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []

    def hook(request: RecordedRequest) -> None:
        if request.path == "/api/sendText":
            seen.append((request.json["chatId"], time.monotonic()))

    sandbox.on_request.append(hook)
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_MCP_STORE=str(tmp_path / "pacing.sqlite3"),
        WAHA_MCP_PACING=f"scale={SCALE},jitter=0,chatGap={GAP},newChatGap=0,maxWait=120",
    )
    async with Client(build_server(settings, transport=sandbox_transport(sandbox))) as mcp:
        for chat in (PHONE, LID, OTHER_LID):
            data(await call(mcp, "waha_send_message", {"chatId": chat, "text": "hi"}))
    (first, at1), (second, at2), (third, at3) = seen
    assert (first, second, third) == (PHONE, LID, OTHER_LID)  # WAHA gets the id as the agent gave it
    assert at2 - at1 >= GAP * SCALE - 0.02  # the same person: the chat gap holds
    assert at3 - at2 < GAP * SCALE  # another person: no chat gap
