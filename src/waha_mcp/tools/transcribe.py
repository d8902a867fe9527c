"""Toolset `media`: `waha_transcribe`, a voice note (or any audio message) as text (waha_mcp.transcribe)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import unquote, urlsplit

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.client import NotOnFileServer, TooLarge, WAHAError
from waha_mcp.errors import ToolInputError
from waha_mcp.ids import message_key
from waha_mcp.projections.media import message_media
from waha_mcp.tools._common import ChatId, MessageId, Session
from waha_mcp.tools._transcripts import fetcher
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool
from waha_mcp.transcribe import VOICE_TYPES, Audio, Fetch, TranscribeError, Transcriber
from waha_mcp.transcribe.audio import is_audio

# WAHA's file server: /api/files/<session>/<message id>.<ext>; WAHA's OpenAPI example (2026.7) shows it without
# the session folder (/api/files/false_111@c.us_AAA.oga), so both are read.
_FILES_PATH = re.compile(r"^/api/files/(?:([^/]+)/)?([^/]+)\.[A-Za-z0-9]{1,8}$")
Wait = Annotated[float, Field(ge=0, le=120, description="Seconds to wait for the text; then pending.")]


def _off() -> ToolInputError:
    return ToolInputError(
        "transcription is off on this server: set WAHA_MCP_TRANSCRIBE=openai (an OpenAI-compatible endpoint, "
        "WAHA_MCP_TRANSCRIBE_URL) or local (faster-whisper, extra `transcribe`)"
    )


def _transcribed(session: str, mid: str, shown: view.TranscriptView, engine: str | None) -> view.Transcribed:
    out: view.Transcribed = {"messageId": mid, "session": session, **shown}
    if shown["status"] == "done" and engine:
        out["engine"] = engine
    return out


@tool(
    "A voice note or audio message as text (+language, seconds): by messageId or WAHA files URL. Cached.",
    effect=Effect.READ,
    output=view.Transcribed,
    operations=("ChatsController_getChatMessage",),
    default="transcribe",
    toolset="media",
)
async def transcribe(
    w: Invocation,
    messageId: MessageId | None = None,
    chatId: ChatId | None = None,
    url: Annotated[str | None, Field(max_length=2000, description="WAHA's /api/files/... URL")] = None,
    session: Session = None,
    retry: Annotated[bool, Field(description="Try a failed one again now")] = False,
    wait: Wait = 60,
) -> view.Transcribed:
    transcriber: Transcriber | None = w.app.transcriber
    if transcriber is None:
        raise _off()
    if bool(messageId) == bool(url):
        raise ToolInputError("give exactly one of messageId and url")
    acting = w.acting
    if url:
        mid, fetch = await _by_url(w, transcriber, url)
    else:
        mid = messageId or ""
        cached = await transcriber.store.get(acting, mid)
        if cached is not None and cached.status == "done":  # never transcribed twice: WAHA is not even asked
            return _transcribed(acting, mid, view.transcript_view(cached) or {"status": "done"}, cached.engine)
        chat = chatId or _chat_of(mid)
        msg = await w.call("ChatsController_getChatMessage", chatId=chat, messageId=mid, query={"downloadMedia": False})
        media = message_media(msg) if isinstance(msg, dict) else None
        if media is None or media.get("type") not in VOICE_TYPES:
            kind = media["type"] if media else "text"
            kind = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}" if media else kind
            raise ToolInputError(f"message {mid} is {kind}, not a voice note or audio: nothing to transcribe")
        fetch = fetcher(w, transcriber, acting, chat, mid)
    shown = await transcriber.wait(acting, mid, fetch, timeout=wait, retry=retry)
    return _transcribed(acting, mid, shown, transcriber.engine.name)


def _chat_of(message_id: str) -> str:
    chat = message_key(message_id).chat
    if chat is None:
        raise ToolInputError(f"give chatId: it cannot be read from messageId {message_id!r}")
    return chat


async def _by_url(w: Invocation, transcriber: Transcriber, url: str) -> tuple[str, Fetch]:
    """The message id a files-route URL names, and how to fetch it (this URL, nothing else)."""
    # Read before anything is queued: the path names the message the transcript is kept under, and a URL that is
    # not WAHA's is refused here rather than recorded as a failed transcript of that message.
    try:
        path = await w.files_path(url)
    except NotOnFileServer:
        path = ""
    found = _FILES_PATH.match(unquote(urlsplit(path).path)) if path else None
    if found is None:
        raise ToolInputError(
            f"url {url[:80]!r} is not a media URL of WAHA's file server ({w.file_server()}/api/files/<session>/"
            "<message id>.<ext>): only those are fetched"
        )
    if found.group(1) is not None and found.group(1) != w.session:
        raise ToolInputError(
            f"url is a file of session {found.group(1)!r}, not of {w.session!r}: pass session={found.group(1)!r}"
        )
    # The fetch may run after this call returns (the transcriber's queue): the invocation keeps the session.
    limit = transcriber.max_bytes

    async def fetch() -> Audio:
        try:
            file = await w.fetch_file(url, max_bytes=limit)
        except TooLarge:
            raise TranscribeError(f"the audio is over the {limit}-byte limit (WAHA_MCP_TRANSCRIBE_MAX_BYTES)") from None
        except WAHAError as exc:
            gone = (
                " (WAHA deletes files after WHATSAPP_FILES_LIFETIME: pass messageId instead)"
                if exc.status == 404
                else ""
            )
            raise TranscribeError(f"WAHA's file server did not give the audio ({exc.message[:120]}){gone}") from None
        if not is_audio(file.mimetype, file.data[:16]):
            raise TranscribeError(f"the file is {file.mimetype.split(';')[0]}, not audio: nothing to transcribe")
        return Audio(file.data, file.mimetype)

    return found.group(2), fetch
