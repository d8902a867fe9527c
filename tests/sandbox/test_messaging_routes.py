"""Sandbox Chatting/Events routes: validation in WAHA's shapes, world updates, NOWEB-like renders."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.routes.messaging import RichMessage, typing_chats
from waha_mcp.sandbox.world import World

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def world(sb: Sandbox) -> World:
    found = sb.sessions["default"].world
    assert found is not None
    return found


def person(sb: Sandbox, n: int = 0) -> str:
    return list(world(sb).contacts)[n]


async def post(client: httpx2.AsyncClient, path: str, body: dict[str, Any], method: str = "POST") -> httpx2.Response:
    if not path.endswith("/events"):  # the older Chatting routes carry the session in the body
        body = {"session": "default", **body}
    return await client.request(method, path, json=body)


def assert_bad_request(response: httpx2.Response, *fragments: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request" and isinstance(body["message"], list)
    text = " | ".join(body["message"])
    for fragment in fragments:
        assert fragment in text, text


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/api/sendImage", {"chatId": "1@c.us"}, "file should not be empty"),
        ("/api/sendVoice", {"chatId": "1@c.us", "file": {"url": "https://a.b/v.ogg"}}, "convert should not be empty"),
        ("/api/sendLocation", {"chatId": "1@c.us", "latitude": 1}, "longitude should not be empty"),
        ("/api/sendPoll", {"chatId": "1@c.us"}, "poll should not be empty"),
        ("/api/sendPollVote", {"chatId": "1@c.us", "votes": []}, "pollMessageId should not be empty"),
        ("/api/sendContactVcard", {"chatId": "1@c.us"}, "contacts should not be empty"),
        ("/api/forwardMessage", {"chatId": "1@c.us"}, "messageId should not be empty"),
        ("/api/sendSeen", {"messageIds": []}, "chatId should not be empty"),
        ("/api/startTyping", {}, "chatId should not be empty"),
        ("/api/default/events", {"chatId": "1@c.us"}, "event should not be empty"),
    ],
)
async def test_missing_required_fields_are_a_nest_400(
    client: httpx2.AsyncClient, path: str, body: dict[str, Any], fragment: str
) -> None:
    assert_bad_request(await post(client, path, body), fragment)


async def test_reaction_and_star_required_fields(client: httpx2.AsyncClient) -> None:
    assert_bad_request(await post(client, "/api/reaction", {"messageId": "x"}, "PUT"), "reaction should not be empty")
    bad_star = {"messageId": "x", "chatId": "1@c.us"}
    assert_bad_request(await post(client, "/api/star", bad_star, "PUT"), "star should not be empty")


async def test_nested_fields_are_checked(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    both = {"chatId": chat, "file": {"mimetype": "image/png", "url": "https://a.b/x.png", "data": PNG_B64}}
    assert_bad_request(await post(client, "/api/sendImage", both), "either url or data")
    not_b64 = {"chatId": chat, "file": {"mimetype": "image/png", "data": "%%%"}}
    assert_bad_request(await post(client, "/api/sendImage", not_b64), "file.data must be base64 encoded")
    one_option = {"chatId": chat, "poll": {"name": "Q", "options": ["a"], "multipleAnswers": False}}
    assert_bad_request(await post(client, "/api/sendPoll", one_option), "poll.options must contain 2 to 12")
    far = {"chatId": chat, "latitude": 100, "longitude": 0, "title": ""}
    assert_bad_request(await post(client, "/api/sendLocation", far), "latitude must be between -90 and 90")
    rowless = {"chatId": chat, "message": {"title": "T", "button": "B", "sections": [{"title": "S", "rows": []}]}}
    assert_bad_request(await post(client, "/api/sendList", rowless), "message.sections.0.rows should not be empty")
    no_url = {"chatId": chat, "text": "hi", "preview": {"url": "https://a.b", "title": "T", "description": ""}}
    assert_bad_request(await post(client, "/api/send/link-custom-preview", no_url), "text must include the URL")
    no_start = {"chatId": chat, "event": {"name": "E"}}
    assert_bad_request(await post(client, "/api/default/events", no_start), "event.startTime")
    assert all(not isinstance(m, RichMessage) for m in world(sb).chats[chat].messages)


async def test_sends_need_a_working_session_and_a_known_group(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.set_status("business", "STOPPED")
    image = {"chatId": person(sb), "file": {"mimetype": "image/png", "data": PNG_B64}, "session": "business"}
    stopped = await post(client, "/api/sendImage", image)
    assert stopped.status_code == 404 and "Please start it first" in stopped.json()["message"]
    location = {"chatId": "120363000000000000@g.us", "latitude": 0, "longitude": 0, "title": ""}
    unknown_group = await post(client, "/api/sendLocation", location)
    assert unknown_group.status_code == 404 and "not a participant" in unknown_group.json()["message"]
    event = await post(client, "/api/business/events", {"chatId": person(sb), "event": {"name": "E", "startTime": 1}})
    assert event.status_code == 404


async def test_media_send_returns_the_noweb_proto_and_lands_in_the_chat(
    client: httpx2.AsyncClient, sb: Sandbox
) -> None:
    chat = person(sb)
    body = {"chatId": chat, "file": {"mimetype": "application/pdf", "filename": "r.pdf", "data": PNG_B64}}
    response = await post(client, "/api/sendFile", {**body, "caption": "report"})
    assert response.status_code == 201
    sent = response.json()
    assert set(sent) == {"key", "message", "messageTimestamp", "status"}
    assert sent["key"]["fromMe"] is True and sent["message"]["documentMessage"]["fileName"] == "r.pdf"
    listed = (await client.get(f"/api/default/chats/{chat}/messages", params={"limit": 1})).json()[0]
    assert listed["id"] == f"true_{chat}_{sent['key']['id']}"
    assert listed["hasMedia"] is True and listed["body"] == "report"
    assert listed["media"]["mimetype"] == "application/pdf" and listed["media"]["filename"] == "r.pdf"
    overview = (await client.get("/api/default/chats/overview", params={"limit": 1})).json()[0]
    assert overview["id"] == chat and overview["lastMessage"]["id"] == listed["id"]


async def test_voice_renders_as_a_push_to_talk_audio(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    voice = {"chatId": chat, "file": {"mimetype": "audio/mpeg", "url": "https://a.b/m.mp3"}, "convert": True}
    sent = (await post(client, "/api/sendVoice", voice)).json()
    audio = sent["message"]["audioMessage"]
    assert audio["ptt"] is True and audio["mimetype"] == "audio/ogg; codecs=opus"


async def test_poll_votes_are_checked_against_the_poll(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    poll = {"chatId": chat, "poll": {"name": "Q", "options": ["a", "b"], "multipleAnswers": False}}
    sent = (await post(client, "/api/sendPoll", poll)).json()
    poll_id = f"true_{chat}_{sent['key']['id']}"
    assert sent["message"]["pollCreationMessageV3"]["selectableOptionsCount"] == 1
    two = await post(client, "/api/sendPollVote", {"chatId": chat, "pollMessageId": poll_id, "votes": ["a", "b"]})
    assert two.status_code == 422 and "single answer" in two.json()["message"]
    missing = {"chatId": chat, "pollMessageId": f"true_{chat}_FFFFFFFFFFFFFFFFFFFF", "votes": ["a"]}
    assert (await post(client, "/api/sendPollVote", missing)).status_code == 404
    ok = await post(client, "/api/sendPollVote", {"chatId": chat, "pollMessageId": poll_id, "votes": ["b"]})
    assert ok.status_code == 201
    stored = world(sb).find_message(chat, poll_id)
    assert isinstance(stored, RichMessage) and stored.votes == {world(sb).me_id: ["b"]}
    assert stored.raw()["pollUpdates"][0]["selectedOptions"] == ["b"]


async def test_reaction_on_a_seeded_message_promotes_it_and_keeps_quotes(
    client: httpx2.AsyncClient, sb: Sandbox
) -> None:
    chat = person(sb)
    target = world(sb).chats[chat].messages[0]
    reply = world(sb).send_text(chat, "quoting", reply_to=target.id)
    response = await post(client, "/api/reaction", {"messageId": target.id, "reaction": "👍"}, "PUT")
    assert response.status_code == 200
    promoted = world(sb).find_message(chat, target.id)
    assert isinstance(promoted, RichMessage) and promoted is not target
    assert reply.reply_to is promoted and promoted.body == target.body and promoted.timestamp == target.timestamp
    listed = await client.get(f"/api/default/chats/{chat}/messages/{target.id}")
    reactions = listed.json()["_data"]["reactions"]
    assert [r["text"] for r in reactions] == ["👍"]
    # Reacting to an unknown id succeeds like NOWEB (it does not look the message up).
    unknown = await post(client, "/api/reaction", {"messageId": f"true_{chat}_0000", "reaction": "👍"}, "PUT")
    assert unknown.status_code == 200


async def test_forward_of_an_unknown_message_is_404(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    response = await post(client, "/api/forwardMessage", {"chatId": person(sb), "messageId": "true_1@c.us_NOPE"})
    assert response.status_code == 404 and "not found" in response.json()["message"]


async def test_seen_with_ids_marks_only_those(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    first = sb.inject_inbound("default", chat, "one")
    second = sb.inject_inbound("default", chat, "two")
    unread = world(sb).chats[chat].unread_count
    assert (await post(client, "/api/sendSeen", {"chatId": chat, "messageIds": [first["id"]]})).status_code == 201
    assert world(sb).find_message(chat, first["id"]).ack == 3
    assert world(sb).find_message(chat, second["id"]).ack == 2
    assert world(sb).chats[chat].unread_count == unread - 1


async def test_typing_state(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    assert (await post(client, "/api/startTyping", {"chatId": chat})).status_code == 201
    assert typing_chats(world(sb)) == {chat}
    assert (await post(client, "/api/stopTyping", {"chatId": chat.removesuffix("@c.us")})).status_code == 201
    assert typing_chats(world(sb)) == set()
