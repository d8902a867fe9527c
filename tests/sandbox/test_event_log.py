"""The event log: what happened, in order, as the webhook envelopes WAHA would send."""

from __future__ import annotations

from typing import Any

import httpx2

from waha_mcp.openapi.contract import check_webhook
from waha_mcp.sandbox import Sandbox

PERSON = "12025550111@c.us"


async def events(client: httpx2.AsyncClient, after: str | None = None) -> list[dict[str, Any]]:
    r = await client.get("/__sandbox/events", params={"after": after} if after else None)
    assert r.status_code == 200
    found: list[dict[str, Any]] = r.json()
    for record in found:
        assert check_webhook(record["event"], record) == []
    return found


def last_id(sb: Sandbox) -> str | None:
    found = sb.events()
    return found[-1]["id"] if found else None


async def test_the_seeded_world_has_no_history(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    assert await events(client) == [] and sb.events() == []


async def test_a_send_is_logged_as_message_any_with_the_rendered_message(client: httpx2.AsyncClient) -> None:
    r = await client.post("/api/sendText", json={"session": "default", "chatId": PERSON, "text": "Hi"})
    logged = await events(client)
    assert [(e["session"], e["event"]) for e in logged] == [("default", "message.any")]
    # The same message, with `from`/`to`/`participant` as NOWEB puts them in events: the chat in `from`, mine
    # too, and no `to`/`participant` outside groups (routes keep both: the documents require them).
    sent = {k: v for k, v in r.json().items() if k not in ("from", "to", "participant")}
    assert logged[0]["payload"] == {"from": PERSON} | sent
    assert logged[0]["id"].startswith("evt_") and len(logged[0]["id"]) == 30


async def test_an_inbound_message_is_logged_as_message_and_message_any(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.post("/__sandbox/default/inbound", json={"chatId": PERSON, "text": "Hello?"})
    logged = await events(client)
    assert [e["event"] for e in logged] == ["message", "message.any"]
    assert all(e["payload"]["id"] == r.json()["id"] and e["payload"]["fromMe"] is False for e in logged)
    assert logged[0]["payload"]["body"] == "Hello?" and logged[0]["me"] == sb.sessions["default"].me


async def test_status_changes_are_logged_in_order(client: httpx2.AsyncClient) -> None:
    await client.post("/api/sessions/business/stop")
    await client.post("/api/sessions/business/start")
    await client.get("/api/sessions/business")  # a later look finishes starting
    logged = await events(client)
    assert [(e["event"], e["session"], e["payload"]["status"]) for e in logged] == [
        ("session.status", "business", "STOPPED"),
        ("session.status", "business", "STARTING"),
        ("session.status", "business", "WORKING"),
    ]
    history = [p["status"] for p in logged[-1]["payload"]["statuses"]]
    assert history == ["WORKING", "STOPPED", "STARTING", "WORKING"]  # the seeded session was WORKING


async def test_after_returns_only_newer_events_also_across_a_reset(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    await client.post("/api/sendText", json={"session": "default", "chatId": PERSON, "text": "one"})
    first = last_id(sb)
    await client.post("/api/sendText", json={"session": "default", "chatId": PERSON, "text": "two"})
    assert [e["payload"]["body"] for e in await events(client, after=first)] == ["two"]
    before_reset = last_id(sb)
    sb.reset()
    assert sb.events() == []
    await client.post("/api/sendText", json={"session": "default", "chatId": PERSON, "text": "three"})
    assert [e["payload"]["body"] for e in await events(client, after=before_reset)] == ["three"]


async def test_message_changes_are_logged_as_their_webhook_events(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sent = (await client.post("/api/sendText", json={"session": "default", "chatId": PERSON, "text": "x"})).json()
    await client.post("/__sandbox/default/inbound", json={"chatId": PERSON, "text": "y"})
    mark = last_id(sb)
    await client.put("/api/reaction", json={"session": "default", "messageId": sent["id"], "reaction": "👍"})
    await client.post("/api/sendSeen", json={"session": "default", "chatId": PERSON})  # no ack: not mine
    await client.post("/__sandbox/default/read", json={"chatId": PERSON})  # the contact reads mine: acks
    await client.put(f"/api/default/chats/{PERSON}/messages/{sent['id']}", json={"text": "x, edited"})
    await client.delete(f"/api/default/chats/{PERSON}/messages/{sent['id']}")
    await client.post(f"/api/default/chats/{PERSON}/archive")
    logged = await events(client, after=mark)
    names = [e["event"] for e in logged]
    assert names[0] == "message.reaction" and logged[0]["payload"]["reaction"] == {
        "text": "👍",
        "messageId": sent["id"],
    }
    acks = [e["payload"] for e in logged if e["event"] == "message.ack"]
    assert acks and all(a["ackName"] == "READ" and a["fromMe"] and a["from"] == PERSON for a in acks)
    edited = next(e["payload"] for e in logged if e["event"] == "message.edited")
    assert edited["body"] == "x, edited" and edited["id"] == sent["id"]
    revoked = next(e["payload"] for e in logged if e["event"] == "message.revoked")
    assert revoked["before"]["id"] == sent["id"] and revoked["after"]["_data"]["message"]["protocolMessage"]
    assert revoked["revokedMessageId"] == sent["id"].split("_")[2]
    assert names[-1] == "chat.archive" and logged[-1]["payload"]["archived"] is True


async def test_calls_polls_presence_and_groups_are_logged(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    call = (await client.post("/__sandbox/default/call", json={"from": PERSON})).json()
    await client.post("/api/default/calls/reject", json={"from": PERSON, "id": call["id"]})
    poll = {"name": "Lunch?", "options": ["yes", "no"], "multipleAnswers": False}
    await client.post("/api/sendPoll", json={"session": "default", "chatId": PERSON, "poll": poll})
    world = sb.sessions["default"].world
    assert world is not None
    poll_id = world.chats[PERSON].messages[-1].id
    vote = {"session": "default", "chatId": PERSON, "pollMessageId": poll_id, "votes": ["yes"]}
    await client.post("/api/sendPollVote", json=vote)
    await client.post(f"/api/default/presence/{PERSON}/subscribe")
    await client.post("/api/default/groups", json={"name": "Team", "participants": [{"id": PERSON}]})
    names = [e["event"] for e in await events(client)]
    assert names == [
        "call.received",
        "call.rejected",
        "message.any",
        "poll.vote",
        "presence.update",
        "group.v2.join",
    ]
