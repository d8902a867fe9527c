"""Voice notes as text end to end: the sandbox delivers voice notes with real speech, WAHA's files route serves
them, a real local OpenAI-style server transcribes them; transcripts in messages, events, waits and
`waha_transcribe`, cached, retried, refused, capped, and the key never shown."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client

from tests.conftest import MODE, user_says_yes
from tests.e2e.servers import sandbox_on_socket
from tests.helpers import call, data, error
from tests.transcribe.conftest import note, sentences
from tests.transcribe.openai_server import OpenAIStub
from waha_mcp.config import load_settings
from waha_mcp.events.background import running
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import WahaMCP, build_server
from waha_mcp.transcribe.audio import ogg_opus_seconds

CHAT = "12025550999@c.us"
KEY = "sk-test-0123456789abcdef"


def make_server(sandbox: Sandbox, tmp_path: Path, url: str | None, **env: Any) -> WahaMCP:
    options: dict[str, Any] = {"WAHA_MCP_TRANSCRIBE": "openai", "WAHA_MCP_TRANSCRIBE_URL": url,
                               "WAHA_MCP_TRANSCRIBE_API_KEY": KEY} if url else {}  # fmt: skip
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_SANDBOX=True,
        WAHA_MCP_OUTPUT_SCHEMAS="true",
        WAHA_MCP_STORE=str(tmp_path / "store.sqlite3"),
        **(options | env),
    )
    return build_server(settings, transport=sandbox_transport(sandbox))


async def connect(server: WahaMCP) -> AsyncIterator[Client]:
    async with Client(server, mode=MODE, elicitation_callback=user_says_yes) as client:
        yield client


@pytest.fixture
async def voiced(sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]) -> AsyncIterator[Client]:
    server = make_server(sandbox, tmp_path, openai[1])
    async for client in connect(server):
        yield client
    server.close()


def receive(sandbox: Sandbox, name: str = "note01", chat: str = CHAT) -> str:
    """A voice note `name` (real speech) arrives from `chat`; its message id."""
    return str(sandbox.inject_voice("default", chat, note(name))["id"])


async def settled(client: Client, chat: str, mid: str, timeout: float = 10) -> dict[str, Any]:
    """The transcript `waha_get_message` shows once it is no longer pending."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        shown = data(await call(client, "waha_get_message", {"chatId": chat, "messageId": mid}))
        transcript = shown["media"]["transcript"]
        if transcript["status"] != "pending" or asyncio.get_running_loop().time() > deadline:
            return transcript
        await asyncio.sleep(0.05)


async def test_waha_transcribe_gives_the_text_and_never_transcribes_twice(
    voiced: Client, sandbox: Sandbox, openai: tuple[OpenAIStub, str]
) -> None:
    stub, _ = openai
    mid = receive(sandbox, "note05")
    out = data(await call(voiced, "waha_transcribe", {"messageId": mid}))
    assert out == {
        "session": "default",
        "messageId": mid,
        "status": "done",
        "text": sentences()["note05"],
        "language": "english",
        "duration": 3.0,
        "engine": "openai:whisper-1",
    }
    assert stub.uploads[0].data == note("note05")  # the OGG/Opus WAHA served, not re-encoded
    requests = len(sandbox.requests)
    again = data(await call(voiced, "waha_transcribe", {"messageId": mid}))
    assert again == out and len(stub.uploads) == 1
    assert len(sandbox.requests) == requests  # the cache answered: WAHA was not even asked
    # Reading the message shows the same transcript, from the cache.
    shown = data(await call(voiced, "waha_get_message", {"chatId": CHAT, "messageId": mid}))
    assert shown["media"]["type"] == "voice"
    assert shown["media"]["transcript"] == {k: out[k] for k in ("status", "text", "language", "duration")}
    assert len(stub.uploads) == 1


async def test_reading_a_chat_starts_transcription_and_shows_pending_until_done(
    voiced: Client, sandbox: Sandbox, openai: tuple[OpenAIStub, str]
) -> None:
    first, second = receive(sandbox, "note07"), receive(sandbox, "note08")
    listed = data(await call(voiced, "waha_get_messages", {"chatId": CHAT, "limit": 5}))
    voices = {m["id"]: m["media"] for m in listed["messages"] if m.get("media", {}).get("type") == "voice"}
    assert voices[first]["transcript"] == {"status": "pending"}
    assert voices[second]["transcript"] == {"status": "pending"}
    texts = [(await settled(voiced, CHAT, mid))["text"] for mid in (first, second)]
    assert texts == [sentences()["note07"], sentences()["note08"]]
    assert len(openai[0].uploads) == 2  # each once, although read several times
    text_only = [m for m in listed["messages"] if "media" not in m]
    assert all("transcript" not in str(m) for m in text_only)


