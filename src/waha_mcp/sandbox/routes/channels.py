"""📢 Channels: every channel operation, as WAHA Plus answers them for a NOWEB session.

- List, get and create answer `Channel` (`role` is this account's); search answers `ChannelListResult`
  with WhatsApp's opaque cursors; preview answers `ChannelMessage[]` (a `WAMessage` with reactions and
  views). Get and preview take an id, an invite code or an invite link (WAHA keeps the last path part);
  preview by id looks the channel up first and previews by its invite code, as WAHA does.
- Follow, unfollow, mute and unmute answer 201 with an empty body; delete answers 200 with an empty body.
- An unknown channel is a 404 (`Channel <id> not found`, WAHA's NotFoundException text); what WhatsApp
  refuses (deleting a channel you do not own, unfollowing your own) is WAHA's 500 exception shape.
- The search views, countries and categories are WAHA Plus's static lists (Core answers `[]`); those
  three routes read no session, as in WAHA.
- Events: WAHA sends no webhook for any of these (its document has no channel event), so none is logged.
"""

from __future__ import annotations

import base64
from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import Channel, World
from ._common import world_of
from .groups import refused

VIEWS = [("RECOMMENDED", "Explore"), ("TRENDING", "Trending"), ("POPULAR", "Popular"), ("NEW", "New")]
COUNTRIES = [
    ("US", "United States"),
    ("GB", "United Kingdom"),
    ("BR", "Brazil"),
    ("DE", "Germany"),
    ("IN", "India"),
    ("ID", "Indonesia"),
    ("MX", "Mexico"),
]
CATEGORIES = [
    ("BUSINESS", "Business"),
    ("ENTERTAINMENT", "Entertainment"),
    ("LIFESTYLE", "Lifestyle"),
    ("ORGANIZATIONS", "Organizations"),
    ("PEOPLE", "People"),
    ("SPORTS", "Sports"),
]
ROLES = ("OWNER", "ADMIN", "SUBSCRIBER")


def _missing(ref: str) -> errors.WahaError:
    return errors.nest(404, f"Channel {ref} not found")


async def _channel(ctx: Ctx) -> tuple[World, Channel]:
    world = world_of(await ctx.working_session())
    channel = world.channel_by_ref(ctx.params["id"])
    if channel is None:
        raise _missing(ctx.params["id"])
    return world, channel


