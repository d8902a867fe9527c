"""Sandbox routes for chat writes, presence, media files/conversion and calls, straight over HTTP."""

from __future__ import annotations

import base64

import httpx2

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.routes.calls import calls_of, ring
from waha_mcp.sandbox.routes.media import jpeg_of_size, mp4, ogg_opus, set_files_lifetime
from waha_mcp.sandbox.world import Chat, World


def world(sb: Sandbox) -> World:
    w = sb.sessions["default"].world
    assert w is not None
    return w


def person(sb: Sandbox) -> Chat:
    return next(c for c in world(sb).chats.values() if c.id.endswith("@c.us"))


def url(chat: Chat, rest: str = "") -> str:
    return f"/api/default/chats/{chat.id}{rest}"


async def test_read_unread_archive(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    fresh = world(sb).receive_text(chat.id, "new")
    r = await client.post(url(chat, "/messages/read"))
    assert r.status_code == 201 and fresh.id in r.json()["ids"] and chat.unread_count == 0
    assert (await client.post(url(chat, "/unread"))).status_code == 201 and chat.unread_count == -1
    assert (await client.post(url(chat, "/archive"))).json() == {} and chat.archived
    overview = (await client.get("/api/default/chats/overview", params={"ids": chat.id})).json()
    assert overview[0]["_chat"]["archived"] is True and overview[0]["_chat"]["unreadCount"] == -1
    await client.post(url(chat, "/unarchive"))
    assert not chat.archived
    r = await client.post("/api/default/chats/999%40c.us/archive")
    assert r.status_code == 404 and r.json()["statusCode"] == 404


async def test_edit_shows_the_new_body_and_nowebs_edited_message(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    sent = world(sb).send_text(chat.id, "draft")
    r = await client.put(url(chat, f"/messages/{sent.id}"), json={"text": "final"})
    assert r.status_code == 200
    got = (await client.get(url(chat, f"/messages/{sent.id}"))).json()
    assert got["body"] == "final" and "editedMessage" in got["_data"]["message"]
    theirs = next(m for m in chat.messages if not m.from_me and not m.stub)
    r = await client.put(url(chat, f"/messages/{theirs.id}"), json={"text": "hijack"})
    assert r.status_code == 400 and theirs.body != "hijack"
    assert (await client.put(url(chat, f"/messages/{sent.id}"), json={"text": ""})).status_code == 400


async def test_pin_durations_and_unknown_messages(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    msg = chat.messages[0]
    for duration in (86400, 604800, 2592000):
        assert (await client.post(url(chat, f"/messages/{msg.id}/pin"), json={"duration": duration})).status_code == 201
    r = await client.post(url(chat, f"/messages/{msg.id}/pin"), json={"duration": 3600})
    assert r.status_code == 400 and "86400" in r.json()["message"][0]
    assert (await client.post(url(chat, f"/messages/{msg.id}/unpin"))).status_code == 201
    assert msg.pinned_until is None
    r = await client.post(url(chat, "/messages/true_1%40c.us_NOPE/pin"), json={"duration": 86400})
    assert r.status_code == 404


async def test_delete_message_clear_and_delete_chat(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = person(sb)
    msg = chat.messages[-1]
    assert (await client.delete(url(chat, f"/messages/{msg.id}"))).status_code == 200
    assert (await client.get(url(chat, f"/messages/{msg.id}"))).status_code == 404
    assert (await client.delete(url(chat, "/messages"))).status_code == 200 and chat.messages == []
    assert (await client.delete(url(chat))).status_code == 200 and chat.id not in world(sb).chats
    assert (await client.delete(url(chat))).status_code == 404


async def test_presence_rules_and_subscriptions(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.post("/api/default/presence", json={"chatId": "1@c.us", "presence": "online"})
    assert r.status_code == 400 and "global scope" in r.json()["detail"]
    r = await client.post("/api/default/presence", json={"chatId": "", "presence": "typing"})
    assert r.status_code == 400 and "requires 'chatId'" in r.json()["detail"]
    assert (await client.post("/api/default/presence", json={"chatId": "", "presence": "online"})).status_code == 201
    chat = person(sb)
    one = (await client.get(f"/api/default/presence/{chat.id}")).json()
    assert one["id"] == chat.id and one["presences"][0]["participant"] == chat.id
    await client.post("/api/default/presence/2%40c.us/subscribe")
    assert [p["id"] for p in (await client.get("/api/default/presence")).json()] == [chat.id, "2@c.us"]


async def test_files_exist_after_download_until_they_expire(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat, msg = next((c, m) for c in world(sb).chats.values() for m in c.messages if m.media)
    plain = (await client.get(url(chat, f"/messages/{msg.id}"), params={"downloadMedia": "false"})).json()
    assert "media" not in plain
    path = plain["mediaUrl"].removeprefix("http://sandbox")
    assert (await client.get(path)).status_code == 404  # not downloaded yet
    await client.get(url(chat, f"/messages/{msg.id}"), params={"downloadMedia": "true"})
    r = await client.get(path)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and len(r.content) == msg.media.size
    set_files_lifetime(sb, 0)
    assert (await client.get(path)).status_code == 404
    r = await client.post("/__sandbox/default/expire-files", json={"lifetime": None})
    assert r.status_code == 201
    await client.get(url(chat, f"/messages/{msg.id}"))
    assert (await client.get(path)).status_code == 200
    assert sb.requests[-1].path != path  # file fetches are not WAHA routes: never recorded


async def test_convert_answers_bytes_or_base64_json(client: httpx2.AsyncClient) -> None:
    r = await client.post("/api/default/media/convert/voice", json={"url": "https://x/a.mp3"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/ogg") and r.content[:4] == b"OggS"
    r = await client.post(
        "/api/default/media/convert/video", json={"data": "AAAA"}, headers={"Accept": "application/json"}
    )
    assert r.json()["mimetype"] == "video/mp4" and base64.b64decode(r.json()["data"])[4:8] == b"ftyp"
    assert (await client.post("/api/default/media/convert/voice", json={})).status_code == 400
    assert (await client.post("/api/default/media/convert/voice", json={"data": "***"})).status_code == 400


def test_generated_media_bytes_are_well_formed() -> None:
    jpeg = jpeg_of_size(200_000, "x")
    assert len(jpeg) == 200_000 and jpeg[:2] == b"\xff\xd8" and b"\xff\xd9" in jpeg[-5:]
    ogg = ogg_opus(5000, "x")
    assert ogg[:4] == b"OggS" and b"OpusHead" in ogg[:64] and abs(len(ogg) - 5000) < 400
    video = mp4(1000, "x")
    assert video[4:8] == b"ftyp" and len(video) == 1000 and b"moov" in video


async def test_reject_calls(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    call = ring(sb, "default", "12025550100")
    r = await client.post("/api/default/calls/reject", json={"from": "999@c.us", "id": call["id"]})
    assert r.status_code == 400
    r = await client.post("/api/default/calls/reject", json={"from": "12025550100@c.us", "id": call["id"]})
    assert r.status_code == 201 and calls_of(sb, "default")[0].status == "rejected"
    r = await client.post("/api/default/calls/reject", json={"from": "12025550100@c.us", "id": "NOPE"})
    assert r.status_code == 404
    r = await client.post("/__sandbox/default/call", json={"from": "12025550101@c.us"})
    assert r.status_code == 201 and r.json()["from"] == "12025550101@c.us"