async def test_a_message_that_is_not_audio_is_refused(voiced: Client, sandbox: Sandbox) -> None:
    image = next(m for c in sandbox.sessions["default"].world.chats.values() for m in c.messages if m.media)
    message = error(await call(voiced, "waha_transcribe", {"chatId": image.chat_id, "messageId": image.id}))
    assert f"message {image.id} is an image, not a voice note or audio" in message
    text = sandbox.inject_inbound("default", CHAT, "just words")
    assert "is text, not a voice note" in error(await call(voiced, "waha_transcribe", {"messageId": text["id"]}))


async def test_a_failed_transcription_says_why_and_is_retried(
    voiced: Client, sandbox: Sandbox, openai: tuple[OpenAIStub, str]
) -> None:
    stub, _ = openai
    stub.fail(429, {"error": {"message": "Rate limit reached for whisper-1"}}, {"Retry-After": "600"})
    mid = receive(sandbox, "note09")
    out = data(await call(voiced, "waha_transcribe", {"messageId": mid}))
    assert out["status"] == "failed" and "rate-limiting (429" in out["error"] and "retry after 600 s" in out["error"]
    assert 590 <= out["retryAfter"] <= 600
    # Read again before the wait is over: the failure is shown, the endpoint is not asked again.
    assert data(await call(voiced, "waha_transcribe", {"messageId": mid}))["status"] == "failed"
    assert len(stub.uploads) == 1
    done = data(await call(voiced, "waha_transcribe", {"messageId": mid, "retry": True}))
    assert done["status"] == "done" and done["text"] == sentences()["note09"] and len(stub.uploads) == 2


async def test_the_endpoint_key_never_reaches_a_result_or_the_store(
    sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]
) -> None:
    stub, url = openai
    stub.key = "sk-the-right-one-0000000000"  # the server holds KEY, which this endpoint refuses (and echoes)
    server = make_server(sandbox, tmp_path, url)
    async for client in connect(server):
        mid = receive(sandbox)
        out = data(await call(client, "waha_transcribe", {"messageId": mid}))
        assert out["status"] == "failed" and "WAHA_MCP_TRANSCRIBE_API_KEY" in out["error"]
        assert KEY not in str(out) and "0123456789abcdef" not in str(out)
    server.close()
    stored = (tmp_path / "store.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("store.sqlite3-*")
    )
    assert b"0123456789abcdef" not in stored
    with sqlite3.connect(tmp_path / "store.sqlite3") as db:
        [(status, error_text)] = db.execute("SELECT status, error FROM transcripts").fetchall()
    assert status == "failed" and "Incorrect API key provided: ***" in error_text


async def test_a_files_route_url_is_transcribed_and_other_urls_are_refused(
    voiced: Client, sandbox: Sandbox, openai: tuple[OpenAIStub, str]
) -> None:
    mid = receive(sandbox, "note11")
    shown = data(await call(voiced, "waha_get_message", {"chatId": CHAT, "messageId": mid, "downloadMedia": True}))
    url = shown["media"]["url"]
    assert "/api/files/default/" in url
    out = data(await call(voiced, "waha_transcribe", {"url": url}))
    assert out["messageId"] == mid and out["text"] == sentences()["note11"]
    refused = error(await call(voiced, "waha_transcribe", {"url": "http://elsewhere.example/a.ogg"}))
    assert "not a media URL of WAHA's file server" in refused
    assert "give exactly one of messageId and url" in error(await call(voiced, "waha_transcribe", {}))
    other = url.replace("/api/files/default/", "/api/files/second/")
    assert "pass session='second'" in error(await call(voiced, "waha_transcribe", {"url": other}))
    # WAHA's OpenAPI example has no session folder: the id is still read from it (the sandbox serves no such file).
    bare = url.replace("/api/files/default/", "/api/files/")
    missing = data(await call(voiced, "waha_transcribe", {"url": bare}))
    assert missing["messageId"] == mid and missing["status"] == "done"  # cached by that id: not fetched again


async def test_caps_refuse_before_anything_is_sent(
    sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]
) -> None:
    stub, url = openai
    server = make_server(sandbox, tmp_path, url, WAHA_MCP_TRANSCRIBE_MAX_SECONDS="2")
    async for client in connect(server):
        out = data(await call(client, "waha_transcribe", {"messageId": receive(sandbox, "note12")}))
    server.close()
    assert out["status"] == "failed" and "over the 2-second limit (WAHA_MCP_TRANSCRIBE_MAX_SECONDS)" in out["error"]
    assert "retryAfter" not in out and stub.uploads == []


