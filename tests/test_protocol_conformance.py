"""Both MCP protocol generations, on the paths where they may differ.

The other MCP-level tests use the SDK's default mode only. Here each test runs twice: `legacy` (the
initialize handshake, JSON-RPC framing over memory streams, the server's stream loop and lifespan) and `auto`
(2026 discovery, the in-process per-request path, no framing, the lifespan entered by the client). The
slice covers what either path could get wrong: handshake and listing, each kind of result content (JSON with
structured content, an image, an embedded resource), each way a call fails (invalid arguments, a tool-level
failure, a missing tool), and the lifespan closing the WAHA client.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from tests.conftest import CheckedTransport
from tests.contract_plugin import ContractRecorder
from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import Media
from waha_mcp.server import INSTRUCTIONS, WahaMCP
from waha_mcp.tools.registry import all_tools

MODES = ["legacy", "auto"]


class ClosingTransport(CheckedTransport):
    """The checked sandbox transport, remembering whether the WAHA client closed it."""

    closed = False

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


@pytest.fixture
def transport(sandbox: Sandbox, contract: ContractRecorder) -> ClosingTransport:
    return ClosingTransport(sandbox, contract)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def mcp(server: WahaMCP, mode: str) -> AsyncIterator[Client]:
    async with Client(server, mode=mode) as client:
        yield client


def dumped(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def test_each_mode_negotiates_its_own_generation(mcp: Client, mode: str) -> None:
    expected = HANDSHAKE_PROTOCOL_VERSIONS if mode == "legacy" else MODERN_PROTOCOL_VERSIONS
    assert mcp.protocol_version in expected
    assert mcp.server_info is not None and mcp.server_info.name == "waha-mcp"
    assert mcp.instructions == INSTRUCTIONS
    assert mcp.server_capabilities.tools is not None


async def test_both_generations_list_the_same_tools_with_the_same_schemas(server: WahaMCP) -> None:
    listings = {}
    for mode in MODES:
        async with Client(server, mode=mode) as client:
            listed = await client.list_tools()
            assert listed.next_cursor is None
            listings[mode] = [dumped(tool) for tool in listed.tools]
    assert [tool["name"] for tool in listings["auto"]] == [tool["name"] for tool in listings["legacy"]]
    assert listings["auto"] == listings["legacy"]
    # The whole registry, not an empty or truncated page.
    assert {tool["name"] for tool in listings["auto"]} == {spec.name for spec in all_tools()}


async def test_a_successful_call_carries_text_and_structured_content(mcp: Client) -> None:
    result = await call(mcp, "waha_list_sessions")
    listed = data(result)
    assert {s["name"] for s in listed["sessions"]} == {"default", "business"}
    assert [block.type for block in result.content] == ["text"]
    # The text block is the same JSON as the structured content, so either reader sees one answer.
    assert result.structured_content == listed
    assert json.loads(result.content[0].text) == result.structured_content


async def test_invalid_arguments_are_an_error_result_not_a_protocol_error(mcp: Client, sandbox: Sandbox) -> None:
    message = error(await call(mcp, "waha_get_session", {"session": 5}))
    assert message.startswith("waha_get_session: invalid arguments:") and "session" in message
    assert sandbox.requests == []


async def test_a_failure_inside_the_tool_is_an_error_result(mcp: Client) -> None:
    message = error(await call(mcp, "waha_get_session", {"session": "ghost"}))
    assert "'ghost' does not exist" in message
    # The connection is still usable after it.
    assert data(await call(mcp, "waha_get_session"))["name"] == "default"


async def test_a_missing_tool_is_an_error_result(mcp: Client) -> None:
    message = error(await call(mcp, "waha_no_such_tool"))
    assert message == "unknown tool 'waha_no_such_tool': see tools/list"
    assert not (await call(mcp, "waha_list_sessions")).is_error


async def test_a_qr_code_comes_back_as_an_image_with_its_text(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.set_status("business", "SCAN_QR_CODE")
    result = await call(mcp, "waha_get_qr_code", {"session": "business", "raw": True})
    assert not result.is_error
    assert [block.type for block in result.content] == ["image", "text"]
    image = result.content[0]
    assert image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(b"\x89PNG\r\n\x1a\n")
    assert json.loads(result.content[1].text) == result.structured_content
    assert result.structured_content["value"].startswith("2@")


async def test_audio_comes_back_as_an_embedded_resource(mcp: Client, sandbox: Sandbox) -> None:
    world = sandbox.sessions["default"].world
    assert world is not None
    chat = next(cid for cid in world.chats if cid.endswith("@c.us"))
    msg = world.add_message(
        chat, from_me=False, sender=chat, body="", timestamp=world.now(), ack=2, media=Media("audio/ogg", None, 3000)
    )
    result = await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id})
    assert not result.is_error
    assert [block.type for block in result.content] == ["resource", "text"]
    resource = result.content[0].resource
    assert resource.mime_type == "audio/ogg" and str(resource.uri).startswith("waha://")
    blob = base64.b64decode(resource.blob)
    assert blob[:4] == b"OggS"
    assert result.structured_content["bytes"] == len(blob)


async def test_disconnecting_closes_the_waha_client(server: WahaMCP, transport: ClosingTransport, mode: str) -> None:
    async with Client(server, mode=mode) as client:
        assert data(await call(client, "waha_get_session"))["name"] == "default"
        assert not transport.closed
    assert transport.closed
