"""`Sandbox.reset()` (and `POST /__sandbox/reset`) bring back the initial world: nothing survives."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox


async def test_a_call_rung_before_a_reset_cannot_be_rejected_after_it(client: httpx2.AsyncClient) -> None:
    r = await client.post("/__sandbox/default/call", json={"from": "12025550100@c.us"})
    call = {"id": r.json()["id"], "from": "12025550100@c.us"}
    assert (await client.post("/__sandbox/reset")).status_code == 201
    r = await client.post("/api/default/calls/reject", json=call)
    assert r.status_code == 404 and call["id"] in r.json()["message"]


async def test_the_files_lifetime_goes_back_to_never_expiring(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    await client.post("/__sandbox/default/expire-files", json={"lifetime": 0})
    sb.reset()
    world = sb.sessions["default"].world
    assert world is not None
    chat, msg = next((c, m) for c in world.chats.values() for m in c.messages if m.media)
    downloaded = await client.get(f"/api/default/chats/{chat.id}/messages/{msg.id}", params={"downloadMedia": "true"})
    path = downloaded.json()["media"]["url"].removeprefix("http://sandbox")
    assert (await client.get(path)).status_code == 200


async def test_presence_subscriptions_and_typing_are_forgotten(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    await client.post("/api/default/presence/12025550100%40c.us/subscribe")
    await client.post("/api/startTyping", json={"session": "default", "chatId": "12025550100@c.us"})
    await client.post("/api/default/presence", json={"presence": "online"})
    sb.reset()
    assert (await client.get("/api/default/presence")).json() == []
    world = sb.sessions["default"].world
    assert world is not None
    assert world.presence.typing == set() and world.presence.mine == "offline"


async def test_sessions_created_or_changed_are_back_to_the_seed(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    await client.post("/api/sessions", json={"name": "extra"})
    await client.post("/api/sessions/default/stop")
    await client.post("/__sandbox/reset")
    names = [s["name"] for s in (await client.get("/api/sessions", params={"all": "true"})).json()]
    assert names == ["default", "business"]
    assert (await client.get("/api/sessions/default")).json()["status"] == "WORKING"
