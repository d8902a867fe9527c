"""Toolset `media` end to end: downloads through WAHA's file server, conversion, call rejection."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.routes.calls import ring
from waha_mcp.sandbox.routes.media import expire_files, set_files_lifetime
from waha_mcp.sandbox.world import Media, Message, World
from waha_mcp.server import WahaMCP, build_server
from waha_mcp.tools.registry import client_view


def world(sandbox: Sandbox) -> World:
    w = sandbox.sessions["default"].world
    assert w is not None
    return w


def image_message(sandbox: Sandbox) -> Message:
    return next(m for c in world(sandbox).chats.values() for m in c.messages if m.media)


def received(sandbox: Sandbox, mimetype: str, size: int, filename: str | None = None) -> Message:
    w = world(sandbox)
    chat = next(cid for cid in w.chats if cid.endswith("@c.us"))
    return w.add_message(
        chat, from_me=False, sender=chat, body="", timestamp=w.now(), ack=2, media=Media(mimetype, filename, size)
    )


def server_with(sandbox: Sandbox, **env: Any) -> WahaMCP:
    """A server with extra settings (files dir, a smaller size cap) over the same sandbox."""
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all", **env)
    return build_server(settings, transport=sandbox_transport(sandbox))


async def test_an_image_comes_back_as_image_content(mcp: Client, sandbox: Sandbox) -> None:
    msg = image_message(sandbox)
    result = await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id})
    assert not result.is_error
    image = result.content[0]
    assert image.type == "image" and image.mime_type == "image/jpeg"
    raw = base64.b64decode(image.data)
    assert raw[:2] == b"\xff\xd8" and raw[-2:] in (b"\xff\xd9", b"\x00\x00", b"\xd9\x00") and len(raw) == msg.media.size
    assert result.structured_content == {
        "session": "default",
        "messageId": msg.id,
        "mimetype": "image/jpeg",
        "bytes": msg.media.size,
    }
    fetched = [r for r in sandbox.requests if r.path.startswith("/api/")]
    assert fetched[-1].query["downloadMedia"] == ["true"]


async def test_audio_comes_back_as_an_embedded_resource(mcp: Client, sandbox: Sandbox) -> None:
    msg = received(sandbox, "audio/ogg; codecs=opus", 3000)
    result = await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id})
    assert not result.is_error
    resource = result.content[0]
    assert resource.type == "resource" and resource.resource.mime_type == "audio/ogg"
    blob = base64.b64decode(resource.resource.blob)
    assert blob[:4] == b"OggS" and str(resource.resource.uri) == f"waha://default/media/{msg.id}"
    info = {"session": "default", "messageId": msg.id, "mimetype": "audio/ogg", "bytes": len(blob)}
    assert result.structured_content == info
    assert json.loads(result.content[1].text) == result.structured_content


async def test_with_a_files_dir_documents_are_saved_there(sandbox: Sandbox, tmp_path: Path) -> None:
    msg = received(sandbox, "application/pdf", 5000, "../../report Q1.pdf")
    big = received(sandbox, "video/mp4", 2 * 1024 * 1024)
    async with Client(server_with(sandbox, WAHA_MCP_FILES_DIR=str(tmp_path / "out"))) as mcp:
        args = {"chatId": msg.chat_id, "messageId": msg.id, "save": True}
        out = data(await call(mcp, "waha_download_media", args))
        saved = Path(out["saved"])
        assert saved.parent == (tmp_path / "out").resolve() and saved.name == "report_Q1.pdf"
        assert saved.stat().st_size == 5000 and out["filename"] == "../../report Q1.pdf"
        out = data(await call(mcp, "waha_download_media", {"chatId": big.chat_id, "messageId": big.id}))
        assert Path(out["saved"]).read_bytes()[4:8] == b"ftyp"


async def test_too_big_to_inline_without_a_files_dir(mcp: Client, sandbox: Sandbox) -> None:
    msg = received(sandbox, "video/mp4", 2 * 1024 * 1024)
    message = error(await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id}))
    assert "too big to return inline" in message and "set WAHA_MCP_FILES_DIR" in message


async def test_read_only_mode_never_saves_even_a_too_big_file(sandbox: Sandbox, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    big = received(sandbox, "video/mp4", 2 * 1024 * 1024)
    small = received(sandbox, "application/pdf", 5000, "report.pdf")
    server = server_with(sandbox, WAHA_READ_ONLY="true", WAHA_MCP_FILES_DIR=str(out_dir))
    async with Client(server) as mcp:
        listed = {t.name: t for t in (await mcp.list_tools()).tools}
        assert "save" not in listed["waha_download_media"].input_schema["properties"]
        message = error(await call(mcp, "waha_download_media", {"chatId": big.chat_id, "messageId": big.id}))
        assert "too big to return inline" in message and "read-only (WAHA_READ_ONLY)" in message
        args = {"chatId": small.chat_id, "messageId": small.id, "save": True}
        assert "read-only" in error(await call(mcp, "waha_download_media", args))
        # Without `save`, a file small enough still comes back inline.
        result = await call(mcp, "waha_download_media", {"chatId": small.chat_id, "messageId": small.id})
        assert not result.is_error and result.content[0].type == "resource"
        assert "saved" not in result.structured_content
    assert list(out_dir.iterdir()) == []


async def test_the_size_cap_is_enforced(sandbox: Sandbox) -> None:
    msg = image_message(sandbox)
    async with Client(server_with(sandbox, WAHA_MCP_MAX_MEDIA_BYTES="2048")) as mcp:
        message = error(await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id}))
    assert "WAHA_MCP_MAX_MEDIA_BYTES" in message and "2048" in message


async def test_a_file_expired_once_is_downloaded_again(mcp: Client, sandbox: Sandbox) -> None:
    msg = image_message(sandbox)
    data_ = await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id})
    assert not data_.is_error
    assert expire_files(sandbox, "default") >= 1
    again = await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id})
    assert not again.is_error and again.content[0].type == "image"


async def test_expired_media_says_so_and_how_to_refetch(mcp: Client, sandbox: Sandbox) -> None:
    set_files_lifetime(sandbox, 0)  # WAHA deletes every file at once: even a fresh download is gone
    msg = image_message(sandbox)
    message = error(await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id}))
    assert "WHATSAPP_FILES_LIFETIME" in message and "call waha_download_media again" in message
    downloads = [r for r in sandbox.requests if r.query.get("downloadMedia") == ["true"]]
    assert len(downloads) == 2  # it asked WAHA to download it again once before giving up


async def test_a_media_url_off_the_waha_host_is_never_fetched(mcp: Client, sandbox: Sandbox) -> None:
    msg = image_message(sandbox)
    rendered = msg.to_waha(world(sandbox).me_id, base_url="http://sandbox")
    rendered["media"]["url"] = "http://169.254.169.254/latest/meta-data/x.jpeg"
    sandbox.faults.add("ChatsController_getChatMessage", kind="status", status=200, body=rendered, times=1)
    message = error(await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id}))
    assert "169.254.169.254" in message and "not fetched" in message
    assert not any("latest" in r.path for r in sandbox.requests)


async def test_a_media_url_to_another_waha_route_is_never_fetched_with_the_key(mcp: Client, sandbox: Sandbox) -> None:
    msg = image_message(sandbox)
    rendered = msg.to_waha(world(sandbox).me_id, base_url="http://sandbox")
    rendered["media"]["url"] = "http://sandbox/api/server/environment"
    sandbox.faults.add("ChatsController_getChatMessage", kind="status", status=200, body=rendered, times=1)
    before = len(sandbox.requests)
    message = error(await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id}))
    assert "/api/server/environment" in message and "not fetched" in message and "/api/files/" in message
    assert [r.path.split("/")[-2] for r in sandbox.requests[before:]] == ["messages"]  # the message, nothing else


async def test_a_message_without_media_is_refused(mcp: Client, sandbox: Sandbox) -> None:
    msg = next(m for c in world(sandbox).chats.values() for m in c.messages if not m.media and not m.stub)
    assert "no media" in error(await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id}))


async def test_convert_voice_from_a_url_and_video_from_a_file(mcp: Client, sandbox: Sandbox, tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "clip.mov").write_bytes(b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 100)
    result = await call(mcp, "waha_convert_media", {"kind": "voice", "url": "https://example.com/a.mp3"})
    assert not result.is_error and result.content[0].resource.mime_type == "audio/ogg"
    assert sandbox.requests[-1].json == {"url": "https://example.com/a.mp3"}
    async with Client(server_with(sandbox, WAHA_MCP_FILES_DIR=str(files))) as saving:
        out = data(await call(saving, "waha_convert_media", {"kind": "video", "path": "clip.mov"}))
    assert out["mimetype"] == "video/mp4" and Path(out["saved"]).name == "clip.mp4"
    assert base64.b64decode(sandbox.requests[-1].json["data"])[4:8] == b"ftyp"


@pytest.mark.parametrize(
    "args",
    [
        {"kind": "voice"},
        {"kind": "voice", "url": "ftp://x/a.mp3"},
        {"kind": "video", "url": "https://x/a", "path": "a"},
    ],
)
async def test_bad_conversions_are_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, args: dict[str, Any]
) -> None:
    error(await call(mcp, "waha_convert_media", args))
    assert sandbox.requests == []


async def test_reject_a_ringing_call(mcp: Client, sandbox: Sandbox) -> None:
    incoming = ring(sandbox, "default", "12025550100@c.us")
    out = data(await call(mcp, "waha_reject_call", {"callId": incoming["id"], "caller": "+1 202 555 0100"}))
    assert out == {"session": "default", "callId": incoming["id"], "rejected": True}
    assert sandbox.requests[-1].json == {"from": "12025550100@c.us", "id": incoming["id"]}
    unknown = error(await call(mcp, "waha_reject_call", {"callId": "ABCDEF0123", "caller": "12025550100"}))
    assert "404" in unknown and "not found" in unknown


async def test_bad_call_ids_are_refused_before_any_request(mcp: Client, sandbox: Sandbox) -> None:
    message = error(await call(mcp, "waha_reject_call", {"callId": "x", "caller": "12025550100"}))
    assert "callId: String should match pattern" in message
    message = error(await call(mcp, "waha_reject_call", {"callId": "ABCDEF01", "caller": "me"}))
    assert "caller 'me' is not a WhatsApp id" in message
    message = error(await call(mcp, "waha_reject_call", {"call_id": "ABCDEF01", "caller": "12025550100"}))
    assert "unknown argument `call_id`: did you mean `callId`?" in message
    assert sandbox.requests == []


async def test_media_tools_are_annotated_by_effect(mcp: Client) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    expected = {  # readOnly, destructive, idempotent, openWorld
        "waha_download_media": (True, False, True, False),
        "waha_convert_media": (False, False, True, False),
        "waha_reject_call": (False, False, False, True),
    }
    for name, hints in expected.items():
        assert client_view(tools[name].annotations) == hints, name
    schema = tools["waha_reject_call"].input_schema
    assert schema["required"] == ["callId", "caller"] and "pattern" in schema["properties"]["callId"]
