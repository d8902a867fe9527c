"""ChattingAPI request shapes (checked against the document by the `contract` fixture) and no retries."""

from __future__ import annotations

from typing import Any

import pytest

from waha_mcp.client import WAHAClient, WAHAError
from waha_mcp.sandbox import Sandbox

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def _person(sandbox: Sandbox, n: int = 0) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return list(world.contacts)[n]


def _last(sandbox: Sandbox) -> tuple[str, str, Any]:
    record = sandbox.requests[-1]
    return record.method, record.path, record.json


async def test_send_text_puts_the_session_in_the_body(waha: WAHAClient, sandbox: Sandbox) -> None:
    chat = _person(sandbox)
    sent = await waha.send_text("business", chat, "hello", link_preview=False)
    assert sent["body"] == "hello" and sent["id"].startswith(f"true_{chat}_")
    assert _last(sandbox) == (
        "POST",
        "/api/sendText",
        {"chatId": chat, "text": "hello", "linkPreview": False, "session": "business"},
    )


async def test_media_bodies(waha: WAHAClient, sandbox: Sandbox) -> None:
    chat = _person(sandbox)
    image = {"mimetype": "image/png", "filename": "a.png", "data": PNG}
    await waha.send_image("default", chat, image, caption="look")
    assert _last(sandbox) == (
        "POST",
        "/api/sendImage",
        {"chatId": chat, "file": image, "caption": "look", "session": "default"},
    )
    doc = {"mimetype": "application/pdf", "filename": "r.pdf", "url": "https://example.com/r.pdf"}
    await waha.send_file("default", chat, doc)
    assert _last(sandbox)[1:] == ("/api/sendFile", {"chatId": chat, "file": doc, "session": "default"})
    video = {"mimetype": "video/mp4", "filename": "v.mp4", "url": "https://example.com/v.mp4"}
    await waha.send_video("default", chat, video, convert=True, as_note=True)
    assert _last(sandbox)[2] == {"chatId": chat, "file": video, "convert": True, "asNote": True, "session": "default"}
    voice = {"mimetype": "audio/ogg; codecs=opus", "url": "https://example.com/v.opus"}
    await waha.send_voice("default", chat, voice, convert=False)
    assert _last(sandbox)[1:] == (
        "/api/sendVoice",
        {"chatId": chat, "file": voice, "convert": False, "session": "default"},
    )


async def test_star_is_put_on_api_star_with_chat_and_message(waha: WAHAClient, sandbox: Sandbox) -> None:
    chat = _person(sandbox)
    sent = await waha.send_text("default", chat, "keep this")
    assert await waha.set_star("default", chat, sent["id"], True) is None  # 200 with an empty body
    assert _last(sandbox) == (
        "PUT",
        "/api/star",
        {"messageId": sent["id"], "chatId": chat, "star": True, "session": "default"},
    )
    message = sandbox.sessions["default"].world.find_message(chat, sent["id"])
    assert message is not None and message.starred is True


async def test_empty_reaction_is_sent_as_the_empty_string(waha: WAHAClient, sandbox: Sandbox) -> None:
    chat = _person(sandbox)
    sent = await waha.send_text("default", chat, "react to me")
    await waha.set_reaction("default", sent["id"], "🎉")
    await waha.set_reaction("default", sent["id"], "")
    assert _last(sandbox) == ("PUT", "/api/reaction", {"messageId": sent["id"], "reaction": "", "session": "default"})
    message = sandbox.sessions["default"].world.find_message(chat, sent["id"])
    assert message is not None and message.reactions == {}


async def test_event_takes_the_session_in_the_path_only(waha: WAHAClient, sandbox: Sandbox) -> None:
    chat = _person(sandbox)
    sent = await waha.send_event("business", chat, {"name": "Dinner", "startTime": 2063137000})
    method, path, body = _last(sandbox)
    assert (method, path) == ("POST", "/api/business/events")
    assert body == {"chatId": chat, "event": {"name": "Dinner", "startTime": 2063137000}}
    assert sent["body"] == "Dinner" and sent["fromMe"] is True


