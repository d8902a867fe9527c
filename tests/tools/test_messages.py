"""Toolset `messages` end to end: an MCP client calls a tool, then the sandbox (or another route) is read."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.client import WAHAClient
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World
from waha_mcp.server import build_server
from waha_mcp.tools.messages import build_vcard
from waha_mcp.tools.registry import REGISTRY, client_view

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
OPUS = b"OggS" + b"\x00" * 24 + b"OpusHead" + b"\x01\x01" + b"\x00" * 30
PLUS_ONLY = "Media attachment's available only in WAHA Plus version"


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    root.mkdir()
    (root / "pic.png").write_bytes(PNG)
    (root / "note.opus").write_bytes(OPUS)
    (root / "vorbis.ogg").write_bytes(b"OggS" + b"\x00" * 24 + b"\x01vorbis" + b"\x00" * 30)
    (root / "big.pdf").write_bytes(b"%PDF" + b"0" * 5000)
    (tmp_path / "secret.txt").write_text("private")
    return root


@pytest.fixture
def settings(files_dir: Path) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_FILES_DIR=str(files_dir),
        WAHA_MCP_MAX_MEDIA_BYTES=4096,
    )


def world(sandbox: Sandbox, session: str = "default") -> World:
    found = sandbox.sessions[session].world
    assert found is not None
    return found


def person(sandbox: Sandbox, n: int = 0) -> str:
    return list(world(sandbox).contacts)[n]


def sent_bodies(sandbox: Sandbox, path: str) -> list[Any]:
    return [r.json for r in sandbox.requests if r.path == path]


async def chat_messages(waha: WAHAClient, chat: str, session: str = "default") -> list[dict[str, Any]]:
    """Read back through the sandbox's chats route, as `waha_get_messages` would."""
    return await waha.call("ChatsController_getChatMessages", session, path={"chatId": chat}, query={"limit": 5})


# --------------------------------------------------------------------------- text


