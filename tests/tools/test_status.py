"""Toolset `status` end to end: text and media stories, audiences, one status over several calls, delete."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
OPUS = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 40
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 40


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    root.mkdir()
    (root / "sunset.png").write_bytes(PNG)
    (root / "notes.pdf").write_bytes(b"%PDF-1.4 hello")
    return root


@pytest.fixture
def settings(files_dir: Path) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all", WAHA_MCP_FILES_DIR=str(files_dir)
    )


def world(sandbox: Sandbox) -> World:
    w = sandbox.sessions["default"].world
    assert w is not None
    return w


def people(sandbox: Sandbox, n: int) -> list[str]:
    return [c for c in world(sandbox).contacts if c.endswith("@c.us")][:n]


async def test_text_status_to_everyone_then_deleted(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_send_text_status", {"text": "Open today 9-17 🕘", "font": 2}))
    raw = out["messageId"].removeprefix("true_status@broadcast_")
    assert out == {
        "session": "default",
        "messageId": f"true_status@broadcast_{raw}",
        "chatId": "status@broadcast",
        "time": out["time"],
        "type": "text",
        "audience": "all contacts",
    }
    request = sandbox.requests[-1]
    assert (request.method, request.path) == ("POST", "/api/default/status/text")
    assert request.json == {"text": "Open today 9-17 🕘", "backgroundColor": "#38b42f", "font": 2, "linkPreview": True}
    posted = world(sandbox).statuses[raw]
    assert posted.message.body == "Open today 9-17 🕘"
    assert world(sandbox).me_id in posted.audience  # WAHA made the id: the poster sees it too
    # Destructive: the default session does not stand in.
    assert "session" in error(await call(mcp, "waha_delete_status", {"messageId": out["messageId"]}))
    gone = data(await call(mcp, "waha_delete_status", {"messageId": out["messageId"], "session": "default"}))
    assert gone == {"session": "default", "messageId": out["messageId"], "deleted": True, "audience": "all contacts"}
    assert sandbox.requests[-1].path == "/api/default/status/delete"
    assert sandbox.requests[-1].json == {"id": out["messageId"]}
    assert raw not in world(sandbox).statuses


async def test_one_status_over_several_calls_under_a_fetched_id(mcp: Client, sandbox: Sandbox) -> None:
    me = world(sandbox).me_id
    first, second = people(sandbox, 2), people(sandbox, 4)[2:]
    fresh = data(await call(mcp, "waha_new_status_id"))
    assert sandbox.requests[-1].method == "GET" and sandbox.requests[-1].path == "/api/default/status/new-message-id"
    status_id = fresh["messageId"]
    raw = status_id.removeprefix("true_status@broadcast_")
    assert status_id.startswith("true_status@broadcast_") and raw
    args = {"text": "Sale!", "statusMessageId": status_id, "backgroundColor": "#123ABC"}
    one = data(await call(mcp, "waha_send_text_status", {**args, "contacts": [me, *first]}))
    assert one["messageId"] == status_id and one["audience"] == 3
    assert sandbox.requests[-1].json["id"] == raw  # WAHA takes the raw id
    assert sandbox.requests[-1].json["contacts"] == [me, *first]
    two = data(await call(mcp, "waha_send_text_status", {**args, "contacts": second}))
    assert two["messageId"] == status_id and two["audience"] == 2
    assert len(world(sandbox).statuses) == 1  # one status, a wider audience
    assert world(sandbox).statuses[raw].audience == {me, *first, *second}
    # Taken down for some people only: the others still see it.
    out = data(await call(mcp, "waha_delete_status", {"messageId": raw, "contacts": second, "session": "default"}))
    assert out["audience"] == 2 and sandbox.requests[-1].json == {"id": raw, "contacts": second}
    assert world(sandbox).statuses[raw].audience == {me, *first}


async def test_image_status_from_a_file_with_a_caption_to_some_people(mcp: Client, sandbox: Sandbox) -> None:
    who = people(sandbox, 2)
    out = data(await call(mcp, "waha_send_media_status", {"file": "sunset.png", "caption": "Tonight", "contacts": who}))
    assert out["type"] == "image" and out["audience"] == 2 and "converted" not in out
    assert sandbox.requests[-1].path == "/api/default/status/image"
    assert sandbox.requests[-1].json == {
        "file": {"mimetype": "image/png", "filename": "sunset.png", "data": b64(PNG)},
        "caption": "Tonight",
        "contacts": who,
    }
    posted = world(sandbox).statuses[out["messageId"].rsplit("_", 1)[1]]
    assert posted.kind == "image" and posted.message.body == "Tonight"
    assert posted.audience == {*who, world(sandbox).me_id}


async def test_voice_status_is_opus_or_converted(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_send_media_status", {"data": b64(OPUS)}))
    assert (out["type"], out["converted"]) == ("voice", False)
    sent = sandbox.requests[-1]
    assert sent.path == "/api/default/status/voice"
    assert sent.json["file"]["mimetype"] == "audio/ogg; codecs=opus"
    assert sent.json["convert"] is False and sent.json["backgroundColor"] == "#38b42f"
    out = data(await call(mcp, "waha_send_media_status", {"data": b64(MP3), "backgroundColor": "#000000"}))
    assert out["converted"] is True  # MP3 does not play as a voice note: WAHA converts it
    assert sandbox.requests[-1].json["convert"] is True
    assert sandbox.requests[-1].json["backgroundColor"] == "#000000"
    # A URL has no bytes to look at: the name decides; VoiceRemoteFile carries no filename.
    data(await call(mcp, "waha_send_media_status", {"file": "https://example.com/v/note.opus"}))
    assert sandbox.requests[-1].json["file"] == {
        "mimetype": "audio/ogg; codecs=opus",
        "url": "https://example.com/v/note.opus",
    }


async def test_video_status_by_mimetype_or_by_kind(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_send_media_status", {"file": "https://example.com/clip.mp4", "convert": True}))
    assert (out["type"], out["converted"]) == ("video", True)
    assert sandbox.requests[-1].path == "/api/default/status/video"
    assert sandbox.requests[-1].json == {
        "file": {"mimetype": "video/mp4", "filename": "clip.mp4", "url": "https://example.com/clip.mp4"},
        "convert": True,
    }
    # Bytes nothing recognises, declared a video by `kind`.
    data(await call(mcp, "waha_send_media_status", {"data": b64(b"\x01\x02" * 20), "kind": "video"}))
    assert sandbox.requests[-1].path == "/api/default/status/video"
    assert sandbox.requests[-1].json["file"]["mimetype"] == "video/mp4"
    data(await call(mcp, "waha_send_media_status", {"data": b64(MP4), "caption": "Look"}))
    assert sandbox.requests[-1].json["caption"] == "Look"


async def test_a_status_post_is_an_own_message_to_status_broadcast(mcp: Client, sandbox: Sandbox) -> None:
    data(await call(mcp, "waha_send_text_status", {"text": "Hello"}))
    events = [(e["event"], e["payload"]) for e in sandbox.events()]
    assert [name for name, _ in events] == ["message.any"]  # never `message`: that is for others' messages
    payload = events[0][1]
    assert isinstance(payload, dict)
    assert (payload["from"], payload["fromMe"], payload["body"]) == ("status@broadcast", True, "Hello")


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("waha_send_text_status", {"text": "   "}, "text is empty"),
        ("waha_send_text_status", {"text": "x", "font": 11}, "font"),
        ("waha_send_text_status", {"text": "x", "backgroundColor": "green"}, "backgroundColor"),
        ("waha_send_text_status", {"text": "x", "contacts": []}, "contacts"),
        ("waha_send_text_status", {"text": "x", "contacts": ["120363000000000001@g.us"]}, "contacts are people"),
        ("waha_send_text_status", {"text": "x", "statusMessageId": "3EB0ABCDEF12"}, "give contacts"),
        (
            "waha_send_text_status",
            {"text": "x", "contacts": ["15550001111"], "statusMessageId": "true_123@c.us_3EB0ABCDEF12"},
            "not one of your statuses",
        ),
        ("waha_send_media_status", {}, "give exactly one of"),
        ("waha_send_media_status", {"file": "notes.pdf"}, "not application/pdf"),
        ("waha_send_media_status", {"file": "../secret.png"}, "outside WAHA_MCP_FILES_DIR"),
        ("waha_send_media_status", {"data": b64(OPUS), "caption": "hi"}, "no caption"),
        ("waha_send_media_status", {"file": "sunset.png", "backgroundColor": "#000000"}, "voice status only"),
        ("waha_send_media_status", {"file": "sunset.png", "convert": True}, "voice and video only"),
        ("waha_delete_status", {"messageId": "false_status@broadcast_3EB0ABCDEF12", "session": "default"}, "own"),
        ("waha_delete_status", {"messageId": "not an id", "session": "default"}, "messageId"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, object], needle: str
) -> None:
    assert needle in error(await call(mcp, tool, args))
    assert sandbox.requests == []
