"""Sandbox channel routes, straight over HTTP: real WAHA answers, empty bodies, 404s and refusals."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import Channel, World

C = "/api/default/channels"


def world(sb: Sandbox) -> World:
    w = sb.sessions["default"].world
    assert w is not None
    return w


def by_role(sb: Sandbox, role: str) -> Channel:
    return next(c for c in world(sb).channels.values() if c.role == role)


async def test_list_filters_by_role_and_shows_only_known_channels(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    listed = (await client.get(C)).json()
    assert {c["role"] for c in listed} == {"OWNER", "SUBSCRIBER"}
    assert all(
        c["id"].endswith("@newsletter") and c["invite"].startswith("https://www.whatsapp.com/channel/") for c in listed
    )
    owners = (await client.get(C, params={"role": "OWNER"})).json()
    assert [c["id"] for c in owners] == [by_role(sb, "OWNER").id]
    assert (await client.get(C, params={"role": "GUEST"})).status_code == 400


async def test_get_by_id_code_or_link_and_unknown(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    channel = by_role(sb, "SUBSCRIBER")
    by_id = (await client.get(f"{C}/{channel.id.replace('@', '%40')}")).json()
    assert by_id["name"] == channel.name and by_id["role"] == "SUBSCRIBER"
    assert by_id["subscribersCount"] == channel.subscribers and by_id["verified"] is channel.verified
    assert (await client.get(f"{C}/{channel.invite_code}")).json() == by_id
    r = await client.get(f"{C}/999%40newsletter")
    assert r.status_code == 404 and r.json()["message"] == "Channel 999@newsletter not found"
    assert (await client.get(f"{C}/0029VaNOSUCHCODE000000")).status_code == 404


async def test_create_then_delete_and_owner_only(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    created = await client.post(C, json={"name": "Launch news", "description": "What we ship"})
    assert created.status_code == 201
    channel = created.json()
    assert channel["role"] == "OWNER" and channel["subscribersCount"] == 0 and channel["picture"] is None
    assert channel["preview"] is None  # null, not absent, without a picture
    assert channel["id"] in world(sb).channels
    r = await client.delete(f"{C}/{channel['id']}")
    assert r.status_code == 200 and r.content == b"" and channel["id"] not in world(sb).channels
    assert (await client.delete(f"{C}/{channel['id']}")).status_code == 404
    # Deleting a channel you only follow: WhatsApp refuses, WAHA answers its 500 shape.
    r = await client.delete(f"{C}/{by_role(sb, 'SUBSCRIBER').id}")
    assert r.status_code == 500 and r.json()["exception"]["message"] == "forbidden"


async def test_follow_unfollow_mute_unmute_answer_empty(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    channel = by_role(sb, "GUEST")
    before = channel.subscribers
    r = await client.post(f"{C}/{channel.id}/follow")
    assert r.status_code == 201 and r.content == b""
    assert channel.role == "SUBSCRIBER" and channel.subscribers == before + 1
    assert channel.id in {c["id"] for c in (await client.get(C)).json()}
    await client.post(f"{C}/{channel.id}/follow")  # again: nothing changes
    assert channel.subscribers == before + 1
    assert (await client.post(f"{C}/{channel.id}/mute")).content == b"" and channel.muted
    await client.post(f"{C}/{channel.id}/unmute")
    assert not channel.muted
    await client.post(f"{C}/{channel.id}/unfollow")
    assert channel.role == "GUEST" and channel.subscribers == before
    r = await client.post(f"{C}/{by_role(sb, 'OWNER').id}/unfollow")
    assert r.status_code == 500 and r.json()["exception"]["message"] == "not-allowed"
    assert (await client.post(f"{C}/1234567%40newsletter/mute")).status_code == 404


async def test_preview_by_code_or_id_newest_last(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    channel = by_role(sb, "GUEST")
    q = {"downloadMedia": "false", "limit": "2"}
    items = (await client.get(f"{C}/{channel.invite_code}/messages/preview", params=q)).json()
    assert [i["message"]["id"] for i in items] == [p.message.id for p in channel.posts[-2:]]
    assert all(i["viewCount"] > 0 and i["message"]["from"] == channel.id for i in items)
    assert items == (await client.get(f"{C}/{channel.id}/messages/preview", params=q)).json()
    r = await client.get(f"{C}/0029VaNOSUCHCODE000000/messages/preview", params=q)
    assert r.status_code == 404


async def test_search_by_view_pages_with_cursors_and_by_text(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    body = {"view": "POPULAR", "countries": [], "categories": [], "limit": 2, "startCursor": ""}
    first = await client.post(f"{C}/search/by-view", json=body)
    assert first.status_code == 200
    page = first.json()
    directory = sorted((c for c in world(sb).channels.values() if c.role == "GUEST"), key=lambda c: -c.subscribers)
    assert [c["id"] for c in page["channels"]] == [c.id for c in directory[:2]]
    assert page["page"]["hasNextPage"] is True and page["page"]["hasPreviousPage"] is False
    second = (await client.post(f"{C}/search/by-view", json=body | {"startCursor": page["page"]["endCursor"]})).json()
    assert [c["id"] for c in second["channels"]] == [c.id for c in directory[2:4]]
    assert second["page"]["hasPreviousPage"] is True
    # Followed channels are not in the directory; countries and categories filter it.
    sports = body | {"countries": ["us"], "categories": ["SPORTS"], "limit": 50}
    found = (await client.post(f"{C}/search/by-view", json=sports)).json()["channels"]
    assert [c["name"] for c in found] == ["Trail Running Club"] and "role" not in found[0]
    bad = await client.post(f"{C}/search/by-view", json=body | {"view": "NOPE"})
    assert bad.status_code == 400
    text = {"text": "football", "categories": [], "limit": 50, "startCursor": ""}
    hits = (await client.post(f"{C}/search/by-text", json=text)).json()
    assert [c["name"] for c in hits["channels"]] == ["Daily Football"] and hits["page"]["endCursor"] is None


async def test_search_lists_need_no_session(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    views = (await client.get(f"{C}/search/views")).json()
    assert {"value": "RECOMMENDED", "name": "Explore"} in views
    assert {"code": "US", "name": "United States"} in (await client.get(f"{C}/search/countries")).json()
    assert {"value": "SPORTS", "name": "Sports"} in (await client.get(f"{C}/search/categories")).json()
    # WAHA reads no session for these three: a stopped one answers the same.
    assert (await client.get("/api/stopped/channels/search/views")).json() == views