async def test_send_message_is_read_back_in_the_chat(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    phone = chat.removesuffix("@c.us")
    out = data(await call(mcp, "waha_send_message", {"chatId": f"+{phone}", "text": "Hello from the agent"}))
    assert set(out) == {"session", "messageId", "chatId", "time"}
    assert out["session"] == "default" and out["chatId"] == chat
    assert out["messageId"].startswith(f"true_{chat}_") and out["time"].endswith("Z")
    latest = (await chat_messages(waha, chat))[0]
    assert latest["id"] == out["messageId"] and latest["body"] == "Hello from the agent" and latest["fromMe"] is True
    assert sent_bodies(sandbox, "/api/sendText")[-1] == {
        "chatId": chat,
        "text": "Hello from the agent",
        "linkPreview": True,
        "session": "default",
    }


async def test_reply_and_link_preview_off_and_explicit_session(mcp: Client, sandbox: Sandbox) -> None:
    chat = next(iter(world(sandbox, "business").contacts))
    quoted = world(sandbox, "business").chats[chat].messages[-1].id
    args = {"chatId": chat, "text": "see https://x.org", "replyTo": quoted, "linkPreview": False}
    out = data(await call(mcp, "waha_send_message", {**args, "session": "business"}))
    assert out["session"] == "business"
    body = sent_bodies(sandbox, "/api/sendText")[-1]
    assert body["session"] == "business" and body["reply_to"] == quoted and body["linkPreview"] is False
    stored = world(sandbox, "business").find_message(chat, out["messageId"])
    assert stored is not None and stored.reply_to is not None and stored.reply_to.id == quoted


async def test_mentions_are_sent_as_normalised_ids(mcp: Client, sandbox: Sandbox) -> None:
    group = next(iter(world(sandbox, "default").groups))
    args = {"chatId": group, "text": "hi @12135550100", "mentions": ["+1 213 555 0100"]}
    data(await call(mcp, "waha_send_message", args))
    assert sent_bodies(sandbox, "/api/sendText")[-1]["mentions"] == ["12135550100@c.us"]
    assert "mentions" in error(await call(mcp, "waha_send_message", {**args, "mentions": ["../x"]}))


async def test_custom_link_preview_uses_the_url_in_the_text(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    args = {
        "chatId": chat,
        "text": "Our launch: https://example.com/launch.",
        "previewTitle": "Launch",
        "previewDescription": "All the news",
        "previewImageUrl": "https://example.com/og.jpg",
    }
    out = data(await call(mcp, "waha_send_message", args))
    body = sent_bodies(sandbox, "/api/send/link-custom-preview")[-1]
    assert body["preview"] == {
        "url": "https://example.com/launch",
        "title": "Launch",
        "description": "All the news",
        "image": {"url": "https://example.com/og.jpg"},
    }
    stored = world(sandbox).find_message(chat, out["messageId"])
    assert stored is not None and stored.preview["title"] == "Launch"


async def test_button_reply(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    out = data(await call(mcp, "waha_send_message", {"chatId": chat, "text": "Yes please", "buttonId": "yes"}))
    assert sent_bodies(sandbox, "/api/send/buttons/reply")[-1] == {
        "chatId": chat,
        "selectedDisplayText": "Yes please",
        "selectedButtonID": "yes",
        "session": "default",
    }
    assert world(sandbox).find_message(chat, out["messageId"]).button == {"id": "yes", "text": "Yes please"}


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"chatId": "123", "text": "hi"}, "not a WhatsApp id"),
        ({"chatId": "hello@example.com", "text": "hi"}, "not a WhatsApp id"),
        ({"chatId": "12025550100", "text": "   "}, "text is empty"),
        ({"chatId": "12025550100", "text": ""}, "text: String should have at least 1 character"),
        ({"chatId": "12025550100", "text": "x" * 65537}, "text: String should have at most 65536 characters"),
        ({"chatId": "12025550100", "text": "hi", "replyTo": "not an id"}, "replyTo 'not an id' is not a WAHA"),
        ({"chatId": "12025550100", "text": "no url", "previewTitle": "T"}, "needs an http(s) URL in text"),
        (
            {"chatId": "12025550100", "text": "https://a.b", "previewTitle": "T", "linkPreview": False},
            "linkPreview=false contradicts",
        ),
        ({"chatId": "12025550100", "text": "https://a.b", "previewDescription": "d"}, "needs previewTitle"),
        (
            {"chatId": "12025550100", "text": "https://a.b", "previewTitle": "T", "previewImageUrl": "file:///x"},
            "previewImageUrl must be an http(s) URL",
        ),
        ({"chatId": "12025550100", "text": "https://a.b", "buttonId": "y", "previewTitle": "T"}, "buttonId and"),
        ({"chatId": "12025550100", "text": "hi", "reply_to": "x"}, "unknown argument `reply_to`"),
    ],
)
async def test_bad_text_arguments_are_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, args: dict[str, Any], reason: str
) -> None:
    message = error(await call(mcp, "waha_send_message", args))
    assert reason in message and message.startswith("waha_send_message: ")
    assert sandbox.requests == []


async def test_a_misspelt_argument_is_refused_with_a_suggestion_before_any_request(
    mcp: Client, sandbox: Sandbox
) -> None:
    args = {"chatId": person(sandbox), "text": "hi", "sesion": "business"}
    message = error(await call(mcp, "waha_send_message", args))
    assert message == "waha_send_message: unknown argument `sesion`: did you mean `session`?"
    assert sandbox.requests == []


