"""Voice notes fetched from WAHA's file server in a fleet, by message id and by URL: a WAHA files URL is fetched
from the server holding the session, even when it names the fleet's other server (WAHA names itself by its own
WAHA_BASE_URL); a URL on another host is never fetched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from mcp import Client

from tests.contract_plugin import ContractRecorder
from tests.e2e.servers import another_host
from tests.fleet.conftest import Member, fleet
from tests.helpers import call, data, error
from tests.transcribe.conftest import note, sentences
from tests.transcribe.openai_server import OpenAIStub

# `cat` is on b only: audio of cat's that is transcribed was served by b (a answers 404 for a session it lacks).
LAYOUT = {"a": ("current", ("ann",)), "b": ("current", ("cat",))}
CHAT = "12025550999@c.us"


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, list[str]]]:
    """A voice note on another host (fetching it would work): the URL and the paths that host was asked for."""
    with another_host(note("note01"), "audio/ogg") as (url, asked):
        yield f"{url}/latest/a.ogg", asked


def options(tmp_path: Path, openai: tuple[OpenAIStub, str]) -> dict[str, Any]:
    return {
        "WAHA_TOOLSETS": "all",
        "WAHA_MCP_TRANSCRIBE": "openai",
        "WAHA_MCP_TRANSCRIBE_URL": openai[1],
        "WAHA_MCP_TRANSCRIBE_API_KEY": "sk-test-0123456789abcdef",
        "WAHA_MCP_STORE": str(tmp_path / "store.sqlite3"),
    }


def files_served(member: Member) -> int:
    """How many requests `member` answered outside WAHA's document (its file server: never recorded)."""
    return member.sandbox.seq - len(member.sandbox.requests)


def voice(member: Member, name: str) -> tuple[str, str]:
    """Voice note `name` (real speech) arrives for `cat` on `member`: its message id and its path on WAHA's file
    server (read without a tool, which would start its transcription)."""
    rendered = member.sandbox.inject_voice("cat", CHAT, note(name))
    return str(rendered["id"]), urlsplit(rendered["media"]["url"]).path


def answer_naming(member: Member, mid: str, url: str) -> None:
    """WAHA's next two answers for message `mid` (on `member`) give its media at `url` (waha_transcribe reads the
    message, then the transcriber downloads it)."""
    world = member.sandbox.sessions["cat"].world
    assert world is not None
    msg = next(m for m in world.chats[CHAT].messages if m.id == mid)
    rendered = msg.to_waha(world.me_id, base_url=member.url, session="cat")
    rendered["media"]["url"] = url
    member.sandbox.faults.add("ChatsController_getChatMessage", kind="status", status=200, body=rendered, times=2)


async def test_by_message_id_the_audio_comes_only_from_the_server_holding_the_session(
    contract: ContractRecorder, tmp_path: Path, openai: tuple[OpenAIStub, str], elsewhere: tuple[str, list[str]]
) -> None:
    url, asked = elsewhere
    async with fleet(contract, LAYOUT, **options(tmp_path, openai)) as (members, server), Client(server) as mcp:
        a, b = members["a"], members["b"]
        (own, _), (named_a, path), (other, _) = voice(b, "note02"), voice(b, "note03"), voice(b, "note04")
        served = files_served(b)
        out = data(await call(mcp, "waha_transcribe", {"session": "cat", "messageId": own}))
        assert out["status"] == "done" and out["text"] == sentences()["note02"]
        assert files_served(b) == served + 1
        answer_naming(b, named_a, a.url + path)
        out = data(await call(mcp, "waha_transcribe", {"session": "cat", "messageId": named_a}))
        assert out["status"] == "done" and out["text"] == sentences()["note03"], out
        assert files_served(b) == served + 2 and files_served(a) == 0
        answer_naming(b, other, url)
        out = data(await call(mcp, "waha_transcribe", {"session": "cat", "messageId": other}))
        assert out["status"] == "failed" and out["error"] == "the audio is not on WAHA's file server: not fetched"
        assert asked == [] and files_served(b) == served + 2  # not even its path from WAHA


async def test_by_url_only_a_waha_files_url_is_fetched_and_from_the_server_holding_the_session(
    contract: ContractRecorder, tmp_path: Path, openai: tuple[OpenAIStub, str], elsewhere: tuple[str, list[str]]
) -> None:
    url, asked = elsewhere
    async with fleet(contract, LAYOUT, **options(tmp_path, openai)) as (members, server), Client(server) as mcp:
        a, b = members["a"], members["b"]
        (own, own_path), (named_a, a_path) = voice(b, "note05"), voice(b, "note06")
        own_url, a_url = b.url + own_path, a.url + a_path
        assert own_path.startswith("/api/files/cat/")
        served = files_served(b)
        out = data(await call(mcp, "waha_transcribe", {"session": "cat", "url": own_url}))
        assert (out["messageId"], out["text"]) == (own, sentences()["note05"])
        out = data(await call(mcp, "waha_transcribe", {"session": "cat", "url": a_url}))
        assert (out["messageId"], out["text"]) == (named_a, sentences()["note06"])
        assert files_served(b) == served + 2 and files_served(a) == 0
        refused = error(await call(mcp, "waha_transcribe", {"session": "cat", "url": url}))
        assert f"is not a media URL of WAHA's file server ({b.url}/api/files/<session>/" in refused
        assert asked == [] and files_served(b) == served + 2