async def test_with_transcription_off_nothing_changes_and_the_tool_says_how(sandbox: Sandbox, tmp_path: Path) -> None:
    server = make_server(sandbox, tmp_path, None)
    assert "waha_transcribe" not in {s.name for s in build_server(load_settings(WAHA_BASE_URL="http://x")).specs}
    async for client in connect(server):
        mid = receive(sandbox)
        shown = data(await call(client, "waha_get_message", {"chatId": CHAT, "messageId": mid}))
        assert shown["media"] == {"type": "voice", "mimetype": "audio/ogg; codecs=opus", "size": len(note("note01"))}
        assert "WAHA_MCP_TRANSCRIBE=openai" in error(await call(client, "waha_transcribe", {"messageId": mid}))
    server.close()


async def test_incoming_voice_notes_are_transcribed_in_the_background(
    sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]
) -> None:
    stub, url = openai
    server = make_server(sandbox, tmp_path, url, WAHA_MCP_TRANSCRIBE_INCOMING="true")
    assert "waha_transcribe" in {s.name for s in build_server(server.waha_settings.model_copy(
        update={"waha_toolsets": None})).specs}  # fmt: skip
    async for client in connect(server):
        async with running(server, listener=False):

            async def later() -> None:
                await asyncio.sleep(0.1)
                receive(sandbox, "note14")

            task = asyncio.create_task(later())
            waited = data(await call(client, "waha_wait_for_message", {"chat": CHAT, "timeout": 5}))
            await task
            assert waited["matched"] and waited["event"]["media"] == "voice"
            assert waited["event"]["transcript"]["status"] in ("pending", "done")
            for _ in range(200):  # nobody reads it: the background worker transcribes it
                if stub.uploads and server.app and server.app.transcriber.stats().get("done"):
                    break
                await asyncio.sleep(0.05)
            assert len(stub.uploads) == 1
            events = data(await call(client, "waha_get_events", {"chat": CHAT, "types": ["message"]}))["events"]
            assert events[-1]["transcript"] == {
                "status": "done",
                "text": sentences()["note14"],
                "language": "english",
                "duration": 3.0,
            }
    server.close()
    assert len(stub.uploads) == 1


async def test_a_full_background_queue_drops_and_counts_without_slowing_ingest(
    sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]
) -> None:
    _, url = openai
    server = make_server(sandbox, tmp_path, url, WAHA_MCP_TRANSCRIBE_INCOMING="true", WAHA_MCP_TRANSCRIBE_QUEUE="1")
    async for client in connect(server):
        transcriber = server.app.transcriber
        # Offers arrive faster than the worker runs (it starts at the next loop turn): 1 queued, the rest dropped.
        accepted = [transcriber.offer("default", CHAT, f"false_{CHAT}_{i:020X}") for i in range(5)]
        assert accepted == [True, False, False, False, False]
        assert transcriber.stats()["dropped"] == 4
        mid = receive(sandbox, "note15")  # a dropped one is still transcribed when read
        assert (await settled(client, CHAT, mid))["text"] == sentences()["note15"]
    server.close()


async def test_a_voice_note_posted_to_the_sandbox_control_route_plays_real_speech(sandbox: Sandbox) -> None:
    from waha_mcp.sandbox.voice import SAMPLE_TEXT

    async with sandbox_on_socket(sandbox) as base, httpx2.AsyncClient(base_url=base) as http:
        body = {"chatId": CHAT, "data": base64.b64encode(note("note16")).decode()}
        sent = (await http.post("/__sandbox/default/voice", json=body)).json()
        sample = (await http.post("/__sandbox/default/voice", json={"chatId": CHAT})).json()
        bad = await http.post("/__sandbox/default/voice", json={"chatId": CHAT, "data": "bm90IGF1ZGlv"})
        served = await http.get(f"/api/files/default/{sent['id']}.ogg")
    assert sent["_data"]["message"]["audioMessage"]["ptt"] is True
    seconds = ogg_opus_seconds(note("note16"))
    assert seconds is not None and 2 < seconds < 6  # espeak-ng's sentence, read from the Ogg pages
    assert sent["_data"]["message"]["audioMessage"]["seconds"] == round(seconds)
    assert served.content == note("note16") and served.headers["content-type"].startswith("audio/ogg")
    assert sample["hasMedia"] and SAMPLE_TEXT == sentences()["note02"]
    assert bad.status_code == 400 and "Ogg stream" in bad.text