async def test_a_failed_send_is_not_retried(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add("ChattingController_sendText", kind="status", status=503)
    message = error(await call(mcp, "waha_send_message", {"chatId": person(sandbox), "text": "once"}))
    assert "503" in message
    assert [r.path for r in sandbox.requests] == ["/api/sendText"]
    sandbox.faults.clear()
    sandbox.faults.add("ChattingController_sendText", kind="drop")
    error(await call(mcp, "waha_send_message", {"chatId": person(sandbox), "text": "once"}))
    assert [r.path for r in sandbox.requests] == ["/api/sendText", "/api/sendText"]


# --------------------------------------------------------------------------- media


async def test_image_from_url_shows_as_media_in_the_chat(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    args = {"chatId": chat, "file": "https://example.com/photos/cat.jpg", "caption": "Our cat"}
    out = data(await call(mcp, "waha_send_media", args))
    assert out["type"] == "image"
    assert sent_bodies(sandbox, "/api/sendImage")[-1] == {
        "chatId": chat,
        "file": {"mimetype": "image/jpeg", "filename": "cat.jpg", "url": "https://example.com/photos/cat.jpg"},
        "caption": "Our cat",
        "session": "default",
    }
    latest = (await chat_messages(waha, chat))[0]
    assert latest["id"] == out["messageId"] and latest["hasMedia"] is True and latest["body"] == "Our cat"
    assert latest["media"]["mimetype"] == "image/jpeg" and latest["media"]["filename"] == "cat.jpg"
    assert latest["media"]["url"]


async def test_local_file_inside_the_directory_is_sent_as_base64(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_send_media", {"chatId": person(sandbox), "file": "pic.png"}))
    file = sent_bodies(sandbox, "/api/sendImage")[-1]["file"]
    assert file == {"mimetype": "image/png", "filename": "pic.png", "data": base64.b64encode(PNG).decode()}
    assert world(sandbox).find_message(person(sandbox), out["messageId"]).content == PNG


async def test_base64_document_and_forced_type(mcp: Client, sandbox: Sandbox) -> None:
    pdf = base64.b64encode(b"%PDF-1.4 tiny").decode()
    out = data(await call(mcp, "waha_send_media", {"chatId": person(sandbox), "data": pdf, "caption": "Q3"}))
    assert out["type"] == "file"
    file = sent_bodies(sandbox, "/api/sendFile")[-1]["file"]
    assert file["mimetype"] == "application/pdf" and file["filename"] == "file.pdf"
    # An image can be sent as a document (no compression) on request.
    data(await call(mcp, "waha_send_media", {"chatId": person(sandbox), "file": "pic.png", "type": "file"}))
    assert sent_bodies(sandbox, "/api/sendFile")[-1]["file"]["mimetype"] == "image/png"


async def test_video_with_convert_and_note(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    quoted = world(sandbox).chats[chat].messages[-1].id
    args = {"chatId": chat, "file": "https://example.com/clip.mov", "convert": True, "videoNote": True}
    assert data(await call(mcp, "waha_send_media", {**args, "replyTo": quoted}))["type"] == "video"
    assert sent_bodies(sandbox, "/api/sendVideo")[-1] == {
        "chatId": chat,
        "file": {"mimetype": "video/quicktime", "filename": "clip.mov", "url": "https://example.com/clip.mov"},
        "convert": True,
        "asNote": True,
        "reply_to": quoted,
        "session": "default",
    }
    # Not a note and not converted: `convert` is still sent (WAHA requires it), `asNote` is left out.
    data(await call(mcp, "waha_send_media", {"chatId": chat, "file": "https://example.com/clip.mp4"}))
    body = sent_bodies(sandbox, "/api/sendVideo")[-1]
    assert body["convert"] is False and "asNote" not in body


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"file": "../secret.txt"}, "outside WAHA_MCP_FILES_DIR"),
        ({"file": "/etc/passwd"}, "outside WAHA_MCP_FILES_DIR"),
        ({"file": "missing.png"}, "does not exist"),
        ({"file": "big.pdf"}, "over the 4096-byte limit (WAHA_MCP_MAX_MEDIA_BYTES)"),
        ({"data": base64.b64encode(b"0" * 5000).decode()}, "over the 4096-byte limit"),
        ({"data": "***not base64***"}, "not valid base64"),
        ({"file": "ftp://example.com/a.png"}, "only http(s) URLs"),
        ({}, "exactly one of `file`"),
        ({"file": "pic.png", "data": "AAAA"}, "exactly one of `file`"),
        ({"file": "pic.png", "convert": True}, "convert and videoNote apply to videos only"),
        ({"file": "pic.png", "caption": "x" * 65537}, "caption: String should have at most 65536 characters"),
        ({"file": "pic.png", "replyTo": "no id"}, "replyTo 'no id' is not a WAHA message id"),
    ],
)
async def test_bad_media_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, args: dict[str, Any], reason: str
) -> None:
    message = error(await call(mcp, "waha_send_media", {"chatId": person(sandbox), **args}))
    assert reason in message
    assert sandbox.requests == []


async def test_local_files_are_refused_when_no_directory_is_configured(
    sandbox: Sandbox, transport: httpx2.AsyncBaseTransport, files_dir: Path
) -> None:
    server = build_server(
        load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all"), transport=transport
    )
    async with Client(server) as client:
        message = error(
            await call(client, "waha_send_media", {"chatId": "12025550100", "file": str(files_dir / "pic.png")})
        )
    assert "local files are disabled: set WAHA_MCP_FILES_DIR" in message
    assert sandbox.requests == []


