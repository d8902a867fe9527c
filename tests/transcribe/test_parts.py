"""The transcript cache (its contract, on a real SQLite file and a real PostgreSQL), the settings, and what is
known of audio unread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import BACKENDS, pg_dsn, store_setting
from tests.transcribe.conftest import note
from waha_mcp.config import ConfigError, load_settings
from waha_mcp.store import open_store
from waha_mcp.transcribe.audio import filename_for, is_audio, ogg_opus_seconds
from waha_mcp.transcribe.store import MemoryTranscripts, Transcript, TranscriptStore, transcripts_for

__all__ = ["pg_dsn"]  # the fixture `store_setting` asks for

MID = "false_12025550999@c.us_3EB0AAAAAAAAAAAAAAAA"


@pytest.fixture(params=[*BACKENDS, "memory"])
def caches(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TranscriptStore, TranscriptStore]]:
    """Two views of one cache: on a backend, the caches `transcripts_for` picks on two stores opened on one
    SQLite file or one PostgreSQL database (two replicas sharing it); in memory, one process's cache seen twice
    (it is not shared between processes)."""
    if request.param == "memory":
        cache = MemoryTranscripts()
        yield cache, cache
        return
    target = store_setting(request, str(tmp_path / "store.sqlite3"))
    opened = [open_store(target), open_store(target)]
    yield transcripts_for(opened[0]), transcripts_for(opened[1])
    for store in opened:
        store.close()


async def test_an_outcome_is_read_back_by_every_replica(caches: tuple[TranscriptStore, TranscriptStore]) -> None:
    one, two = caches
    assert await one.get("default", MID) is None
    done = Transcript("done", text="hello there", language="en", duration=2.5, engine="local:tiny", at=time.time())
    await one.put("default", MID, done)
    assert await two.get("default", MID) == done
    assert await two.get("other", MID) is None  # keyed by session too
    await two.mark_failed("other", MID, "rate-limiting (429)", retry_at=123.0, engine="openai:whisper-1")
    found = await one.get_many([("default", MID), ("other", MID), ("default", "nope")])
    assert set(found) == {("default", MID), ("other", MID)}
    assert found[("other", MID)].status == "failed" and found[("other", MID)].retry_at == 123.0
    # A retry that succeeds replaces the failure.
    await one.put("other", MID, done)
    assert (await two.get("other", MID)) == done


async def test_many_keys_are_read_in_one_call(caches: tuple[TranscriptStore, TranscriptStore]) -> None:
    cache = caches[0]
    for i in range(450):
        await cache.put("s", f"m{i}", Transcript("done", text=str(i), at=1.0))
    found = await cache.get_many([("s", f"m{i}") for i in range(500)])
    assert len(found) == 450 and found[("s", "m449")].text == "449"


def test_the_memory_cache_is_bounded() -> None:
    import asyncio

    cache = MemoryTranscripts()
    cache.LIMIT = 3

    async def fill() -> None:
        for i in range(5):
            await cache.put("s", f"m{i}", Transcript("done", text=str(i)))

    asyncio.run(fill())
    assert set(asyncio.run(cache.get_many([("s", f"m{i}") for i in range(5)]))) == {
        ("s", "m2"),
        ("s", "m3"),
        ("s", "m4"),
    }


def test_settings_for_an_endpoint_need_its_url_and_keep_the_key_out_of_it() -> None:
    with pytest.raises(ConfigError, match="WAHA_MCP_TRANSCRIBE=openai needs WAHA_MCP_TRANSCRIBE_URL"):
        load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_TRANSCRIBE="openai")
    with pytest.raises(ConfigError, match="not in the URL") as caught:
        load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_TRANSCRIBE="openai",
                      WAHA_MCP_TRANSCRIBE_URL="https://user:sk-in-url@api.example/v1")  # fmt: skip
    assert "sk-in-url" not in str(caught.value)
    with pytest.raises(ConfigError, match="WAHA_MCP_TRANSCRIBE"):
        load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_TRANSCRIBE="cloud")
    endpoint = {"WAHA_MCP_TRANSCRIBE_URL": "http://localhost:8000/v1/", "WAHA_MCP_TRANSCRIBE_API_KEY": " "}
    ok = load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_TRANSCRIBE="openai", **endpoint)
    assert ok.transcribe_url == "http://localhost:8000/v1" and ok.transcribe_key is None


def test_the_length_of_a_voice_note_is_read_from_its_ogg_pages() -> None:
    seconds = ogg_opus_seconds(note("note01"))
    assert seconds is not None and 3.5 < seconds < 5  # espeak-ng's sentence: 4.24 s decoded (test_local)
    assert ogg_opus_seconds(b"ID3\x04" + b"\x00" * 100) is None
    assert ogg_opus_seconds(b"") is None


def test_what_counts_as_audio() -> None:
    assert is_audio("audio/ogg; codecs=opus") and is_audio("audio/mpeg")
    assert is_audio("application/octet-stream", note("note01")[:16])
    assert not is_audio("image/jpeg", b"\xff\xd8\xff") and not is_audio("application/pdf", b"%PDF")
    assert filename_for("audio/ogg; codecs=opus") == "voice.ogg" and filename_for("audio/mpeg") == "voice.mp3"