async def test_a_chat_resource_shows_the_transcript_once_it_is_known(voiced: Client, sandbox: Sandbox) -> None:
    mid = receive(sandbox, "note18")
    uri = f"waha://chats/{CHAT}/messages?session=default"

    async def voice_in_resource() -> dict[str, Any]:
        result = await voiced.read_resource(uri)
        messages = json.loads(result.contents[0].text)["messages"]
        return next(m["media"]["transcript"] for m in messages if m["id"] == mid)

    assert await voice_in_resource() == {"status": "pending"}  # reading it started the transcription
    for _ in range(200):  # the cached read is dropped when the transcript is stored
        shown = await voice_in_resource()
        if shown["status"] != "pending":
            break
        await asyncio.sleep(0.05)
    assert shown["status"] == "done" and shown["text"] == sentences()["note18"]


async def test_a_transient_failure_is_retried_when_read_after_its_wait(
    voiced: Client, sandbox: Sandbox, openai: tuple[OpenAIStub, str]
) -> None:
    stub, _ = openai
    stub.fail(503, {"error": {"message": "overloaded"}}, {"Retry-After": "0"})
    mid = receive(sandbox, "note20")
    failed = data(await call(voiced, "waha_transcribe", {"messageId": mid}))
    assert failed["status"] == "failed" and "failed (503: overloaded)" in failed["error"]
    assert failed["retryAfter"] == 0
    # Its wait is over: reading the message starts it again, without being asked to retry.
    assert (await settled(voiced, CHAT, mid))["text"] == sentences()["note20"]
    assert len(stub.uploads) == 2


async def test_messages_are_still_read_when_the_transcript_store_is_down(
    sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]
) -> None:
    server = make_server(sandbox, tmp_path, openai[1])
    async for client in connect(server):
        mid = receive(sandbox, "note21")
        server.store().close()  # the database is gone
        shown = data(await call(client, "waha_get_message", {"chatId": CHAT, "messageId": mid}))
        assert shown["media"]["type"] == "voice" and "transcript" not in shown["media"]
    server.close()


async def inbox_transcript(client: Client, mid: str) -> dict[str, Any] | None:
    """The transcript the inbox resource shows beside voice note `mid`, once its event is stored."""
    for _ in range(100):
        events = json.loads((await client.read_resource("waha://inbox?session=default")).contents[0].text)["events"]
        mine = [e for e in events if e.get("messageId") == mid and e["event"] == "message"]
        if mine:
            return mine[0].get("transcript")
        await asyncio.sleep(0.05)
    raise AssertionError("the voice note never reached the inbox")


async def test_the_inbox_resource_shows_transcripts_once_known(
    sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]
) -> None:
    server = make_server(sandbox, tmp_path, openai[1])
    async for client in connect(server):
        async with running(server, listener=False):
            mid = receive(sandbox, "note23")
            assert await inbox_transcript(client, mid) is None  # nothing known, and reading the inbox starts nothing
            await call(client, "waha_transcribe", {"messageId": mid})
            assert (await inbox_transcript(client, mid)) == {"status": "done", "text": sentences()["note23"],
                                                             "language": "english", "duration": 3.0}  # fmt: skip
    server.close()


async def test_waiting_for_words_matches_a_voice_note_that_says_them(
    sandbox: Sandbox, tmp_path: Path, openai: tuple[OpenAIStub, str]
) -> None:
    server = make_server(sandbox, tmp_path, openai[1])
    async for client in connect(server):
        async with running(server, listener=False):

            async def later() -> str:
                await asyncio.sleep(0.1)
                sandbox.inject_inbound("default", CHAT, "unrelated words")
                return receive(sandbox, "note03")  # "I will be at the train station in about twenty minutes."

            task = asyncio.create_task(later())
            args = {"chat": CHAT, "text": "Train Station", "timeout": 10}
            waited = data(await call(client, "waha_wait_for_message", args))
            mid = await task
            assert waited["matched"] and waited["event"]["messageId"] == mid
            assert waited["event"]["transcript"]["text"] == sentences()["note03"]
            # Words it does not say: no match (its transcript is cached by now, nothing is sent again).
            args = {"chat": CHAT, "text": "airport", "timeout": 1, "cursor": "0"}
            assert data(await call(client, "waha_wait_for_message", args))["matched"] is False
    server.close()
    assert len(openai[0].uploads) == 1
