"""Toolset `channels`: your channels and WhatsApp's public directory of channels (newsletters).

One tool per intent, one effect per tool: a switch and its undo share a tool (follow/unfollow,
mute/unmute), search by view and by text are one search whose arguments pick the route, and the three
small lists search takes its values from are one read.

Effects: follow and mute are LOCAL: they change what this account receives, and nobody is told who
follows (WhatsApp shows a channel's admins and followers a count, not the followers); unfollowing is
undone by following again. Creating a channel publishes it (VISIBLE); deleting one is DESTRUCTIVE.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.projections import channel_search as _searched
from waha_mcp.tools._common import ChannelId, ChannelRef, Limit, Name, PageToken, Session
from waha_mcp.tools._media import DataArg, FileArg, media_input
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

Country = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]
Countries = Annotated[list[Country] | None, Field(max_length=20, description="Codes; default US.")]
Categories = Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]] | None, Field(max_length=10)]
SEARCH_OPTIONS = (
    "ChannelsController_getSearchViews",
    "ChannelsController_getSearchCountries",
    "ChannelsController_getSearchCategories",
)


@tool(
    "Channels you own or follow.",
    effect=Effect.READ,
    operations=("ChannelsController_list",),
)
async def get_channels(
    w: Invocation, session: Session = None, role: Literal["owner", "admin", "subscriber"] | None = None
) -> view.ChannelList:
    query = {"role": role.upper() if role else None}
    return view.channel_list(await w.call("ChannelsController_list", query=query))


@tool(
    "One channel: name, description, followers, link.",
    effect=Effect.READ,
    operations=("ChannelsController_get",),
)
async def get_channel(w: Invocation, channelId: ChannelRef, session: Session = None) -> view.ChannelDetail:
    answer = await w.call("ChannelsController_get", id=channelId)
    detail = view.channel_detail(answer, channelId if channelId.endswith("@newsletter") else None)
    if not detail.get("channelId"):  # asked by invite code, and WAHA answered no channel
        raise ToolInputError(f"WAHA returned no channel for invite {channelId}")
    return detail


@tool(
    "Create a channel you own; picture optional.",
    effect=Effect.VISIBLE,
    pacing="group",  # a new public space, paced like creating a group
    operations=("ChannelsController_create",),
    target="name",
)
async def create_channel(
    w: Invocation,
    name: Name,
    session: Session = None,
    description: Annotated[str | None, Field(max_length=2048)] = None,
    file: FileArg = None,
    data: DataArg = None,
) -> view.ChannelCreated:
    body: dict[str, object] = {"name": name}
    if description:
        body["description"] = description
    if file or data:
        picture = media_input(w.settings, file, data, None, None, default_mime="image/jpeg", default_name="picture")
        if not picture.base_type.startswith("image/"):
            raise ToolInputError(f"a channel picture is an image, not {picture.base_type}")
        body["picture"] = picture.waha()
    return view.channel_created(await w.call("ChannelsController_create", body=body), name)


@tool(
    "Delete a channel you own.",
    effect=Effect.DESTRUCTIVE,
    operations=("ChannelsController_delete",),
)
async def delete_channel(w: Invocation, channelId: ChannelId, session: Session = None) -> view.ChannelDeleted:
    await w.call("ChannelsController_delete", id=channelId)
    return view.channel_deleted(channelId)


@tool(
    "A channel's latest posts, also unfollowed ones.",
    effect=Effect.READ,
    operations=("ChannelsController_previewChannelMessages",),
)
async def preview_channel_messages(
    w: Invocation, channelId: ChannelRef, session: Session = None, limit: Limit = 10
) -> view.ChannelPosts:
    # downloadMedia=false: a preview names the media; WAHA would otherwise fetch every file first.
    query = {"downloadMedia": False, "limit": limit}
    answer = await w.call("ChannelsController_previewChannelMessages", id=channelId, query=query)
    return view.channel_posts(channelId, answer)


@tool(
    "Follow a channel, or unfollow with follow=false.",
    effect=Effect.LOCAL,
    operations=("ChannelsController_follow", "ChannelsController_unfollow"),
)
async def follow_channel(
    w: Invocation, channelId: ChannelId, session: Session = None, follow: bool = True
) -> view.ChannelFollowed:
    await w.call("ChannelsController_follow" if follow else "ChannelsController_unfollow", id=channelId)
    return view.channel_followed(channelId, follow)


@tool(
    "Mute a channel, or unmute with muted=false.",
    effect=Effect.LOCAL,
    operations=("ChannelsController_mute", "ChannelsController_unmute"),
)
async def mute_channel(
    w: Invocation, channelId: ChannelId, session: Session = None, muted: bool = True
) -> view.ChannelMuted:
    await w.call("ChannelsController_mute" if muted else "ChannelsController_unmute", id=channelId)
    return view.channel_muted(channelId, muted)


@tool(
    "Find public channels by text, or browse a view.",
    effect=Effect.READ,
    operations=("ChannelsController_searchByText", "ChannelsController_searchByView"),
)
async def search_channels(
    w: Invocation,
    session: Session = None,
    text: Annotated[str | None, Field(max_length=100)] = None,
    view: Annotated[str | None, Field(max_length=40, description="Default: RECOMMENDED.")] = None,
    countries: Countries = None,
    categories: Categories = None,
    limit: Limit = 20,
    cursor: PageToken | None = None,
) -> view.ChannelSearch:
    page = {"categories": [c.upper() for c in categories or []], "limit": limit, "startCursor": cursor or ""}
    if text is not None:
        if not text.strip():
            raise ToolInputError("text is empty: give words to search for, or omit it to browse a view")
        if view is not None or countries is not None:
            raise ToolInputError("view and countries browse the directory: search by text or by view, not both")
        answer = await w.call("ChannelsController_searchByText", body={"text": text.strip(), **page})
    else:
        body = {"view": (view or "RECOMMENDED").upper(), "countries": [c.upper() for c in countries or ["US"]]}
        answer = await w.call("ChannelsController_searchByView", body=body | page)
    return _searched(answer)  # `view` is an argument here (WAHA's name), not the projections module


@tool(
    "Views, countries and categories for channel search.",
    effect=Effect.READ,
    operations=SEARCH_OPTIONS,
)
async def get_channel_search_options(w: Invocation, session: Session = None) -> view.ChannelSearchOptions:
    views, countries, categories = [await w.call(operation) for operation in SEARCH_OPTIONS]
    return view.channel_search_options(views, countries, categories)
