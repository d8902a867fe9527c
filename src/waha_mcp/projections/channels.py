"""Channels (newsletters): the channels list, one channel, search results, preview posts, what was done.

WAHA answers `Channel` (`{id, name, invite, preview, picture, description, role, verified,
subscribersCount}`), `ChannelPublicInfo` (the same without `role`) inside `{page, channels}` for a
search, and `{reactions, viewCount, message: WAMessage}` for a preview.
"""

from __future__ import annotations

from typing import Any, NotRequired, Required, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import Time, drop_empty, iso, serialized_id, short
from waha_mcp.projections.media import MediaSummary, message_media


class ChannelSummary(TypedDict):
    id: str
    name: NotRequired[str]
    role: NotRequired[str]  # owner | admin | subscriber (your channels only)
    subscribers: NotRequired[int]
    verified: NotRequired[bool]  # only when true
    description: NotRequired[str]


class ChannelList(TypedDict):
    channels: list[ChannelSummary]


class ChannelSearch(TypedDict):
    channels: list[ChannelSummary]
    nextCursor: str | None  # pass as `cursor` for the next page


class _ChannelInfo(TypedDict, total=False):
    name: str
    description: str
    role: str  # owner | admin | subscriber | guest (not followed)
    subscribers: int
    verified: bool
    link: str
    picture: str


class ChannelDetail(_ChannelInfo):
    channelId: Required[str]


class ChannelCreated(_ChannelInfo):
    channelId: NotRequired[str]  # absent when WAHA accepted it but answered no channel
    created: Required[bool]


class ChannelDeleted(TypedDict):
    channelId: str
    deleted: bool


class ChannelFollowed(TypedDict):
    channelId: str
    following: bool


class ChannelMuted(TypedDict):
    channelId: str
    muted: bool


class ChannelPost(TypedDict):
    id: str
    time: NotRequired[Time]
    text: NotRequired[str]
    media: NotRequired[MediaSummary]
    views: NotRequired[int]
    reactions: NotRequired[dict[str, int]]  # emoji → count


class ChannelPosts(TypedDict):
    channelId: str  # the invite code asked for when no post names the channel
    posts: list[ChannelPost]


class ChannelSearchOptions(TypedDict):
    views: dict[str, str]  # value → name
    countries: dict[str, str]  # code → name
    categories: dict[str, str]  # value → name


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _role(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def channel_summary(item: Any) -> ChannelSummary | None:
    if not isinstance(item, dict):
        return None
    cid = serialized_id(item.get("id"))
    if not cid:
        return None
    out = {
        "id": cid,
        "name": item.get("name"),
        "role": _role(item.get("role")),
        "subscribers": _count(item.get("subscribersCount")),
        "verified": True if item.get("verified") is True else None,
        "description": short(item.get("description")),
    }
    return cast(ChannelSummary, drop_empty(out))


def _summaries(items: Any) -> list[ChannelSummary]:
    return [c for c in (channel_summary(item) for item in (items if isinstance(items, list) else [])) if c]


def channel_list(answer: Any) -> ChannelList:
    return {"channels": _summaries(answer)}


def channel_search(answer: Any) -> ChannelSearch:
    """`{page: {endCursor, hasNextPage}, channels}`: the next page starts at `endCursor`."""
    page = answer.get("page") if isinstance(answer, dict) else None
    page = page if isinstance(page, dict) else {}
    cursor = page.get("endCursor") if page.get("hasNextPage") else None
    channels = _summaries(answer.get("channels") if isinstance(answer, dict) else None)
    return {"channels": channels, "nextCursor": cursor if isinstance(cursor, str) and cursor else None}


def channel_detail(item: Any, channel_id: str | None = None) -> ChannelDetail:
    item = item if isinstance(item, dict) else {}
    invite = item.get("invite")
    out = {
        "channelId": serialized_id(item.get("id")) or channel_id,
        "name": item.get("name"),
        "description": item.get("description"),
        "role": _role(item.get("role")),
        "subscribers": _count(item.get("subscribersCount")),
        "verified": item.get("verified") if isinstance(item.get("verified"), bool) else None,
        "link": invite if isinstance(invite, str) else None,
        "picture": item.get("picture") if isinstance(item.get("picture"), str) else None,
    }
    return cast(ChannelDetail, drop_empty(out))


def channel_created(item: Any, name: str) -> ChannelCreated:
    """A 2xx to create means WhatsApp made the channel, even when WAHA's answer says nothing more."""
    detail: dict[str, Any] = dict(channel_detail(item))
    return cast(ChannelCreated, {"name": name} | detail | {"created": True})


def channel_deleted(channel_id: str) -> ChannelDeleted:
    return {"channelId": channel_id, "deleted": True}


def channel_followed(channel_id: str, following: bool) -> ChannelFollowed:
    return {"channelId": channel_id, "following": following}


def channel_muted(channel_id: str, muted: bool) -> ChannelMuted:
    return {"channelId": channel_id, "muted": muted}


def channel_post(item: Any) -> ChannelPost | None:
    if not isinstance(item, dict) or not isinstance(item.get("message"), dict):
        return None
    msg = item["message"]
    mid = serialized_id(msg.get("id"))
    if not mid:
        return None
    reactions = item.get("reactions")
    counts = {str(k): int(v) for k, v in reactions.items() if _count(v)} if isinstance(reactions, dict) else {}
    out = {
        "id": mid,
        "time": iso(msg.get("timestamp")),
        "text": msg.get("body") or None,
        "media": message_media(msg),
        "views": _count(item.get("viewCount")),
        "reactions": counts,
    }
    return cast(ChannelPost, drop_empty(out))


def channel_posts(ref: str, items: Any) -> ChannelPosts:
    """Posts oldest first; the channel's id from the posts (`message.from`) when asked by invite code."""
    items = items if isinstance(items, list) else []
    posts = [p for p in (channel_post(item) for item in items) if p]
    senders = (serialized_id(item["message"].get("from")) for item in items if channel_post(item))
    found = next((s for s in senders if s and s.endswith("@newsletter")), None)
    return {"channelId": ref if ref.endswith("@newsletter") else found or ref, "posts": posts}


def _pairs(items: Any, key: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get(key), str):
            out[item[key]] = str(item.get("name") or item[key])
    return out


def channel_search_options(views: Any, countries: Any, categories: Any) -> ChannelSearchOptions:
    """Three lists of `{value|code, name}` as value → name (WAHA Core answers each as [])."""
    return {
        "views": _pairs(views, "value"),
        "countries": _pairs(countries, "code"),
        "categories": _pairs(categories, "value"),
    }