@route("ChannelsController_list")
async def list_channels(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    role = ctx.q_choice("role", ROLES)
    known = [c for c in world.channels.values() if c.role != "GUEST"]
    return [c.to_waha() for c in known if role is None or c.role == role]


@route("ChannelsController_create")
async def create_channel(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    name = str(ctx.body["name"])
    if not name.strip():
        raise refused(ctx, "bad-request")  # WhatsApp refuses a channel without a name
    channel = world.new_channel(name, str(ctx.body.get("description") or ""))
    channel.picture = bool(ctx.body.get("picture"))
    return channel.to_waha()


@route("ChannelsController_get")
async def get_channel(ctx: Ctx) -> dict[str, Any]:
    _, channel = await _channel(ctx)
    return channel.to_waha()


@route("ChannelsController_delete")
async def delete_channel(ctx: Ctx) -> None:
    world, channel = await _channel(ctx)
    if channel.role != "OWNER":
        raise refused(ctx, "forbidden")  # only the owner deletes a channel
    world.channels.pop(channel.id)


@route("ChannelsController_previewChannelMessages")
async def preview(ctx: Ctx) -> list[dict[str, Any]]:
    world, channel = await _channel(ctx)
    limit = ctx.q_int("limit", 10) or 10
    posts = channel.posts[-limit:] if limit > 0 else []
    download = bool(ctx.q_bool("downloadMedia", False))
    return [
        {
            "reactions": dict(post.reactions),
            "message": ctx.render(post.message, world.me_id, download_media=download),
            "viewCount": post.views,
        }
        for post in posts
    ]


@route("ChannelsController_follow")
async def follow(ctx: Ctx) -> None:
    _, channel = await _channel(ctx)
    if channel.role == "GUEST":
        channel.role = "SUBSCRIBER"
        channel.subscribers += 1


@route("ChannelsController_unfollow")
async def unfollow(ctx: Ctx) -> None:
    _, channel = await _channel(ctx)
    if channel.role in ("OWNER", "ADMIN"):
        raise refused(ctx, "not-allowed")  # an owner or admin does not unfollow their own channel
    if channel.role == "SUBSCRIBER":
        channel.role = "GUEST"
        channel.subscribers = max(0, channel.subscribers - 1)
        channel.muted = False


async def _set_muted(ctx: Ctx, muted: bool) -> None:
    _, channel = await _channel(ctx)
    channel.muted = muted


@route("ChannelsController_mute")
async def mute(ctx: Ctx) -> None:
    await _set_muted(ctx, True)


@route("ChannelsController_unmute")
async def unmute(ctx: Ctx) -> None:
    await _set_muted(ctx, False)


def _cursor(offset: int) -> str:
    return base64.b64encode(f"sandbox:{offset}".encode()).decode()


def _offset(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return max(0, int(base64.b64decode(str(cursor)).decode().split(":", 1)[1]))
    except (ValueError, IndexError):
        raise errors.bad_request(["startCursor is not a cursor of a previous page"]) from None


def _page(found: list[Channel], body: dict[str, Any]) -> dict[str, Any]:
    start = _offset(body.get("startCursor"))
    limit = max(1, int(body.get("limit") or 50))
    page = found[start : start + limit]
    more = start + limit < len(found)
    return {
        "page": {
            "startCursor": _cursor(start) if start else None,
            "endCursor": _cursor(start + limit) if more else None,
            "hasNextPage": more,
            "hasPreviousPage": start > 0,
        },
        "channels": [c.public() for c in page],
    }


def _directory(world: World, categories: list[str]) -> list[Channel]:
    """What search finds: public channels this account does not follow or own."""
    wanted = {c.upper() for c in categories}
    return [c for c in world.channels.values() if c.role == "GUEST" and (not wanted or c.category in wanted)]


@route("ChannelsController_searchByView")
async def search_by_view(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    view = str(ctx.body.get("view") or "RECOMMENDED")
    if view not in dict(VIEWS):
        raise errors.bad_request([f"view must be one of the following values: {', '.join(dict(VIEWS))}"])
    countries = {str(c).upper() for c in ctx.body.get("countries") or []}
    found = [c for c in _directory(world, ctx.body.get("categories") or []) if not countries or c.country in countries]
    if view in ("TRENDING", "POPULAR"):
        found.sort(key=lambda c: -c.subscribers)
    elif view == "NEW":
        found.sort(key=lambda c: -c.creation)
    else:
        found.sort(key=lambda c: (not c.verified, c.name))
    return _page(found, ctx.body)


@route("ChannelsController_searchByText")
async def search_by_text(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    words = str(ctx.body.get("text") or "").lower().split()
    found = [
        c
        for c in _directory(world, ctx.body.get("categories") or [])
        if words and all(w in f"{c.name} {c.description}".lower() for w in words)
    ]
    return _page(sorted(found, key=lambda c: -c.subscribers), ctx.body)


@route("ChannelsController_getSearchViews")
async def search_views(ctx: Ctx) -> list[dict[str, str]]:
    return [{"value": value, "name": name} for value, name in VIEWS]


@route("ChannelsController_getSearchCountries")
async def search_countries(ctx: Ctx) -> list[dict[str, str]]:
    return [{"code": code, "name": name} for code, name in COUNTRIES]


@route("ChannelsController_getSearchCategories")
async def search_categories(ctx: Ctx) -> list[dict[str, str]]:
    return [{"value": value, "name": name} for value, name in CATEGORIES]
