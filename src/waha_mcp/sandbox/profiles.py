"""Which WAHA the sandbox plays: version, tier, the routes that version has, its session rules and timing.

`current` is the newest WAHA (2026.7 Plus) with instant state changes, as the sandbox always was.
`core-2024.10` is WAHA Core 2024.10.8 as observed on a real server (BEHAVIOUR.md): only the routes of its
own document (`openapi-2024.10.8.json`; any other answers NestJS's `404 Cannot GET ...`), only the
`default` session, no API-key check, the empty 201 of a create after a delete, an idempotent delete, and
real waits: 5 s before a status-mismatch 422, 3 s for stop/restart/update/delete, STARTING for a while
(forever when forced), a pairing code that never comes while STARTING, NOWEB's screenshot rules. Every
wait is multiplied by the sandbox's time factor (tests set it small).
Its events go out as Core's did (`wire`, `signs_webhooks`, `core_ws`, `webhook_events`): see `Profile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..openapi.spec import DOCUMENT, DOCUMENT_2024_10, Operation, load_spec

# The event names WAHA Core 2024.10.8 knows (`WAHAEvents`, src/structures/enums.dto.ts of that release): the
# 20 of its document's `webhooks` section plus `engine.event`, in declaration order. A session config naming any
# other is a 400.
CORE_2024_10_EVENTS = tuple(
    "session.status message message.reaction message.any message.ack message.revoked state.change group.join "
    "group.leave presence.update poll.vote poll.vote.failed chat.archive call.received call.accepted "
    "call.rejected label.upsert label.deleted label.chat.added label.chat.deleted engine.event".split()
)

# What Core 2024.10's NOWEB session refuses, and how (src/core/exceptions.ts of that era: both 422, NestJS's
# UnprocessableEntityException; later releases name the engine and make NotImplementedByEngineError a 501).
# Sends of media throw AvailableInPlusVersion in session.noweb.core.ts; the rest are what the issue-21 audit
# found refused on Core; which of the two texts each one gives was not read per route here.
PLUS_ONLY = "The feature is available only in Plus version. Check this out: https://waha.devlike.pro/"
NOT_BY_ENGINE = "The method is not implemented by the engine."
CORE_2024_10_REFUSALS = {
    **dict.fromkeys(
        (
            "ChattingController_sendImage", "ChattingController_sendFile", "ChattingController_sendVoice",
            "ChattingController_sendVideo", "StatusController_sendImageStatus", "StatusController_sendVoiceStatus",
            "StatusController_sendVideoStatus",
        ),
        PLUS_ONLY,
    ),
    **dict.fromkeys(
        (
            "ChatsController_deleteChat", "ChatsController_clearMessages", "ContactsController_getAbout",
            "ContactsController_block", "ContactsController_unblock", "PresenceController_subscribe",
            "GroupsController_setInfoAdminOnly", "GroupsController_getInfoAdminOnly",
            "GroupsController_setMessagesAdminOnly", "GroupsController_getMessagesAdminOnly",
        ),
        NOT_BY_ENGINE,
    ),
}  # fmt: skip

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
    # NOWEB's getScreenshot (src/core/engines/noweb/session.noweb.core.ts): STARTING and any state but
    # SCAN_QR_CODE are 422s, SCAN_QR_CODE answers the QR image. False: a page screenshot (a browser engine's).
    noweb_screenshot: bool = False
    null_me: bool = True  # a session not logged in shows `me: null`; 2024.10.8's document has no null there
    # Core 2024.10 (src/core/webhooks.core.ts): envelopes without `id`/`timestamp`, webhooks posted once with
    # no `X-Webhook-*` headers, no HMAC and no retries (`hmac`, `retries`, `customHeaders` accepted, unused).
    signs_webhooks: bool = True
    # Core 2024.10's /ws (src/core/api/websocket.gateway.core.ts): only `session=*` with `events=*` or
    # `events=session.status` (else closed with 4001), and only `session.status` is ever sent.
    core_ws: bool = False
    webhook_events: tuple[str, ...] | None = None  # the names a session config may hold; None: any
    # Core 2024.10's SessionManagerCore: start/stop/logout/restart and GET answer `getSessionInfo` (with `me` and
    # `engine: {engine}`, `{}` when stopped); GET of any name but `default` is its 404 (the manager knows no
    # other; only the other routes call `onlyDefault`'s 422); `create` without `start` does not start (the
    # document's `default: true` is not applied there, as the issue-21 audit found on a real server).
    lifecycle_info: bool = False
    create_starts_by_default: bool = True
    # operationId → the 422 message a working session answers instead of doing it (Core's refusals)
    refusals: Mapping[str, str] = field(default_factory=dict)

    def wire(self, record: dict[str, Any]) -> dict[str, Any]:
        """A logged event as this version sends it by webhook and /ws."""
        if self.signs_webhooks:
            return record
        # Core: `{event, session, metadata, me, payload, engine, environment}`; metadata only when configured.
        out = {k: v for k, v in record.items() if k not in ("id", "timestamp") and (k != "metadata" or v)}
        out["environment"] = self.environment()
        return out

    def session_info(self, info: dict[str, Any]) -> dict[str, Any]:
        """`SessionInfo` as this version shows it."""
        if not self.null_me and info.get("me") is None:
            return {key: value for key, value in info.items() if key != "me"}
        return info

    @cached_property
    def routes(self) -> frozenset[str] | None:
        """`METHOD /path` of every route this version has; None when it is the newest document (all)."""
        if self.document == DOCUMENT:
            return None
        return frozenset(op.key for op in load_spec(self.document).operations)

    def has(self, op: Operation) -> bool:
        routes = self.routes
        return routes is None or op.key in routes

    def environment(self) -> dict[str, str]:
        return {"version": self.version, "engine": self.engine, "tier": self.tier}


CURRENT = Profile(
    name="current",
    version="2026.7.1",
    tier="PLUS",
    engine="NOWEB",
    document=DOCUMENT,
    summary="WAHA 2026.7.1 PLUS: every route of the newest document, many sessions, instant state changes",
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
    noweb_screenshot=True,
    null_me=False,
    signs_webhooks=False,
    core_ws=True,
    webhook_events=CORE_2024_10_EVENTS,
    refusals=CORE_2024_10_REFUSALS,
    lifecycle_info=True,
    create_starts_by_default=False,
)

PROFILES: dict[str, Profile] = {profile.name: profile for profile in (CURRENT, CORE_2024_10)}


def get_profile(name: str | Profile | None) -> Profile:
    if isinstance(name, Profile):
        return name
    if not name:
        return CURRENT
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown sandbox profile {name!r}; one of {', '.join(PROFILES)}") from None
