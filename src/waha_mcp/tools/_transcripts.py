"""Transcripts beside every voice note or audio message a tool shows (messages, events, waits).

Known transcripts come from the cache; a note not yet transcribed starts its transcription (on demand)
and shows `pending`. Nothing is added while WAHA_MCP_TRANSCRIBE is off.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from waha_mcp.projections.events import Event
from waha_mcp.projections.media import MediaSummary
from waha_mcp.projections.messages import Message, MessageDetail
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.transcribe import VOICE_TYPES, Audio, Fetch, Transcriber, fetch_audio

log = logging.getLogger("waha_mcp.transcribe")
# At most this many transcriptions are started by one read; the others start when read again.
START_PER_CALL = 20


def fetcher(w: Invocation, transcriber: Transcriber, session: str, chat: str, mid: str) -> Fetch:
    client, limit = w.client, transcriber.max_bytes

    async def fetch() -> Audio:
        return await fetch_audio(client, session, chat, mid, limit)

    return fetch


# (session, chat, message id, what carries `transcript`, the media type)
_Item = tuple[str, str, str, MediaSummary | Event, str]


async def annotate(w: Invocation, items: list[_Item]) -> None:
    """Each item: (session, chat, message id, the projection to carry `transcript`, the media type)."""
    transcriber: Transcriber | None = w.app.transcriber
    voiced = [item for item in items if item[4] in VOICE_TYPES and item[1] and item[2]]
    if transcriber is None or not voiced:
        return
    try:
        known = await transcriber.known((session, mid) for session, _, mid, _, _ in voiced)
    except Exception as exc:  # the store down: the messages are still shown, without transcripts
        log.warning("transcripts not read: %s", type(exc).__name__)
        return
    started = 0
    for session, chat, mid, target, _ in voiced:
        shown = known.get((session, mid))
        due = shown is None or (shown["status"] == "failed" and shown.get("retryAfter") == 0)
        if due and started < START_PER_CALL:
            try:
                shown = await transcriber.ensure(session, mid, fetcher(w, transcriber, session, chat, mid))
            except Exception as exc:
                log.warning("transcription of %s not started: %s", mid[:60], type(exc).__name__)
                return
            started += 1
        if shown is not None:
            target["transcript"] = shown


async def annotate_messages(w: Invocation, chat: str, messages: Sequence[Message] | Sequence[MessageDetail]) -> None:
    """Projected messages (`id` or `messageId`, `media.type`): the transcript goes inside `media`."""
    items: list[_Item] = []
    for msg in messages:
        media = msg.get("media")
        mid = msg.get("id") or msg.get("messageId")
        if media and isinstance(mid, str):
            items.append((w.acting, chat, mid, media, str(media.get("type"))))
    await annotate(w, items)


async def annotate_events(w: Invocation, events: Sequence[Event]) -> None:
    """Compact events (`session`, `chatId`, `messageId`, `media` as a type name): `transcript` beside them."""
    items: list[_Item] = [
        (str(e["session"]), str(e.get("chatId") or ""), str(e.get("messageId") or ""), e, str(e.get("media")))
        for e in events
        if e.get("media")
        and e.get("session")
        and str(e.get("event", "")).startswith("message")
        and not str(e.get("event", "")).startswith("message.ack")
    ]
    await annotate(w, items)


async def heard(w: Invocation, row: Any, seconds: float) -> str | None:
    """What an inbox row's voice note says, waiting up to `seconds` for its transcription; None when it is no
    voice note, transcription is off, or no text came in time."""
    transcriber: Transcriber | None = w.app.transcriber
    s = row.summary
    if transcriber is None or s.media not in VOICE_TYPES or not s.chat or not s.message_id or seconds <= 0:
        return None
    try:
        shown = await transcriber.wait(
            s.session, s.message_id, fetcher(w, transcriber, s.session, s.chat, s.message_id), timeout=seconds
        )
    except Exception as exc:
        log.warning("transcription of %s not read: %s", s.message_id[:60], type(exc).__name__)
        return None
    return shown.get("text") if shown["status"] == "done" else None
