"""The in-memory world: seed data, and what one route writes another reads."""

from __future__ import annotations

import re
from typing import Any

import httpx2

from waha_mcp.sandbox import Sandbox, sandbox_transport

MSG_ID = re.compile(r"^(true|false)_[^_]+@(c\.us|g\.us|lid)_[0-9A-F]{20}(_\d+@(c\.us|lid))?$")


async def chats(client: httpx2.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/api/default/chats", params=params)
    assert r.status_code == 200
    return r.json()


async def test_seed_is_deterministic_and_realistic(client: httpx2.AsyncClient) -> None:
    first = await chats(client)
    assert len(first) == 7 and sum(c["isGroup"] for c in first) == 2
    # One direct chat is keyed by the person's LID and has no name (WhatsApp hides the number).
    [lid_chat] = [c for c in first if c["id"].endswith("@lid")]
    assert lid_chat["name"] is None
    pn = (await client.get(f"/api/default/lids/{lid_chat['id']}")).json()["pn"]
    assert pn.endswith("@c.us")

    def message_ids(sandbox: Sandbox) -> list[str]:
        world = sandbox.sessions["default"].world
        assert world is not None
        return [m.id for chat in world.chats.values() for m in chat.messages]

    assert message_ids(Sandbox(seed=0)) == message_ids(Sandbox(seed=0))
    assert set(message_ids(Sandbox(seed=0))) == {
        m["id"]
        for c in first
        for m in (await client.get(f"/api/default/chats/{c['id']}/messages", params={"limit": 100})).json()
    }
    assert set(message_ids(Sandbox(seed=1))).isdisjoint(message_ids(Sandbox(seed=0)))

    contacts = (await client.get("/api/contacts/all", params={"session": "default"})).json()
    assert len(contacts) >= 5 and all(c["id"].endswith("@c.us") for c in contacts)

    for chat in first:
        msgs = (await client.get(f"/api/default/chats/{chat['id']}/messages", params={"limit": 100})).json()
        assert 5 <= len(msgs) <= 10
        assert all(MSG_ID.match(m["id"]) for m in msgs), [m["id"] for m in msgs]
        assert [m["timestamp"] for m in msgs] == sorted((m["timestamp"] for m in msgs), reverse=True)
        if chat["isGroup"]:
            received = [m for m in msgs if not m["fromMe"]]
            assert all(m["id"].endswith("_" + m["author"]) for m in received)
        assert all(len(str(m["_data"])) > 600 for m in msgs)  # bulky raw payload like real WAHA


async def test_send_text_is_read_back_everywhere(client: httpx2.AsyncClient) -> None:
    target = "15550001111@c.us"  # a brand-new chat
    r = await client.post("/api/sendText", json={"session": "default", "chatId": target, "text": "Hello there"})
    assert r.status_code == 201
    sent = r.json()
    assert sent["fromMe"] is True and sent["to"] == target and sent["body"] == "Hello there"
    assert sent["id"].startswith(f"true_{target}_") and sent["source"] == "api"

    msgs = (await client.get(f"/api/default/chats/{target}/messages", params={"limit": 5})).json()
    assert [m["id"] for m in msgs] == [sent["id"]]
    one = (await client.get(f"/api/default/chats/{target}/messages/{sent['id']}")).json()
    assert one["body"] == "Hello there"

    overview = (await client.get("/api/default/chats/overview", params={"limit": 1})).json()
    assert overview[0]["id"] == target and overview[0]["lastMessage"]["id"] == sent["id"]
    assert (await chats(client, sortBy="conversationTimestamp", sortOrder="desc"))[0]["id"] == target
    # the other session's world is separate
    assert (await client.get(f"/api/business/chats/{target}/messages", params={"limit": 5})).json() == []


async def test_reply_to_quotes_the_message(client: httpx2.AsyncClient) -> None:
    chat = (await chats(client))[-1]["id"]
    original = (await client.get(f"/api/default/chats/{chat}/messages", params={"limit": 1})).json()[0]
    r = await client.post(
        "/api/sendText", json={"session": "default", "chatId": chat, "text": "Re", "reply_to": original["id"]}
    )
    assert r.json()["replyTo"]["body"] == original["body"]


async def test_create_group_is_listable_and_has_a_chat(client: httpx2.AsyncClient) -> None:
    r = await client.post(
        "/api/default/groups", json={"name": "Trip 2026", "participants": [{"id": "15550002222@c.us"}]}
    )
    assert r.status_code == 201
    group = r.json()
    assert group["id"].endswith("@g.us") and group["subject"] == "Trip 2026"
    listed = (await client.get("/api/default/groups")).json()
    assert group["id"] in listed and listed[group["id"]]["participants"][1]["id"] == "15550002222@c.us"
    no_members = (await client.get("/api/default/groups", params={"exclude": "participants"})).json()
    assert "participants" not in no_members[group["id"]]
    assert (await client.get(f"/api/default/groups/{group['id']}")).json()["subject"] == "Trip 2026"
    assert group["id"] in [c["id"] for c in await chats(client)]
    r = await client.post("/api/sendText", json={"session": "default", "chatId": group["id"], "text": "hi all"})
    assert r.status_code == 201
    assert (await client.get("/api/default/groups/999@g.us")).status_code == 404


async def test_inbound_message_injection(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    contact = "12025550199@c.us"
    r = await client.post("/__sandbox/default/inbound", json={"chatId": contact, "text": "ping from phone"})
    assert r.status_code == 201
    msg = r.json()
    assert msg["fromMe"] is False and msg["from"] == contact and msg["id"].startswith(f"false_{contact}_")
    latest = (await client.get(f"/api/default/chats/{contact}/messages", params={"limit": 1})).json()[0]
    assert latest["id"] == msg["id"]

    group = next(c["id"] for c in await chats(client) if c["isGroup"])
    injected = sb.inject_inbound("default", group, "hello group")
    assert injected["id"].endswith("_" + injected["participant"]) and injected["author"] == injected["participant"]


async def test_message_filters_and_pagination(client: httpx2.AsyncClient) -> None:
    chat = (await chats(client))[0]["id"]
    url = f"/api/default/chats/{chat}/messages"
    every = (await client.get(url, params={"limit": 100})).json()
    mine = (await client.get(url, params={"limit": 100, "filter.fromMe": "true"})).json()
    assert mine == [m for m in every if m["fromMe"]]
    middle = sorted(m["timestamp"] for m in every)[len(every) // 2]
    older = (await client.get(url, params={"limit": 100, "filter.timestamp.lte": middle})).json()
    assert older and all(m["timestamp"] <= middle for m in older)
    newer = (await client.get(url, params={"limit": 100, "filter.timestamp.gte": middle})).json()
    assert len(older) + len(newer) == len(every) + 1
    read = (await client.get(url, params={"limit": 100, "filter.ack": "READ"})).json()
    assert all(m["ackName"] == "READ" for m in read)
    asc = (await client.get(url, params={"limit": 2, "offset": 1, "sortOrder": "asc"})).json()
    assert [m["id"] for m in asc] == [m["id"] for m in reversed(every)][1:3]
    assert len((await client.get(url)).json()) == min(10, len(every))  # limit defaults to 10


async def test_media_messages_and_download_flag(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    world = sb.sessions["default"].world
    assert world is not None
    chat, msg = next((c, m) for c in world.chats.values() for m in c.messages if m.media)
    with_media = (await client.get(f"/api/default/chats/{chat.id}/messages/{msg.id}")).json()
    assert with_media["hasMedia"] is True and with_media["media"]["mimetype"] == "image/jpeg"
    assert with_media["media"]["url"].startswith("http://sandbox/api/files/default/")
    without = (
        await client.get(f"/api/default/chats/{chat.id}/messages/{msg.id}", params={"downloadMedia": "false"})
    ).json()
    assert "media" not in without and without["hasMedia"] is True


async def test_the_file_server_is_at_api_files_with_the_key_and_unrecorded() -> None:
    sb = Sandbox(api_key="k-123", sessions=1)
    world = sb.sessions["default"].world
    assert world is not None
    msg = next(m for c in world.chats.values() for m in c.messages if m.media)
    headers = {"X-Api-Key": "k-123"}
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as client:
        path = f"/api/default/chats/{msg.chat_id}/messages/{msg.id}"
        url = (await client.get(path, headers=headers)).json()["media"]["url"]
        recorded = len(sb.requests)
        file = f"/api/files/default/{msg.id}.jpeg"
        assert url == f"http://sandbox{file}"
        assert (await client.get(file)).status_code == 401
        got = await client.get(file, headers=headers)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert (await client.get(f"/__sandbox/files/default/{msg.id}.jpeg", headers=headers)).status_code == 404
        assert (await client.get("/api/files/default/nope.jpeg", headers=headers)).status_code == 404
    assert len(sb.requests) == recorded  # not a route of WAHA's document: never recorded


async def test_overview_filters_by_ids_get_and_post(client: httpx2.AsyncClient) -> None:
    ids = [c["id"] for c in await chats(client)][:2]
    got = (await client.get("/api/default/chats/overview", params=[("ids", i) for i in ids])).json()
    assert sorted(c["id"] for c in got) == sorted(ids)
    r = await client.post("/api/default/chats/overview", json={"pagination": {"limit": 5}, "filter": {"ids": ids[:1]}})
    assert r.status_code == 201 and [c["id"] for c in r.json()] == ids[:1]


async def test_contact_lookup(client: httpx2.AsyncClient) -> None:
    contacts = (await client.get("/api/contacts/all", params={"session": "default", "sortBy": "name"})).json()
    names = [c["name"] or c["pushname"] for c in contacts]
    assert names == sorted(names)
    first = contacts[0]
    r = await client.get("/api/contacts", params={"session": "default", "contactId": first["number"]})
    assert r.json()["id"] == first["id"]
    r = await client.get("/api/contacts", params={"session": "default", "contactId": "19999999999"})
    assert (r.status_code, r.content) == (200, b"")
