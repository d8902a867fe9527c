"""Voice notes across replicas: real `waha-mcp serve --http --stateless` processes on one PostgreSQL and one
sandbox, transcribing through a real local OpenAI-compatible server. However many replicas hear of a voice note
(each stores or reads back every incoming event) or are asked for it at once, it is transcribed once."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx2

from tests.e2e.replicas import Replica, world
from tests.e2e.servers import serving
from tests.helpers import call, data
from tests.pg import pg_dsn
from tests.transcribe.conftest import note, sentences
from tests.transcribe.openai_server import OpenAIStub

__all__ = ["pg_dsn"]
CHAT = "4915777000222@c.us"
KEY = "sk-replicas-0123456789abcdef"


def transcribing(url: str) -> dict[str, str]:
    return {
        "WAHA_MCP_TRANSCRIBE": "openai",
        "WAHA_MCP_TRANSCRIBE_URL": url,
        "WAHA_MCP_TRANSCRIBE_API_KEY": KEY,
        "WAHA_MCP_TRANSCRIBE_INCOMING": "1",
    }


def engine(delay: float = 1.0) -> OpenAIStub:
    stub = OpenAIStub(key=KEY, delay=delay)  # long enough for every replica to hear of the note meanwhile
    for name, text in sentences().items():
        stub.learn(note(name), text)
    return stub


async def inject_voice(http: httpx2.AsyncClient, waha: str, name: str) -> str:
    body = {"chatId": CHAT, "data": base64.b64encode(note(name)).decode()}
    answer = await http.post(f"{waha}/__sandbox/default/voice", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def transcript_on(replica: Replica, http: httpx2.AsyncClient, mid: str, timeout: float = 30) -> dict[str, Any]:
    """The transcript `waha_get_message` shows on `replica` once it is no longer pending."""
    deadline = time.monotonic() + timeout
    async with replica.client(http) as client:
        while True:
            shown = data(await call(client, "waha_get_message", {"chatId": CHAT, "messageId": mid}))
            transcript: dict[str, Any] = shown["media"].get("transcript", {})
            if transcript.get("status") == "done" or time.monotonic() > deadline:
                return transcript
            await asyncio.sleep(0.2)


async def in_resource(replica: Replica, http: httpx2.AsyncClient, mid: str) -> dict[str, Any]:
    """The voice note's transcript as the chat's messages resource shows it on `replica`."""
    async with replica.client(http) as client:
        result = await client.read_resource(f"waha://chats/{CHAT}/messages?session=default")
    messages = json.loads(result.contents[0].text)["messages"]  # type: ignore[union-attr]
    return dict(next(m["media"].get("transcript", {}) for m in messages if m["id"] == mid))


async def test_an_incoming_voice_note_is_transcribed_once_by_replicas_that_all_hear_of_it(
    pg_dsn: str, tmp_path: Path
) -> None:
    stub = engine(delay=3.0)  # the resources are read on both replicas while it is pending
    with serving(stub.app()) as url:
        async with world(pg_dsn, tmp_path) as w:
            a, b = w.start(**transcribing(f"{url}/v1")), w.start(**transcribing(f"{url}/v1"))
            await w.ready(a, b, streams_open=2)  # both consume WAHA's events: each hears of every note
            async with httpx2.AsyncClient(timeout=30) as http:
                mid = await inject_voice(http, w.waha, "note03")
                early = [await in_resource(replica, http, mid) for replica in (a, b)]  # kept in each one's cache
                shown = [await transcript_on(replica, http, mid) for replica in (a, b)]
                await asyncio.sleep(2.0)  # a second transcription, had one started, is over by now
                # The replica that did not transcribe it learns the outcome too: its cached resource is redone.
                late = [await in_resource(replica, http, mid) for replica in (a, b)]
            logs = [replica.log.read_text() for replica in (a, b)]
    expected = {"status": "done", "text": sentences()["note03"], "language": "english", "duration": 3.0}
    assert early == [{"status": "pending"}] * 2
    assert shown == [expected, expected]
    assert late == [expected, expected]
    assert len(stub.uploads) == 1, [u.filename for u in stub.uploads]
    assert not any(KEY in log or KEY[3:15] in log for log in logs)


async def test_a_voice_note_asked_of_two_replicas_at_once_is_transcribed_once(pg_dsn: str, tmp_path: Path) -> None:
    """Two tool calls on two replicas ask for one note at the same moment (and both replicas' background queues
    offer it): one transcribes it, the other waits for that outcome in the shared store and answers it."""
    stub = engine()
    with serving(stub.app()) as url:
        async with world(pg_dsn, tmp_path) as w:
            a, b = w.start(**transcribing(f"{url}/v1")), w.start(**transcribing(f"{url}/v1"))
            await w.ready(a, b, streams_open=2)
            async with httpx2.AsyncClient(timeout=30) as http:
                mid = await inject_voice(http, w.waha, "note04")

                async def ask(replica: Replica) -> dict[str, Any]:
                    async with replica.client(http) as client:
                        return dict(data(await call(client, "waha_transcribe", {"messageId": mid, "wait": 20})))

                answers = await asyncio.gather(ask(a), ask(b))
                await asyncio.sleep(2.0)
    assert [(x["status"], x.get("text")) for x in answers] == [("done", sentences()["note04"])] * 2
    assert len(stub.uploads) == 1
