"""Toolset `channels` end to end, against the sandbox."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from mcp import Client

from tests.contract_plugin import ContractRecorder
from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import Channel, World
from waha_mcp.tools.registry import REGISTRY, Effect

S = {"session": "default"}  # destructive tools never fall back to WAHA_SESSION


def world(sandbox: Sandbox) -> World:
    w = sandbox.sessions["default"].world
    assert w is not None
    return w


def by_role(sandbox: Sandbox, role: str) -> Channel:
    return next(c for c in world(sandbox).channels.values() if c.role == role)


async def test_list_your_channels_and_filter_by_role(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_get_channels"))
    owned, followed = by_role(sandbox, "OWNER"), by_role(sandbox, "SUBSCRIBER")
    assert [(c["id"], c["role"]) for c in out["channels"]] == [(owned.id, "owner"), (followed.id, "subscriber")]
    assert out["channels"][1]["subscribers"] == followed.subscribers and out["channels"][1]["verified"] is True
    assert "verified" not in out["channels"][0]  # false is not worth the bytes
    mine = data(await call(mcp, "waha_get_channels", {"role": "owner"}))
    assert [c["id"] for c in mine["channels"]] == [owned.id] and sandbox.requests[-1].query["role"] == ["OWNER"]


async def test_get_by_id_digits_code_or_link(mcp: Client, sandbox: Sandbox) -> None:
    channel = by_role(sandbox, "GUEST")
    out = data(await call(mcp, "waha_get_channel", {"channelId": channel.id}))
    assert out == {
        "session": "default",
        "channelId": channel.id,
        "name": channel.name,
        "description": channel.description,
        "role": "guest",
        "subscribers": channel.subscribers,
        "verified": channel.verified,
        "link": channel.invite,
        "picture": out["picture"],
    }
    digits = data(await call(mcp, "waha_get_channel", {"channelId": channel.id.removesuffix("@newsletter")}))
    assert digits["channelId"] == channel.id
    # A link is sent as its invite code (the last part), which WAHA looks up.
    by_link = data(await call(mcp, "waha_get_channel", {"channelId": f"{channel.invite}/"}))
    assert by_link == out and sandbox.requests[-1].path.endswith(f"/channels/{channel.invite_code}")
    assert data(await call(mcp, "waha_get_channel", {"channelId": channel.invite_code})) == out
    assert "not found" in error(await call(mcp, "waha_get_channel", {"channelId": "999999@newsletter"}))


async def test_create_with_picture_then_delete(mcp: Client, sandbox: Sandbox) -> None:
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 64).decode()
    out = data(await call(mcp, "waha_create_channel", {"name": "Launch news", "description": "Ships", "data": jpeg}))
    sent = sandbox.requests[-1].json
    assert sent["name"] == "Launch news" and sent["description"] == "Ships"
    assert sent["picture"]["mimetype"] == "image/jpeg" and sent["picture"]["data"] == jpeg
    cid = out["channelId"]
    assert (
        out["created"] is True
        and out["role"] == "owner"
        and out["subscribers"] == 0
        and out["link"].startswith("https://www.whatsapp.com/")
    )
    plain = data(await call(mcp, "waha_create_channel", {"name": "Plain"}))
    assert sandbox.requests[-1].json == {"name": "Plain"} and "picture" not in plain
    assert data(await call(mcp, "waha_delete_channel", {"channelId": cid, **S})) == {
        "session": "default",
        "channelId": cid,
        "deleted": True,
    }
    assert cid not in world(sandbox).channels and sandbox.requests[-1].method == "DELETE"
    # Only the owner deletes: WhatsApp's refusal reaches the model in one line.
    followed = by_role(sandbox, "SUBSCRIBER").id
    assert "forbidden" in error(await call(mcp, "waha_delete_channel", {"channelId": followed, **S}))


async def test_follow_unfollow_mute_unmute(mcp: Client, sandbox: Sandbox) -> None:
    channel = by_role(sandbox, "GUEST")
    one = {"channelId": channel.id}
    assert data(await call(mcp, "waha_follow_channel", one))["following"] is True
    assert channel.role == "SUBSCRIBER" and sandbox.requests[-1].path.endswith("/follow")
    assert data(await call(mcp, "waha_mute_channel", one)) == {"session": "default", **one, "muted": True}
    assert channel.muted
    assert data(await call(mcp, "waha_mute_channel", {**one, "muted": False}))["muted"] is False
    assert not channel.muted and sandbox.requests[-1].path.endswith("/unmute")
    assert data(await call(mcp, "waha_follow_channel", {**one, "follow": False}))["following"] is False
    assert channel.role == "GUEST" and sandbox.requests[-1].path.endswith("/unfollow")
    owned = by_role(sandbox, "OWNER").id
    assert "not-allowed" in error(await call(mcp, "waha_follow_channel", {"channelId": owned, "follow": False}))


async def test_preview_posts_by_code_names_the_channel(mcp: Client, sandbox: Sandbox) -> None:
    channel = max(world(sandbox).channels.values(), key=lambda c: len(c.posts) * (c.role == "GUEST"))
    out = data(await call(mcp, "waha_preview_channel_messages", {"channelId": channel.invite, "limit": 2}))
    assert out["channelId"] == channel.id
    assert sandbox.requests[-1].query == {"downloadMedia": ["false"], "limit": ["2"]}
    latest = channel.posts[-2:]
    assert [p["id"] for p in out["posts"]] == [p.message.id for p in latest]
    assert [p["views"] for p in out["posts"]] == [p.views for p in latest]
    assert out["posts"][-1]["reactions"] == latest[-1].reactions and out["posts"][-1]["text"]
    assert out["posts"][-1]["time"].startswith("20")
    everything = data(await call(mcp, "waha_preview_channel_messages", {"channelId": channel.id}))
    assert len(everything["posts"]) == len(channel.posts)
    assert any(p.get("media", {}).get("type") == "image" for p in everything["posts"])


async def test_search_by_view_pages_and_by_text(mcp: Client, sandbox: Sandbox) -> None:
    first = data(await call(mcp, "waha_search_channels", {"view": "popular", "countries": ["us", "gb"], "limit": 1}))
    assert sandbox.requests[-1].json == {
        "view": "POPULAR",
        "countries": ["US", "GB"],
        "categories": [],
        "limit": 1,
        "startCursor": "",
    }
    assert [c["name"] for c in first["channels"]] == ["Daily Football"] and first["nextCursor"]
    assert "role" not in first["channels"][0]
    second = data(
        await call(
            mcp, "waha_search_channels", {"view": "POPULAR", "countries": ["US", "GB"], "cursor": first["nextCursor"]}
        )
    )
    assert sandbox.requests[-1].json["startCursor"] == first["nextCursor"]
    assert "Daily Football" not in [c["name"] for c in second["channels"]] and second["nextCursor"] is None
    default = data(await call(mcp, "waha_search_channels", {"categories": ["sports"]}))
    assert sandbox.requests[-1].json["view"] == "RECOMMENDED" and sandbox.requests[-1].json["countries"] == ["US"]
    assert [c["name"] for c in default["channels"]] == ["Trail Running Club"]
    text = data(await call(mcp, "waha_search_channels", {"text": " football "}))
    assert sandbox.requests[-1].path.endswith("/search/by-text")
    assert sandbox.requests[-1].json == {"text": "football", "categories": [], "limit": 20, "startCursor": ""}
    assert [c["name"] for c in text["channels"]] == ["Daily Football"] and text["nextCursor"] is None


async def test_search_options_in_one_read(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_get_channel_search_options"))
    assert out["views"]["RECOMMENDED"] == "Explore" and out["countries"]["US"] == "United States"
    assert out["categories"]["SPORTS"] == "Sports"
    assert [r.path.rsplit("/", 1)[-1] for r in sandbox.requests] == ["views", "countries", "categories"]


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("waha_get_channel", {"channelId": "123@g.us"}, "not a channel id"),
        ("waha_get_channel", {"channelId": "https://chat.whatsapp.com/AbCdEf123456"}, "not a channel id"),
        ("waha_preview_channel_messages", {"channelId": "no spaces here"}, "not a channel id"),
        ("waha_delete_channel", {"channelId": "0029VaAbCdEf123456789012", **S}, "not a channel id"),
        ("waha_follow_channel", {"channelId": "12025550100@c.us"}, "not a channel id"),
        ("waha_mute_channel", {"channelId": "abc@newsletter"}, "not a channel id"),
        ("waha_create_channel", {"name": "   "}, "name is empty"),
        ("waha_create_channel", {"name": ""}, "name"),
        ("waha_create_channel", {"name": "X", "data": base64.b64encode(b"%PDF-1.4 x").decode()}, "is an image"),
        ("waha_search_channels", {"text": "  "}, "text is empty"),
        ("waha_search_channels", {"text": "news", "view": "NEW"}, "not both"),
        ("waha_search_channels", {"text": "news", "countries": ["US"]}, "not both"),
        ("waha_search_channels", {"countries": ["USA"]}, "countries"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, Any], needle: str
) -> None:
    assert needle in error(await call(mcp, tool, args))
    assert sandbox.requests == []


def test_effects_follow_what_each_tool_does() -> None:
    channels = {name: spec for name, spec in REGISTRY.items() if spec.toolset == "channels"}
    effects = {name: spec.effect for name, spec in channels.items()}
    assert effects == {
        "waha_get_channels": Effect.READ,
        "waha_get_channel": Effect.READ,
        "waha_preview_channel_messages": Effect.READ,
        "waha_search_channels": Effect.READ,
        "waha_get_channel_search_options": Effect.READ,
        "waha_follow_channel": Effect.LOCAL,
        "waha_mute_channel": Effect.LOCAL,
        "waha_create_channel": Effect.VISIBLE,
        "waha_delete_channel": Effect.DESTRUCTIVE,
    }
    declared = [op for spec in channels.values() for op in spec.operations]
    assert len(declared) == len(set(declared)) == 14 and all(op.startswith("ChannelsController_") for op in declared)


async def test_an_empty_answer_is_no_invented_channel(
    mcp: Client, sandbox: Sandbox, contract: ContractRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def empty(ctx: Any) -> None:
        return None

    async def nothing(ctx: Any) -> dict[str, Any]:
        return {}

    monkeypatch.setitem(sandbox.handlers, "ChannelsController_create", empty)
    monkeypatch.setitem(sandbox.handlers, "ChannelsController_get", nothing)
    # A 2xx to create means it was made: say so, without an id WAHA did not give.
    out = data(await call(mcp, "waha_create_channel", {"name": "Quiet"}))
    assert out == {"session": "default", "name": "Quiet", "created": True}
    # A read that names no channel is not a channel.
    assert "no channel" in error(await call(mcp, "waha_get_channel", {"channelId": "0029VaAbCdEf123456789012"}))
    contract.reset()  # `{}` breaks the document on purpose
