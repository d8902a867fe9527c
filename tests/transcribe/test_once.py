"""Once across replicas (waha_mcp.transcribe.service): transcribers on two instances of one store (a real SQLite
file, a real PostgreSQL) and one real local OpenAI-compatible engine: a note is transcribed by the one that claims
it, the other answers that outcome; a claim left by a killed replica is taken over once its lease is over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.pg import BACKENDS, pg_dsn, store_setting
from tests.transcribe.conftest import note, sentences
from tests.transcribe.openai_server import OpenAIStub
from waha_mcp import transcribe
from waha_mcp.config import load_settings
from waha_mcp.store import open_store
from waha_mcp.transcribe import Audio, Transcriber, transcripts_for
from waha_mcp.transcribe.endpoint import EndpointEngine

__all__ = ["pg_dsn"]  # the fixture `store_setting` asks for
KEY = "sk-test-0123456789abcdef"  # the openai fixture's
MID = "false_12025550999@c.us_3EB0BBBBBBBBBBBBBBBB"


async def fetch() -> Audio:
    return Audio(note("note06"), "audio/ogg; codecs=opus")


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_setting(request, str(tmp_path / "store.sqlite3"))  # outside the test's event loop


@pytest.fixture
async def replicas(target: str, openai: tuple[OpenAIStub, str]) -> AsyncIterator[tuple[Transcriber, Transcriber]]:
    """Two transcribers, each on its own instance of one store (two replicas), one engine."""
    stores = [open_store(target), open_store(target)]
    options = {"max_bytes": 10**7, "max_seconds": 900.0, "timeout": 10.0, "fetch_timeout": 10.0}
    made = [Transcriber(EndpointEngine(openai[1], KEY, timeout=10), transcripts_for(s), **options) for s in stores]
    yield made[0], made[1]
    for transcriber in made:
        await transcriber.aclose()
    for store in stores:
        store.close()


async def test_two_replicas_waiting_for_one_note_share_one_transcription(
    replicas: tuple[Transcriber, Transcriber], openai: tuple[OpenAIStub, str]
) -> None:
    one, two = replicas
    openai[0].delay = 1.0
    told: list[tuple[str, str]] = []
    two.on_outcome.append(lambda session, mid: told.append((session, mid)))
    answers = await asyncio.gather(*(t.wait("default", MID, fetch, timeout=20) for t in (one, two)))
    expected = {"status": "done", "text": sentences()["note06"], "language": "english", "duration": 3.0}
    assert answers == [expected, expected]
    assert len(openai[0].uploads) == 1
    assert one.counters["done"] + two.counters["done"] == 1
    # Each process's caches of what shows the note are told its outcome, the loser's too (it read it).
    for _ in range(40):
        if told:
            break
        await asyncio.sleep(0.1)
    assert told == [("default", MID)]


async def test_a_replica_that_lost_the_claim_shows_pending_and_answers_pending_after_its_timeout(
    replicas: tuple[Transcriber, Transcriber], openai: tuple[OpenAIStub, str]
) -> None:
    one, two = replicas
    openai[0].delay = 2.0
    one.start("default", MID, fetch)
    for _ in range(50):  # one's claim is in the store
        if (await two.store.get("default", MID)) is not None:
            break
        await asyncio.sleep(0.02)
    held = await two.store.get("default", MID)
    assert held is not None and held.status == "pending" and held.owner == one.owner
    assert await two.known([("default", MID)]) == {("default", MID): {"status": "pending"}}
    assert await two.wait("default", MID, fetch, timeout=0.3) == {"status": "pending"}
    assert (await two.wait("default", MID, fetch, timeout=10))["status"] == "done"
    assert len(openai[0].uploads) == 1 and two.stats()["running"] == 0


async def test_a_claim_left_by_a_killed_replica_is_taken_over_once_it_expires(
    replicas: tuple[Transcriber, Transcriber], openai: tuple[OpenAIStub, str]
) -> None:
    _, two = replicas
    # A replica killed mid-transcription: its claim stays, no outcome ever comes.
    assert await two.store.claim("default", MID, owner="killed:1:x", until=time.time() + 1.0)
    assert await two.ensure("default", MID, fetch) == {"status": "pending"}
    await asyncio.sleep(0.2)
    assert openai[0].uploads == []  # nobody else fetches or transcribes it while the claim lasts
    await asyncio.sleep(1.0)
    assert await two.known([("default", MID)]) == {}  # an expired claim is nobody's work
    shown = await two.wait("default", MID, fetch, timeout=10)
    assert shown["status"] == "done" and len(openai[0].uploads) == 1


async def test_a_fetch_that_hangs_fails_within_the_lease(replicas: tuple[Transcriber, Transcriber]) -> None:
    one, _ = replicas
    one.fetch_timeout = 0.2

    async def hangs() -> Audio:
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    shown = await one.wait("default", MID, hangs, timeout=5)
    assert shown["status"] == "failed" and "fetching the audio from WAHA took longer than 0 s" in shown["error"]
    assert (await one.store.get("default", MID) or transcribe.Transcript("done")).status == "failed"


def test_the_lease_covers_the_fetch_and_the_transcription() -> None:
    engine = {"WAHA_MCP_TRANSCRIBE": "openai", "WAHA_MCP_TRANSCRIBE_URL": "http://127.0.0.1:9/v1"}
    settings = load_settings(WAHA_BASE_URL="http://waha", WAHA_TIMEOUT="10", WAHA_MCP_TRANSCRIBE_TIMEOUT="45", **engine)
    built = transcribe.build(settings, transcribe.MemoryTranscripts())
    assert built is not None
    assert (built.fetch_timeout, built.timeout, built.lease) == (20.0, 45.0, 20.0 + 45.0 + 30.0)


async def test_a_replica_stopping_mid_transcription_gives_its_claim_back(
    replicas: tuple[Transcriber, Transcriber], openai: tuple[OpenAIStub, str]
) -> None:
    one, two = replicas
    openai[0].delay = 3.0
    one.start("default", MID, fetch)
    for _ in range(100):  # under way: the engine has the audio
        if openai[0].uploads:
            break
        await asyncio.sleep(0.02)
    assert (await two.store.get("default", MID) or transcribe.Transcript("done")).owner == one.owner
    await one.aclose()  # shutting down (a rolling restart)
    assert await two.store.get("default", MID) is None  # not left to expire: another takes it at once
    openai[0].delay = 0.0
    assert (await two.wait("default", MID, fetch, timeout=10))["status"] == "done"