async def test_plus_only_media_error_says_so(mcp: Client, sandbox: Sandbox) -> None:
    body = {"statusCode": 422, "message": PLUS_ONLY, "error": "Unprocessable Entity"}
    sandbox.faults.add("ChattingController_sendImage", kind="status", status=422, body=body)
    message = error(await call(mcp, "waha_send_media", {"chatId": person(sandbox), "file": "pic.png"}))
    assert f"{PLUS_ONLY}. This needs WAHA Plus." in message and "POST /api/sendImage" in message


async def test_voice_is_converted_unless_already_opus(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    out = data(await call(mcp, "waha_send_audio", {"chatId": chat, "file": "https://example.com/memo.mp3"}))
    assert out["converted"] is True
    body = sent_bodies(sandbox, "/api/sendVoice")[-1]
    assert body["convert"] is True
    assert body["file"] == {"mimetype": "audio/mpeg", "url": "https://example.com/memo.mp3"}  # no filename for URLs
    out = data(await call(mcp, "waha_send_audio", {"chatId": chat, "file": "note.opus"}))
    assert out["converted"] is False
    file = sent_bodies(sandbox, "/api/sendVoice")[-1]["file"]
    assert file["mimetype"] == "audio/ogg; codecs=opus" and file["filename"] == "note.opus" and file["data"]
    latest = (await chat_messages(waha, chat))[0]
    assert latest["id"] == out["messageId"] and latest["hasMedia"] is True
    assert latest["media"]["mimetype"].startswith("audio/ogg")
    data(await call(mcp, "waha_send_audio", {"chatId": chat, "file": "note.opus", "convert": True}))
    assert sent_bodies(sandbox, "/api/sendVoice")[-1]["convert"] is True
    # Ogg that is not Opus (Vorbis) does not play as a voice note: converted by default.
    assert data(await call(mcp, "waha_send_audio", {"chatId": chat, "file": "vorbis.ogg"}))["converted"] is True
    assert sent_bodies(sandbox, "/api/sendVoice")[-1]["file"]["mimetype"] == "audio/ogg"
    opus_b64 = base64.b64encode(OPUS).decode()
    assert data(await call(mcp, "waha_send_audio", {"chatId": chat, "data": opus_b64}))["converted"] is False
    assert sent_bodies(sandbox, "/api/sendVoice")[-1]["file"]["filename"] == "voice.ogg"


# --------------------------------------------------------------------------- location, contact


async def test_location_is_read_back(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    args = {"chatId": chat, "latitude": 48.8584, "longitude": 2.2945, "title": "Eiffel Tower"}
    out = data(await call(mcp, "waha_send_location", args))
    assert sent_bodies(sandbox, "/api/sendLocation")[-1] == {**args, "session": "default"}
    latest = (await chat_messages(waha, chat))[0]
    assert latest["id"] == out["messageId"]
    assert latest["location"] == {"latitude": "48.8584", "longitude": "2.2945", "live": False, "name": "Eiffel Tower"}
    before = len(sandbox.requests)
    message = error(await call(mcp, "waha_send_location", {**args, "latitude": 91}))
    assert "latitude: Input should be less than or equal to 90" in message
    message = error(await call(mcp, "waha_send_location", {**args, "longitude": -180.5}))
    assert "longitude: Input should be greater than or equal to -180" in message
    assert len(sandbox.requests) == before


def test_vcard_is_version_3_with_waid() -> None:
    card = build_vcard("Jane  Q. Doe", "12025550100", "ACME, Inc.")
    assert card.split("\r\n") == [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Doe;Jane Q.;;;",
        "FN:Jane Q. Doe",
        "ORG:ACME\\, Inc.;",
        "TEL;type=CELL;type=VOICE;waid=12025550100:+12025550100",
        "END:VCARD",
    ]
    assert build_vcard("Cher", "33612345678").split("\r\n")[2:4] == ["N:;Cher;;;", "FN:Cher"]


async def test_contact_card_from_fields_or_raw(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    args = {"chatId": chat, "name": "Jane Doe", "phone": "+44 7700 900123", "organization": "ACME"}
    out = data(await call(mcp, "waha_send_contact", args))
    card = sent_bodies(sandbox, "/api/sendContactVcard")[-1]["contacts"][0]["vcard"]
    assert "TEL;type=CELL;type=VOICE;waid=447700900123:+447700900123" in card
    latest = (await chat_messages(waha, chat))[0]
    assert latest["id"] == out["messageId"] and latest["vCards"] == [card] and latest["body"] == "Jane Doe"
    raw = "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nTEL;waid=15550001111:+15550001111\nEND:VCARD"
    data(await call(mcp, "waha_send_contact", {"chatId": chat, "vcard": raw}))
    assert sent_bodies(sandbox, "/api/sendContactVcard")[-1]["contacts"] == [{"vcard": raw}]
    before = len(sandbox.requests)
    assert "needs name and phone" in error(await call(mcp, "waha_send_contact", {"chatId": chat, "name": "X"}))
    assert "not both" in error(await call(mcp, "waha_send_contact", {"chatId": chat, "vcard": raw, "name": "X"}))
    assert "BEGIN:VCARD" in error(await call(mcp, "waha_send_contact", {"chatId": chat, "vcard": "hello"}))
    bad_phone = {"chatId": chat, "name": "X", "phone": "call me"}
    assert "phone 'call me' must be an international number" in error(await call(mcp, "waha_send_contact", bad_phone))
    assert len(sandbox.requests) == before


# --------------------------------------------------------------------------- polls, lists, events


async def test_poll_and_vote(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    args = {"chatId": chat, "question": "Lunch?", "options": ["Pizza", "Sushi", "Salad"], "multipleAnswers": True}
    poll = data(await call(mcp, "waha_send_poll", args))
    assert sent_bodies(sandbox, "/api/sendPoll")[-1]["poll"] == {
        "name": "Lunch?",
        "options": ["Pizza", "Sushi", "Salad"],
        "multipleAnswers": True,
    }
    args = {"pollMessageId": poll["messageId"], "votes": ["Sushi", "Salad"]}
    vote = data(await call(mcp, "waha_send_poll_vote", args))
    assert sent_bodies(sandbox, "/api/sendPollVote")[-1] == {"chatId": chat, **args, "session": "default"}
    assert vote == {
        "session": "default",
        "pollMessageId": poll["messageId"],
        "chatId": chat,
        "votes": ["Sushi", "Salad"],
    }
    stored = world(sandbox).find_message(chat, poll["messageId"])
    assert stored is not None and stored.votes == {world(sandbox).me_id: ["Sushi", "Salad"]}
    data(await call(mcp, "waha_send_poll_vote", {"pollMessageId": poll["messageId"], "votes": []}))
    assert stored.votes == {} and sent_bodies(sandbox, "/api/sendPollVote")[-1]["votes"] == []
    message = error(await call(mcp, "waha_send_poll_vote", {"pollMessageId": poll["messageId"], "votes": ["Tacos"]}))
    assert "Not options of the poll: Tacos" in message


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (["only one"], "options: List should have at least 2 items"),
        ([f"o{i}" for i in range(13)], "options: List should have at most 12 items"),
        (["same", "same "], "different from each other"),
        (["a", ""], "must not be empty"),
    ],
)
async def test_bad_polls_are_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, options: list[str], reason: str
) -> None:
    message = error(await call(mcp, "waha_send_poll", {"chatId": "12025550100", "question": "Q", "options": options}))
    assert reason in message
    assert sandbox.requests == []


async def test_list_message(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    sections = [
        {"title": "Drinks", "rows": [{"title": "Coffee", "id": "coffee"}, {"title": "Tea", "description": "Green"}]}
    ]
    args = {"chatId": chat, "title": "Menu", "button": "Choose", "sections": sections, "footer": "Thanks"}
    out = data(await call(mcp, "waha_send_list", args))
    assert out["rows"] == ["coffee", "row2"]
    assert sent_bodies(sandbox, "/api/sendList")[-1]["message"] == {
        "title": "Menu",
        "button": "Choose",
        "sections": [
            {
                "title": "Drinks",
                "rows": [
                    {"title": "Coffee", "rowId": "coffee"},
                    {"title": "Tea", "rowId": "row2", "description": "Green"},
                ],
            }
        ],
        "footer": "Thanks",
    }
    assert (await chat_messages(waha, chat))[0]["body"] == "Menu"
    before = len(sandbox.requests)
    too_many = [{"title": "S", "rows": [{"title": f"r{i}"} for i in range(11)]}]
    message = error(await call(mcp, "waha_send_list", {**args, "sections": too_many}))
    assert "sections.0.rows: List should have at most 10 items" in message
    in_all = [{"title": f"S{n}", "rows": [{"title": f"r{n}{i}"} for i in range(6)]} for n in range(2)]
    assert "at most 10 rows in all, got 12" in error(await call(mcp, "waha_send_list", {**args, "sections": in_all}))
    no_rows = [{"title": "S", "rows": []}]
    message = error(await call(mcp, "waha_send_list", {**args, "sections": no_rows}))
    assert "sections.0.rows: List should have at least 1 item" in message
    stray = [{"title": "S", "rows": [{"title": "r", "rowId": "x"}]}]
    message = error(await call(mcp, "waha_send_list", {**args, "sections": stray}))
    assert "sections.0.rows.0.rowId" in message
    dupes = [{"title": "S", "rows": [{"title": "a", "id": "x"}, {"title": "b", "id": "x"}]}]
    assert "row ids must be unique" in error(await call(mcp, "waha_send_list", {**args, "sections": dupes}))
    assert len(sandbox.requests) == before


async def test_event_message(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    args = {
        "chatId": chat,
        "name": "Team dinner",
        "start": "2026-03-01T19:00:00+01:00",
        "end": "2026-03-01T22:00:00+01:00",
        "location": "Luigi's",
    }
    out = data(await call(mcp, "waha_send_event", args))
    assert out["startTime"] == "2026-03-01T18:00:00Z"
    request = sandbox.requests[-1]
    assert request.path == "/api/default/events" and "session" not in request.json
    assert request.json["event"] == {
        "name": "Team dinner",
        "startTime": 1772388000,
        "endTime": 1772398800,
        "location": {"name": "Luigi's"},
    }
    latest = (await chat_messages(waha, chat))[0]
    assert latest["id"] == out["messageId"] and latest["body"] == "Team dinner"
    before = len(sandbox.requests)
    naive = {**args, "start": "2026-03-01T19:00:00", "end": None}
    assert "no UTC offset" in error(await call(mcp, "waha_send_event", naive))
    backwards = {**args, "end": "2026-03-01T18:00:00+01:00"}
    assert "end must be after start" in error(await call(mcp, "waha_send_event", backwards))
    assert len(sandbox.requests) == before


# --------------------------------------------------------------------------- acting on messages


async def test_forward_copies_the_message_to_another_chat(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    src, dst = person(sandbox, 0), person(sandbox, 1)
    original = data(await call(mcp, "waha_send_location", {"chatId": src, "latitude": 1.0, "longitude": 2.0}))
    out = data(await call(mcp, "waha_forward_message", {"chatId": dst, "messageId": original["messageId"]}))
    assert sent_bodies(sandbox, "/api/forwardMessage")[-1] == {
        "chatId": dst,
        "messageId": original["messageId"],
        "session": "default",
    }
    assert out["chatId"] == dst and out["forwardedMessageId"] == original["messageId"]
    latest = (await chat_messages(waha, dst))[0]
    assert latest["id"] == out["messageId"] and latest["location"]["latitude"] == "1.0"
    assert latest["_data"]["message"]["locationMessage"]["contextInfo"]["isForwarded"] is True


async def test_reactions_are_stored_and_removed(mcp: Client, sandbox: Sandbox, waha: WAHAClient) -> None:
    chat = person(sandbox)
    received = world(sandbox).chats[chat].messages[0]  # a seeded message
    data(await call(mcp, "waha_react_to_message", {"messageId": received.id, "reaction": "❤️"}))
    assert sent_bodies(sandbox, "/api/reaction")[-1] == {
        "messageId": received.id,
        "reaction": "❤️",
        "session": "default",
    }
    stored = world(sandbox).find_message(chat, received.id)
    assert stored is not None and stored.reactions == {world(sandbox).me_id: "❤️"}
    removed = data(await call(mcp, "waha_react_to_message", {"messageId": received.id, "reaction": ""}))
    assert removed["removed"] is True and stored.reactions == {}
    assert sent_bodies(sandbox, "/api/reaction")[-1]["reaction"] == ""
    before = len(sandbox.requests)
    assert "one emoji" in error(await call(mcp, "waha_react_to_message", {"messageId": received.id, "reaction": "ok"}))
    assert len(sandbox.requests) == before


async def test_star_reads_the_chat_from_the_message_id(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    target = world(sandbox).chats[chat].messages[-1]
    out = data(await call(mcp, "waha_star_message", {"messageId": target.id}))
    assert out == {"session": "default", "messageId": target.id, "chatId": chat, "starred": True}
    request = sandbox.requests[-1]
    assert (request.method, request.path) == ("PUT", "/api/star")
    assert request.json == {"messageId": target.id, "chatId": chat, "star": True, "session": "default"}
    assert world(sandbox).find_message(chat, target.id).starred is True
    data(await call(mcp, "waha_star_message", {"messageId": target.id, "star": False}))
    assert world(sandbox).find_message(chat, target.id).starred is False
    before = len(sandbox.requests)
    assert "give chatId" in error(await call(mcp, "waha_star_message", {"messageId": "3EB0ABCDEF012345"}))
    assert len(sandbox.requests) == before


async def test_mark_seen_clears_unread_and_marks_received_as_read(mcp: Client, sandbox: Sandbox) -> None:
    chat = person(sandbox)
    incoming = sandbox.inject_inbound("default", chat, "are you there?")
    assert world(sandbox).chats[chat].unread_count >= 1
    out = data(await call(mcp, "waha_mark_seen", {"chatId": chat}))
    assert out == {"session": "default", "chatId": chat, "seen": "all"}
    assert world(sandbox).chats[chat].unread_count == 0
    assert world(sandbox).find_message(chat, incoming["id"]).ack == 3
    out = data(await call(mcp, "waha_mark_seen", {"chatId": chat, "messageIds": [incoming["id"]]}))
    assert out["seen"] == 1 and sent_bodies(sandbox, "/api/sendSeen")[-1]["messageIds"] == [incoming["id"]]


@pytest.mark.parametrize(
    ("tool", "args", "reason"),
    [
        ("waha_mark_seen", {"chatId": "12025550100", "messageIds": ["no id"]}, "messageIds 'no id' is not a WAHA"),
        ("waha_star_message", {"messageId": "true_1@c.us_AB12", "chatId": "nope"}, "chatId 'nope' is not a"),
        ("waha_forward_message", {"chatId": "nope", "messageId": "true_1@c.us_AB12"}, "chatId 'nope' is not a"),
        ("waha_react_to_message", {"messageId": "a b", "reaction": ""}, "messageId 'a b' is not a WAHA"),
        ("waha_send_poll_vote", {"pollMessageId": "x", "votes": []}, "pollMessageId 'x' is not a WAHA"),
    ],
)
async def test_ids_are_checked_by_name_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, Any], reason: str
) -> None:
    assert reason in error(await call(mcp, tool, args))
    assert sandbox.requests == []


async def test_mark_seen_in_a_group_passes_the_sender(mcp: Client, sandbox: Sandbox) -> None:
    group = next(iter(world(sandbox).groups))
    incoming = sandbox.inject_inbound("default", group, "hello group")
    data(await call(mcp, "waha_mark_seen", {"chatId": group, "messageIds": [incoming["id"]]}))
    body = sent_bodies(sandbox, "/api/sendSeen")[-1]
    assert body["participant"] == incoming["id"].split("_")[3] and body["participant"].endswith("@c.us")


async def test_typing_is_presence_in_one_chat(mcp: Client, sandbox: Sandbox) -> None:
    from waha_mcp.sandbox.routes.messaging import typing_chats

    chat = person(sandbox)
    out = data(await call(mcp, "waha_set_presence", {"presence": "typing", "chatId": chat}))
    assert out == {"session": "default", "presence": "typing", "chatId": chat}
    assert chat in typing_chats(world(sandbox))
    data(await call(mcp, "waha_set_presence", {"presence": "paused", "chatId": chat}))
    assert chat not in typing_chats(world(sandbox))
    assert [r.path for r in sandbox.requests] == ["/api/startTyping", "/api/stopTyping"]


VISIBLE = [
    "waha_send_message",
    "waha_send_media",
    "waha_send_audio",
    "waha_send_location",
    "waha_send_contact",
    "waha_send_poll",
    "waha_send_poll_vote",
    "waha_send_list",
    "waha_send_event",
    "waha_forward_message",
    "waha_react_to_message",
    "waha_mark_seen",
]


async def test_messages_tools_are_annotated_as_sends(mcp: Client) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    # Every tool of the toolset is classified here: a new one must be added on purpose.
    assert {name for name in tools if name in REGISTRY and REGISTRY[name].toolset == "messages"} == {
        *VISIBLE,
        "waha_star_message",
        "waha_get_new_message_id",
    }
    assert tools["waha_get_new_message_id"].annotations.read_only_hint is True  # type: ignore[union-attr]
    for name in VISIBLE:
        assert client_view(tools[name].annotations) == (False, False, False, True), name
        assert len(tools[name].description or "") <= 70, name
    # A star is seen only by this account: a local, repeatable change.
    assert client_view(tools["waha_star_message"].annotations) == (False, False, True, False)
    sends = {name for name in VISIBLE if REGISTRY[name].pacing == "send"}
    assert sends == set(VISIBLE) - {"waha_mark_seen"}  # a receipt is not paced (tests/safety/test_pacing_reach.py)


async def test_ids_and_bounds_are_in_the_schema(mcp: Client) -> None:
    tools = {t.name: t.input_schema for t in (await mcp.list_tools()).tools}
    message = tools["waha_send_message"]["properties"]
    assert {"replyTo", "linkPreview", "previewTitle", "previewDescription", "previewImageUrl", "buttonId"} <= set(
        message
    )
    mine = [schema for name, schema in tools.items() if REGISTRY[name].toolset == "messages"]
    assert all("_" not in argument for schema in mine for argument in schema["properties"])
    location = tools["waha_send_location"]["properties"]
    assert (location["latitude"]["minimum"], location["latitude"]["maximum"]) == (-90, 90)
    options = tools["waha_send_poll"]["properties"]["options"]
    assert (options["minItems"], options["maxItems"]) == (2, 12)
    section = tools["waha_send_list"]["properties"]["sections"]["items"]
    assert section["required"] == ["title", "rows"]
    assert set(section["properties"]["rows"]["items"]["properties"]) == {"title", "id", "description"}
    assert section["properties"]["rows"]["maxItems"] == 10


async def test_new_message_id_is_fresh_each_time(mcp: Client, sandbox: Sandbox) -> None:
    first = data(await call(mcp, "waha_get_new_message_id"))
    second = data(await call(mcp, "waha_get_new_message_id", {"session": "business"}))
    assert first["session"] == "default" and first["messageId"].startswith("3EB0")
    assert second["messageId"] != first["messageId"] and sandbox.requests[-1].path == "/api/business/new-message-id"


# --------------------------------------------------------------------------- reach-out timelock (error 463)

NEW_PERSON = "15550001234@c.us"  # on WhatsApp, no conversation yet


async def test_a_send_refused_by_the_reachout_timelock_says_until_when(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.timelock("default", seconds=7200)
    ends = sandbox.sessions["default"].reachout["timeEnforcementEnds"]  # type: ignore[index]
    until = datetime.fromtimestamp(ends, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = error(await call(mcp, "waha_send_message", {"chatId": NEW_PERSON, "text": "hello"}))
    assert message.startswith(
        f"session 'default' may not message new contacts until {until} (WhatsApp reach-out limit, error 463); "
        "existing chats still work"
    )
    assert "crashed" not in message  # a 500, but not an outage
    assert [r.path for r in sandbox.requests] == ["/api/sendText", "/api/sessions/default"]  # not retried
    assert NEW_PERSON not in world(sandbox).chats
    # An existing chat still works.
    assert data(await call(mcp, "waha_send_message", {"chatId": person(sandbox), "text": "hi again"}))["messageId"]


async def test_a_reachout_refusal_without_a_known_end_still_says_what_it_is(mcp: Client, sandbox: Sandbox) -> None:
    # A WAHA before 2026.7.2 reports no timelock; its refusal may be a 4xx naming WhatsApp's nack.
    body = {"statusCode": 400, "message": "NackCallerReachoutTimelocked", "error": "Bad Request"}
    sandbox.faults.add("ChattingController_sendText", kind="status", status=400, body=body)
    message = error(await call(mcp, "waha_send_message", {"chatId": NEW_PERSON, "text": "hello"}))
    assert message.startswith(
        "session 'default' may not message new contacts for now (WhatsApp did not say until when) "
        "(WhatsApp reach-out limit, error 463); existing chats still work"
    )


async def test_a_463_inside_an_id_is_not_a_reachout_refusal(mcp: Client, sandbox: Sandbox) -> None:
    body = {"statusCode": 404, "message": "Group '120363000000000463@g.us' not found", "error": "Not Found"}
    sandbox.faults.add("ChattingController_sendText", kind="status", status=404, body=body)
    message = error(await call(mcp, "waha_send_message", {"chatId": "120363000000000463@g.us", "text": "x"}))
    assert "reach-out" not in message and "not found" in message
