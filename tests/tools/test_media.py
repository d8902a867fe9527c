"""Toolset `media` end to end: downloads through WAHA's file server, conversion, call rejection."""

from __future__ import annotations

import base64
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
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", **env)
    return build_server(settings, transport=sandbox_transport(sandbox))


async def test_an_image_comes_back_as_image_content(mcp: Client, sandbox: Sandbox) -> None:
    msg = image_message(sandbox)
    result = await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id})
    assert not result.is_error
    image = result.content[0]
    assert image.type == "image" and image.mime_type == "image/jpeg"
    raw = base64.b64decode(image.data)
    assert raw[:2] == b"\xff\xd8" and raw[-2:] in (b"\xff\xd9", b"\x00\x00", b"\xd9\x00") and len(raw) == msg.media.size
    assert result.structured_content == {"message": msg.id, "mimetype": "image/jpeg", "bytes": msg.media.size}
    fetched = [r for r in sandbox.requests if r.path.startswith("/api/")]
    assert fetched[-1].query["downloadMedia"] == ["true"]


async def test_audio_comes_back_as_an_embedded_resource(mcp: Client, sandbox: Sandbox) -> None:
    msg = received(sandbox, "audio/ogg; codecs=opus", 3000)
    result = await call(mcp, "waha_download_media", {"chatId": msg.chat_id, "messageId": msg.id})
    assert not result.is_error
    resource = result.content[0]
    assert resource.type == "resource" and resource.resource.mime_type == "audio/ogg"
    assert base64.b64decode(resource.resource.blob)[:4] == b"OggS"
    assert result.structured_content["mimetype"] == "audio/ogg"


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
    assert "WAHA_MCP_FILES_DIR" in message


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
    out = data(await call(mcp, "waha_reject_call", {"call_id": incoming["id"], "caller": "12025550100"}))
    assert out == {"call": incoming["id"], "rejected": True}
    assert sandbox.requests[-1].json == {"from": "12025550100@c.us", "id": incoming["id"]}
    unknown = error(await call(mcp, "waha_reject_call", {"call_id": "ABCDEF0123", "caller": "12025550100"}))
    assert "404" in unknown and "not found" in unknown


async def test_bad_call_ids_are_refused_before_any_request(mcp: Client, sandbox: Sandbox) -> None:
    assert "call_id" in error(await call(mcp, "waha_reject_call", {"call_id": "x", "caller": "12025550100"}))
    assert "caller" in error(await call(mcp, "waha_reject_call", {"call_id": "ABCDEF01", "caller": "me"}))
    assert sandbox.requests == []
