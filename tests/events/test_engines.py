"""Every engine's event shapes, from the sandbox playing it, read by the product's summary (events/summary.py).

NOWEB puts the chat in `from` for every message, mine too, and `to`/`participant` only in groups; GOWS the
chat in `from` and, in groups, the sender as `to` and `participant` (null elsewhere); WEBJS me in `from` and
the chat in `to` for my own messages (sandbox/render.py `ends`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx2
import pytest

from waha_mcp.events import summarise
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.profiles import CURRENT

PERSON = "12025550111@c.us"


@pytest.mark.parametrize("engine", ["NOWEB", "WEBJS", "GOWS"])
async def test_acks_own_messages_revokes_and_leaves_name_their_chat(engine: str) -> None:
    sb = Sandbox(sessions=1, profile=dataclasses.replace(CURRENT, name=engine.lower(), engine=engine))
    world = sb.sessions["default"].world
    assert world is not None
    group = next(iter(world.groups.values()))
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as http:
        sent = (await http.post("/api/sendText", json={"session": "default", "chatId": PERSON, "text": "hi"})).json()
        await http.post("/api/sendText", json={"session": "default", "chatId": group.id, "text": "all"})
        await http.post("/__sandbox/default/inbound", json={"chatId": PERSON, "text": "hello back"})
        assert (await http.post("/__sandbox/default/read", json={"chatId": PERSON})).json() == {"read": 1}
        await http.delete(f"/api/default/chats/{PERSON}/messages/{sent['id']}")
        member = next(p.id for p in group.participants if p.role == "participant")
        await http.post(f"/api/default/groups/{group.id}/participants/remove", json={"participants": [{"id": member}]})
    logged = sb.events()
    assert {e["engine"] for e in logged} == {engine}
    lines = [(e["event"], summarise(e)) for e in logged]

    def pick(event: str) -> list[Any]:
        return [s for name, s in lines if name == event]

    raw = [e["payload"] for e in logged if e["event"] == "message.any"]
    shapes = {"NOWEB": ({"from": PERSON}, {"from": group.id, "to": group.id}),
              "GOWS": ({"from": PERSON, "to": None}, {"from": group.id, "to": world.me_id}),
              "WEBJS": ({"from": world.me_id, "to": PERSON}, {"from": world.me_id, "to": group.id})}  # fmt: skip
    for payload, expected in zip(raw[:2], shapes[engine], strict=True):
        assert {k: payload.get(k) for k in expected} == expected and (engine != "NOWEB" or "to" in expected
                                                                       or "to" not in payload)  # fmt: skip
    mine, in_group, received = pick("message.any")
    assert (mine.chat, mine.from_me, mine.message_id) == (PERSON, True, sent["id"])
    assert (in_group.chat, in_group.from_me) == (group.id, True)
    assert (received.chat, received.sender, received.from_me) == (PERSON, PERSON, False)
    (ack,) = pick("message.ack")  # the contact read my one message there; nothing about theirs
    assert (ack.chat, ack.message_id, ack.status, ack.from_me) == (PERSON, sent["id"], "READ", True)
    (revoked,) = pick("message.revoked")
    payload = next(e["payload"] for e in logged if e["event"] == "message.revoked")
    assert payload["before"]["id"] == sent["id"] and payload["after"]["fromMe"] is True
    assert (revoked.chat, revoked.text) == (PERSON, "hi")
    (leave,) = [e["payload"] for e in logged if e["event"] == "group.v2.participants"]
    assert leave["type"] == "leave" and [p["role"] for p in leave["participants"]] == ["left"]
    assert pick("group.v2.participants")[0].chat == group.id
