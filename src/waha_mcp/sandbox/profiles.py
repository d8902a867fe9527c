"""Which WAHA the sandbox plays: version, tier, the routes that version has, its session rules and timing.

`current` is the newest WAHA (2026.9.1 Plus: the vendored 2026.7 document and the supplement of what 2026.7.2 to
2026.9.1 added) with instant state changes, as the sandbox always was. `plus-2026.7` is WAHA 2026.7.1 Plus: the
same, without the supplement's routes (each has its first release, `x-waha-since`).
`core-2024.10` is WAHA Core 2024.10.8 as observed on a real server (BEHAVIOUR.md): only the routes of its
own document (`openapi-2024.10.8.json`; any other answers NestJS's `404 Cannot GET ...`), only the
`default` session, no API-key check, the empty 201 of a create after a delete, an idempotent delete, and
real waits: 5 s before a status-mismatch 422, 3 s for stop/restart/update/delete, STARTING for a while
(forever when forced), a pairing code that never comes while STARTING, screenshots failing in
STARTING/FAILED. Every wait is multiplied by the sandbox's time factor (tests set it small).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..client.version import ServerVersion
from ..openapi.spec import DOCUMENT, DOCUMENT_2024_10, Operation, load_spec

CORE_ONLY_DEFAULT = (
    "WAHA Core support only 'default' session. If you want to run more then one WhatsApp account - "
    "please get WAHA PLUS version. Check this out: https://waha.devlike.pro/docs/how-to/plus-version/"
)


@dataclass(frozen=True)
class Timing:
    """Seconds, before the time factor."""

    status_wait: float = 0.0  # before the status-mismatch 422 (WAHA waits for the status to change)
    lifecycle: float = 0.0  # stop / restart / update / delete of a running session
    starting: float | None = None  # how long STARTING lasts; None: until the next request looks


@dataclass(frozen=True)
class Profile:
    name: str
    version: str
    tier: str
    engine: str
    document: str  # the vendored document of that version: its routes and its answers' schemas
    summary: str
    timing: Timing = Timing()
    only_default: bool = False  # WAHA Core before 2026.6: one session, `default`
    checks_keys: bool = True  # Core before 2026.6 lets any key (or none) through
    empty_create_after_delete: bool = False  # `create {start: false}` of a deleted name: 201, empty, nothing made
    idempotent_delete: bool = False  # deleting an unknown session answers 200, empty
    pairing_hangs_while_starting: bool = False  # NOWEB offline: the code waits for a QR that never comes
    screenshot_fails: tuple[str, ...] = ()  # statuses in which the screenshot is WAHA's 500
    null_me: bool = True  # a session not logged in shows `me: null`; 2024.10.8's document has no null there

    def session_info(self, info: dict[str, Any]) -> dict[str, Any]:
        """`SessionInfo` as this version shows it."""
        if not self.null_me and info.get("me") is None:
            return {key: value for key, value in info.items() if key != "me"}
        return info

    @cached_property
    def routes(self) -> frozenset[str] | None:
        """`METHOD /path` of every route this version has; None when it has every route of the newest document."""
        ops = load_spec(self.document).operations
        mine = frozenset(
            op.key
            for op in ops
            if not op.since or ServerVersion(self.version, "", "").at_least(*ServerVersion(op.since, "", "").release)
        )
        return None if self.document == DOCUMENT and len(mine) == len(ops) else mine

    def since(self, version: str) -> bool:
        """Whether this WAHA is `version` or newer (for answers that changed, not routes)."""
        return ServerVersion(self.version, "", "").at_least(*ServerVersion(version, "", "").release)

    def has(self, op: Operation) -> bool:
        routes = self.routes
        return routes is None or op.key in routes

    def environment(self) -> dict[str, str]:
        return {"version": self.version, "engine": self.engine, "tier": self.tier}


CURRENT = Profile(
    name="current",
    version="2026.9.1",
    tier="PLUS",
    engine="NOWEB",
    document=DOCUMENT,
    summary="WAHA 2026.9.1 PLUS: every route (the 2026.7 document and its supplement), many sessions, instant",
)

PLUS_2026_7 = Profile(
    name="plus-2026.7",
    version="2026.7.1",
    tier="PLUS",
    engine="NOWEB",
    document=DOCUMENT,
    summary="WAHA 2026.7.1 PLUS: the routes of the 2026.7 document only (none from 2026.7.2 on), instant",
)

CORE_2024_10 = Profile(
    name="core-2024.10",
    version="2024.10.8",
    tier="CORE",
    engine="NOWEB",
    document=DOCUMENT_2024_10,
    summary="WAHA 2024.10.8 CORE: that version's routes only, only 'default', no key check, real waits",
    timing=Timing(status_wait=5.0, lifecycle=3.0, starting=3.0),
    only_default=True,
    checks_keys=False,
    empty_create_after_delete=True,
    idempotent_delete=True,
    pairing_hangs_while_starting=True,
    screenshot_fails=("STARTING", "FAILED"),
    null_me=False,
)

PROFILES: dict[str, Profile] = {profile.name: profile for profile in (CURRENT, PLUS_2026_7, CORE_2024_10)}


def get_profile(name: str | Profile | None) -> Profile:
    if isinstance(name, Profile):
        return name
    if not name:
        return CURRENT
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown sandbox profile {name!r}; one of {', '.join(PROFILES)}") from None
