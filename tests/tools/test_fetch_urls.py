"""URLs WAHA fetches for a tool (media to send, a file to convert, a preview image): no private or local host.

One rule (the `FetchUrl` marker, checked by the pipeline) for every such argument; refused before any request.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import load_settings
from waha_mcp.fetch_urls import fetch_url_refusal
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server
from waha_mcp.tools.registry import all_tools

CHAT = "12025550100"
# Every argument that is a URL WAHA fetches, with the rest of a valid call.
FETCHED: list[tuple[str, str, dict[str, Any]]] = [
    ("waha_send_media", "file", {"chatId": CHAT}),
    ("waha_send_audio", "file", {"chatId": CHAT}),
    ("waha_convert_media", "url", {"kind": "voice"}),
    ("waha_send_message", "previewImageUrl", {"chatId": CHAT, "text": "see https://example.com", "previewTitle": "T"}),
    ("waha_set_group_picture", "file", {"groupId": "120363000000000001@g.us", "session": "default"}),
    ("waha_set_my_profile_picture", "file", {}),
    ("waha_send_media_status", "file", {}),
    ("waha_create_channel", "file", {"name": "News"}),
]
BAD = [
    "http://127.0.0.1:3000/api/sessions",
    "http://localhost/x.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.7/x.jpg",
    "http://2130706433/x.jpg",
    "http://[::ffff:192.168.0.1]/x.jpg",
    "http://waha:3000/api/files/x.jpg",
    "http://metadata.google.internal/computeMetadata/v1/",
]


def test_every_fetched_url_argument_carries_the_marker() -> None:
    marked = {(t.name, name) for t in all_tools() for name, kind in t.markers.items() if kind == "fetch_url"}
    assert marked == {(tool, name) for tool, name, _ in FETCHED}


@pytest.mark.parametrize("url", BAD)
@pytest.mark.parametrize(("tool", "name", "rest"), FETCHED, ids=lambda v: v if isinstance(v, str) else "")
async def test_private_and_local_urls_are_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, name: str, rest: dict[str, Any], url: str
) -> None:
    before = len(sandbox.requests)
    message = error(await call(mcp, tool, {**rest, name: url}))
    assert f"{name} refused" in message and "WAHA_MCP_ALLOW_FETCH_HOSTS" in message, message
    assert len(sandbox.requests) == before


@pytest.mark.parametrize(
    ("url", "allowed"),
    [("https://example.com/a.jpg", ()), ("http://8.8.8.8/a", ()), ("http://10.0.0.7/a", ("10.0.0.7",))],
)
def test_public_or_allowed_hosts_pass(url: str, allowed: tuple[str, ...]) -> None:
    assert fetch_url_refusal(url, allowed) is None


async def test_a_host_listed_in_the_setting_is_allowed(sandbox: Sandbox) -> None:
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_MCP_ALLOW_FETCH_HOSTS="media.lan, 10.0.0.7"
    )
    async with Client(build_server(settings, transport=sandbox_transport(sandbox)), mode="legacy") as mcp:
        for url in ("http://media.lan/cat.jpg", "http://10.0.0.7/cat.jpg"):
            result = await call(mcp, "waha_send_message", {**FETCHED[3][2], "previewImageUrl": url})
            assert data(result)["chatId"].startswith(CHAT)
        refused = error(await call(mcp, "waha_send_message", {**FETCHED[3][2], "previewImageUrl": "http://10.0.0.8/"}))
        assert "refused" in refused
