"""What a WAHA server is: its version and tier, read once from `GET /api/server/version`.

The client uses it to explain what a given WAHA cannot do (a route an older version lacks, keys a Core
before 2026.6 does not check) instead of blaming the session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Since 2026.6.1 every former Plus feature (many sessions, API-key security, media) is in the free image.
ALL_FEATURES_FREE = (2026, 6)
_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class ServerVersion:
    version: str  # as WAHA says it: "2024.10.8", "2026.7.1"
    tier: str  # CORE or PLUS (upper case)
    engine: str

    @classmethod
    def from_answer(cls, answer: Any) -> ServerVersion | None:
        """From WAHA's `WAHAEnvironment` answer; None when it names no version."""
        if not isinstance(answer, dict) or not isinstance(answer.get("version"), str) or not answer["version"]:
            return None
        return cls(str(answer["version"]), str(answer.get("tier") or "").upper(), str(answer.get("engine") or ""))

    @property
    def label(self) -> str:
        """`2024.10.8 CORE`: how messages name this WAHA."""
        return f"{self.version} {self.tier}".strip()

    @property
    def release(self) -> tuple[int, ...]:
        """The version as numbers, (2024, 10, 8); () when it has none."""
        return release_of(self.version)

    def at_least(self, *release: int) -> bool:
        return bool(self.release) and self.release >= release

    @property
    def checks_keys(self) -> bool:
        """Whether this WAHA checks `X-Api-Key` at all: Plus always did, Core only from 2026.6."""
        return self.tier != "CORE" or self.at_least(*ALL_FEATURES_FREE)

    @property
    def many_sessions(self) -> bool:
        """Whether sessions other than `default` exist here (Core before 2026.6 has only `default`)."""
        return self.checks_keys


@lru_cache(maxsize=64)
def release_of(version: str) -> tuple[int, ...]:
    """`2026.8.1` (or `2026.8.1-beta`) as (2026, 8, 1); () when it has no numbers. Remembered: the version gate
    compares the connected WAHA's with a route's on every call of a later release's route."""
    return tuple(int(n) for n in _NUMBERS.findall(version.split("-")[0])[:3])
