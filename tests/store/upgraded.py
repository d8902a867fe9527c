"""What an upgraded store must still hold of the transcripts written before the claim (migrations: SQLite 3,
PostgreSQL 4), and that the claim works on them: one check for both backends' upgrade tests."""

from __future__ import annotations

import time

from waha_mcp.transcribe.store import Transcript, TranscriptStore

KEPT = {
    ("default", "m1"): Transcript("done", text="kept", language="en", duration=2.5, engine="openai:whisper-1", at=10.0),
    ("default", "m2"): Transcript("failed", error="rate-limiting (429)", retry_at=20.0, at=11.0),
}


async def check_transcripts_kept(cache: TranscriptStore) -> None:
    assert await cache.get_many(list(KEPT)) == KEPT
    assert await cache.claim("default", "m1", owner="a", until=time.time() + 60) is False
    assert await cache.claim("default", "m2", owner="a", until=time.time() + 60) is True  # its retry was due
    claimed = await cache.get("default", "m2")
    assert claimed is not None and (claimed.status, claimed.owner) == ("pending", "a")
