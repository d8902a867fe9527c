"""Media fetched from WAHA's file server in a fleet: a download and a chat picture each fetch a WAHA files URL from
the server holding the session, even when the URL names the fleet's other server (WAHA names itself by its own
WAHA_BASE_URL), and never fetch a URL on another host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp import Client

from tests.contract_plugin import ContractRecorder
from tests.e2e.servers import another_host
from tests.fleet.conftest import Member, fleet
from tests.helpers import call, data, error
from waha_mcp.sandbox.world import Message, World

# `cat` is on b only: a file of cat's that comes back was served by b (a answers 404 for a session it lacks).
LAYOUT = {"a": ("current", ("ann",)), "b": ("current", ("cat",))}
ARGS = {"session": "cat"}


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, list[str]]]:
    """A JPEG on another host (fetching it would work): the URL and the paths that host was asked for."""
    with another_host(b"\xff\xd8\xff\xe0" + bytes(200), "image/jpeg") as (url, asked):
        yield f"{url}/latest/x.jpeg", asked


def world_of(member: Member, session: str) -> World:
    world = member.sandbox.sessions[session].world
    assert world is not None
    return world


def image_of(member: Member, session: str) -> Message:
    msg = next(m for c in world_of(member, session).chats.values() for m in c.messages if m.media)
    msg.media.size = 2000
    msg.media.downloaded_at = 1e18  # on the file server whatever URL an answer names
    return msg


def files_served(member: Member) -> int:
    """How many requests `member` answered outside WAHA's document (its file server: never recorded)."""
    return member.sandbox.seq - len(member.sandbox.requests)


def answer_naming(member: Member, msg: Message, url: str) -> None:
    """WAHA's next message answer (on `member`) is `msg` with its media at `url`."""
    rendered = msg.to_waha(world_of(member, "cat").me_id, base_url=member.url, session="cat")
    rendered["media"]["url"] = url
    member.sandbox.faults.add("ChatsController_getChatMessage", kind="status", status=200, body=rendered, times=1)


async def test_a_download_fetches_only_from_the_server_holding_the_session(
    contract: ContractRecorder, elsewhere: tuple[str, list[str]]
) -> None:
    url, asked = elsewhere
    async with fleet(contract, LAYOUT, WAHA_TOOLSETS="all") as (members, server), Client(server) as mcp:
        a, b = members["a"], members["b"]
        assert "cat" not in a.sandbox.sessions
        msg = image_of(b, "cat")
        args = {**ARGS, "chatId": msg.chat_id, "messageId": msg.id}
        own = f"{b.url}/api/files/cat/{msg.id}.jpeg"
        for media_url in (own, own.replace(b.url, a.url)):  # b's own URL, then one naming a: both fetched from b
            answer_naming(b, msg, media_url)
            result = await call(mcp, "waha_download_media", args)
            assert not result.is_error and result.content[0].type == "image", media_url
            assert result.structured_content is not None and result.structured_content["bytes"] == 2000
        assert (files_served(a), files_served(b)) == (0, 2)
        answer_naming(b, msg, url)
        message = error(await call(mcp, "waha_download_media", args))
        assert f"the media URL {url} is not on WAHA's file server ({b.url}/api/files/...): not fetched" in message
        assert asked == [] and (files_served(a), files_served(b)) == (0, 2)  # not even its path from WAHA


async def test_a_chat_picture_is_fetched_only_from_the_server_holding_the_session(
    contract: ContractRecorder, elsewhere: tuple[str, list[str]]
) -> None:
    url, asked = elsewhere
    async with fleet(contract, LAYOUT, WAHA_TOOLSETS="all") as (members, server), Client(server) as mcp:
        a, b = members["a"], members["b"]
        msg = image_of(b, "cat")
        args = {**ARGS, "chatId": msg.chat_id}
        own = f"{b.url}/api/files/cat/{msg.id}.jpeg"
        for picture in (own, own.replace(b.url, a.url)):
            b.sandbox.faults.add(
                "ChatsController_getChatPicture", kind="status", status=200, body={"url": picture}, times=1
            )
            result = await call(mcp, "waha_get_chat_picture", args)
            assert not result.is_error and result.content[0].type == "image", picture
            assert result.structured_content == {"session": "cat", "chatId": msg.chat_id, "bytes": 2000}
        assert (files_served(a), files_served(b)) == (0, 2)
        b.sandbox.faults.add("ChatsController_getChatPicture", kind="status", status=200, body={"url": url}, times=1)
        out = data(await call(mcp, "waha_get_chat_picture", args))
        assert out == {"session": "cat", "chatId": msg.chat_id, "url": url}  # the URL stands in
        assert asked == [] and (files_served(a), files_served(b)) == (0, 2)  # not fetched, not even its path
