"""What a given WAHA sends as events: the names its webhook config accepts, and what its /ws streams.

- WAHA Core 2024.10 refuses (400) a session config whose webhook `events` hold a name outside its own
  `WAHAEvents` (src/structures/enums.dto.ts of that release: the 20 names of its document's `webhooks` section
  and `engine.event`; `*` too). `message.edited` and `group.v2.*` came later; exactly when is not published
  in a form read here, so every WAHA older than 2025.1 gets the 2024.10 list (a missed name beats a refusal).
- Core's /ws before 2026.6 (src/core/api/websocket.gateway.core.ts) streams only `session.status`: messages
  reach such a WAHA's users by webhook only. A Plus WAHA, and every WAHA from 2026.6 (the former Plus features
  in the free image), streams every event.
"""

from __future__ import annotations

from waha_mcp.client.version import ALL_FEATURES_FREE, ServerVersion

CORE_2024_10_EVENTS = frozenset(
    "session.status message message.reaction message.any message.ack message.revoked state.change group.join "
    "group.leave presence.update poll.vote poll.vote.failed chat.archive call.received call.accepted "
    "call.rejected label.upsert label.deleted label.chat.added label.chat.deleted engine.event".split()
)
NEWER_NAMES_FROM = (2025, 1)
# What waha_configure_webhooks subscribes to unless told otherwise: what an agent reads and waits for.
DEFAULT_EVENTS = ("message", "message.any", "message.ack", "message.reaction", "message.revoked", "message.edited",
                  "session.status", "group.v2.join", "group.v2.leave", "group.v2.update", "group.v2.participants",
                  "call.received")  # fmt: skip
# The same for a WAHA that knows only the 2024.10 names (group.join/leave were its group events).
LEGACY_DEFAULT_EVENTS = ("message", "message.any", "message.ack", "message.reaction", "message.revoked",
                         "session.status", "group.join", "group.leave", "call.received")  # fmt: skip


def accepted_names(version: ServerVersion | None) -> frozenset[str] | None:
    """The webhook event names this WAHA accepts in a session config; None: any (or not known)."""
    if version is None or not version.release or version.at_least(*NEWER_NAMES_FROM):
        return None
    return CORE_2024_10_EVENTS


def default_events(version: ServerVersion | None) -> list[str]:
    return list(DEFAULT_EVENTS if accepted_names(version) is None else LEGACY_DEFAULT_EVENTS)


def ws_streams_messages(version: ServerVersion | None) -> bool:
    """Whether this WAHA's /ws sends message events (False: only `session.status`); True when not known."""
    return version is None or version.tier != "CORE" or version.at_least(*ALL_FEATURES_FREE)


def messages_need_webhooks(version: ServerVersion) -> str:
    return (
        f"WAHA {version.label} streams only session.status over /ws (Core before 2026.6): messages, acks and "
        "other events reach this server only by webhook; set WAHA_MCP_EVENTS=webhook and run "
        "waha_configure_webhooks (or WAHA_MCP_WEBHOOK_SESSIONS)"
    )
