"""🏷️ Label routes: a Business account's labels and their events; a personal account's refusal."""

from __future__ import annotations

import httpx2

from waha_mcp.openapi.contract import check_webhook
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.routes.labels import BUSINESS_ONLY
from waha_mcp.sandbox.world import World


def world(sb: Sandbox, name: str = "business") -> World:
    w = sb.sessions[name].world
    assert w is not None
    return w


def a_chat(sb: Sandbox) -> str:
    return next(c for c in world(sb).chats if c.endswith("@c.us"))


def logged(sb: Sandbox) -> list[tuple[str, object]]:
    found = sb.events()
    for record in found:
        assert check_webhook(record["event"], record) == []
    return [(e["event"], e["payload"]) for e in found]


async def test_a_business_account_starts_with_whatsapps_default_labels(client: httpx2.AsyncClient) -> None:
    labels = (await client.get("/api/business/labels")).json()
    assert [label["name"] for label in labels] == [
        "New customer",
        "New order",
        "Pending payment",
        "Paid",
        "Order complete",
    ]
    assert labels[0] == {"id": "1", "name": "New customer", "color": 1, "colorHex": "#64c4ff"}


async def test_create_update_delete_announce_label_events(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.post("/api/business/labels", json={"name": " VIP ", "colorHex": "#FF9485"})
    assert r.status_code == 201
    assert r.json() == {"id": "6", "name": "VIP", "color": 0, "colorHex": "#ff9485"}
    r = await client.put("/api/business/labels/6", json={"name": "Gold", "color": 7})
    assert r.status_code == 200 and r.json()["colorHex"] == "#d3a91d" and r.json()["name"] == "Gold"
    chat = a_chat(sb)
    assert (await client.put(f"/api/business/labels/chats/{chat}", json={"labels": [{"id": "6"}]})).status_code == 200
    r = await client.delete("/api/business/labels/6")
    assert r.status_code == 200 and r.json() == {}
    assert "6" not in world(sb).labels and world(sb).chat_labels[chat] == []
    events = logged(sb)
    assert [e for e, _ in events] == [
        "label.upsert",
        "label.upsert",
        "label.chat.added",
        "label.chat.deleted",
        "label.deleted",
    ]
    assert events[2][1] == {
        "labelId": "6",
        "chatId": chat,
        "label": {"id": "6", "name": "Gold", "color": 7, "colorHex": "#d3a91d"},
    }
    assert events[-1][1]["id"] == "6"


async def test_unknown_labels_and_colours(client: httpx2.AsyncClient) -> None:
    r = await client.put("/api/business/labels/99", json={"name": "x"})
    assert r.status_code == 404 and r.json()["message"] == "Label '99' not found"
    assert (await client.delete("/api/business/labels/99")).status_code == 404
    r = await client.post("/api/business/labels", json={"name": "x", "colorHex": "#123456"})
    assert r.status_code == 400 and "colorHex must be one of" in r.json()["message"][0]
    assert (await client.post("/api/business/labels", json={"name": "  "})).status_code == 400
    assert (await client.post("/api/business/labels", json={"colorHex": "#ff9485"})).status_code == 400


async def test_putting_labels_replaces_them_and_skips_unknown_ids(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    chat = a_chat(sb)
    url = f"/api/business/labels/chats/{chat}"
    await client.put(url, json={"labels": [{"id": "1"}, {"id": "2"}, {"id": "42"}]})
    assert [label["id"] for label in (await client.get(url)).json()] == ["1", "2"]
    await client.put(url, json={"labels": [{"id": "2"}, {"id": "3"}]})
    assert [label["id"] for label in (await client.get(url)).json()] == ["2", "3"]
    chats = (await client.get("/api/business/labels/3/chats")).json()
    assert [c["id"] for c in chats] == [chat]
    assert (await client.get("/api/business/labels/1/chats")).json() == []
    events = [(e, p["labelId"]) for e, p in logged(sb)]  # type: ignore[index]
    assert events == [
        ("label.chat.added", "1"),
        ("label.chat.added", "2"),
        ("label.chat.deleted", "1"),
        ("label.chat.added", "3"),
    ]
    # A chat WhatsApp does not have is skipped, without an error.
    assert (
        await client.put("/api/business/labels/chats/19995550000%40c.us", json={"labels": [{"id": "1"}]})
    ).status_code == 200
    assert "19995550000@c.us" not in world(sb).chat_labels


async def test_a_personal_account_has_no_labels_and_cannot_change_any(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    assert (await client.get("/api/default/labels")).json() == []
    chat = next(iter(world(sb, "default").chats))
    assert (await client.get(f"/api/default/labels/chats/{chat}")).json() == []
    assert (await client.get("/api/default/labels/1/chats")).json() == []
    for method, path, body in [
        ("POST", "/api/default/labels", {"name": "VIP"}),
        ("PUT", "/api/default/labels/1", {"name": "VIP"}),
        ("DELETE", "/api/default/labels/1", None),
        ("PUT", f"/api/default/labels/chats/{chat}", {"labels": [{"id": "1"}]}),
    ]:
        r = await client.request(method, path, json=body)
        assert r.status_code == 500, path
        assert r.json()["exception"]["message"] == BUSINESS_ONLY
    assert sb.events() == []