async def test_other_sends(waha: WAHAClient, sandbox: Sandbox) -> None:
    chat = _person(sandbox)
    await waha.send_location("default", chat, 52.52, 13.405, "Berlin")
    assert _last(sandbox)[1:] == (
        "/api/sendLocation",
        {"chatId": chat, "latitude": 52.52, "longitude": 13.405, "title": "Berlin", "session": "default"},
    )
    await waha.send_contact_vcard("default", chat, [{"vcard": "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD"}])
    assert _last(sandbox)[1] == "/api/sendContactVcard"
    poll = await waha.send_poll("default", chat, "Lunch?", ["Pizza", "Sushi"], multiple_answers=True)
    assert _last(sandbox)[2]["poll"] == {"name": "Lunch?", "options": ["Pizza", "Sushi"], "multipleAnswers": True}
    poll_id = f"true_{chat}_{poll['key']['id']}"
    assert await waha.send_poll_vote("default", chat, poll_id, ["Sushi"]) is not None
    assert _last(sandbox)[2] == {"chatId": chat, "pollMessageId": poll_id, "votes": ["Sushi"], "session": "default"}
    listing = {"title": "Menu", "button": "Open", "sections": [{"title": "S", "rows": [{"title": "A", "rowId": "a"}]}]}
    await waha.send_list("default", chat, listing)
    assert _last(sandbox)[2] == {"chatId": chat, "message": listing, "session": "default"}
    await waha.send_buttons_reply("default", chat, "Yes", "yes-1")
    assert _last(sandbox)[1:] == (
        "/api/send/buttons/reply",
        {"chatId": chat, "selectedDisplayText": "Yes", "selectedButtonID": "yes-1", "session": "default"},
    )
    preview = {"url": "https://example.com", "title": "T", "description": "D"}
    await waha.send_link_custom_preview("default", chat, "see https://example.com", preview)
    assert _last(sandbox)[1] == "/api/send/link-custom-preview"


async def test_forward_seen_and_typing(waha: WAHAClient, sandbox: Sandbox) -> None:
    src, dst = _person(sandbox, 0), _person(sandbox, 1)
    sent = await waha.send_text("default", src, "pass it on")
    forwarded = await waha.forward_message("default", dst, sent["id"])
    assert forwarded["to"] == dst and forwarded["body"] == "pass it on"
    assert _last(sandbox)[2] == {"chatId": dst, "messageId": sent["id"], "session": "default"}
    await waha.send_seen("default", src, message_ids=["false_x@c.us_AAAAAAAAAAAA"])
    assert _last(sandbox)[2] == {"chatId": src, "messageIds": ["false_x@c.us_AAAAAAAAAAAA"], "session": "default"}
    await waha.start_typing("default", src)
    await waha.stop_typing("default", src)
    assert [r.path for r in sandbox.requests[-2:]] == ["/api/startTyping", "/api/stopTyping"]


@pytest.mark.parametrize("kind", ["status", "drop"])
async def test_sends_are_never_retried(waha: WAHAClient, sandbox: Sandbox, kind: str) -> None:
    chat = _person(sandbox)
    sandbox.faults.add("ChattingController_sendImage", kind=kind, status=503)  # type: ignore[arg-type]
    file = {"mimetype": "image/png", "filename": "a.png", "data": PNG}
    with pytest.raises(WAHAError):
        await waha.send_image("default", chat, file)
    assert [r.path for r in sandbox.requests] == ["/api/sendImage"]


async def test_reads_are_retried_but_sends_are_not_under_the_same_fault(waha: WAHAClient, sandbox: Sandbox) -> None:
    sandbox.faults.add(None, kind="status", status=503)
    with pytest.raises(WAHAError):
        await waha.get_session("default")
    reads = len(sandbox.requests)
    assert reads == 3  # GET: first try + 2 retries
    for send in (
        waha.send_text("default", _person(sandbox), "once"),
        waha.set_reaction("default", "true_1@c.us_AAAAAAAAAAAA", "👍"),
        waha.send_event("default", _person(sandbox), {"name": "x", "startTime": 1}),
    ):
        with pytest.raises(WAHAError):
            await send
    assert len(sandbox.requests) == reads + 3
