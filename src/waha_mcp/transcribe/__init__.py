"""Voice notes as text: one engine interface (`engine.py`), an OpenAI-compatible endpoint (`endpoint.py`) and
a local faster-whisper model (`local.py`), a transcript cache (`store.py`) and the transcriber that ties them
(`service.py`). `build` makes the transcriber the settings ask for (None when WAHA_MCP_TRANSCRIBE=off).
"""

from __future__ import annotations

from typing import Any

from waha_mcp.client import NotOnFileServer, TooLarge, WAHAError
from waha_mcp.client.fleet import Fleet
from waha_mcp.config import Settings
from waha_mcp.transcribe.engine import Engine, Heard, TranscribeError
from waha_mcp.transcribe.service import Audio, Fetch, Transcriber, TranscriptView, transcript_view
from waha_mcp.transcribe.store import MemoryTranscripts, Transcript, TranscriptStore, transcripts_for

VOICE_TYPES = frozenset({"voice", "audio"})


def engine_for(settings: Settings, **options: Any) -> Engine | None:
    if settings.transcribe == "openai":
        from waha_mcp.transcribe.endpoint import EndpointEngine

        return EndpointEngine(
            settings.transcribe_url or "",
            settings.transcribe_key,
            model=settings.transcribe_model,
            language=settings.transcribe_language,
            timeout=settings.transcribe_timeout,
            **options,
        )
    if settings.transcribe == "local":
        from waha_mcp.transcribe.local import LocalEngine

        return LocalEngine(settings.transcribe_model, language=settings.transcribe_language)
    return None


def build(settings: Settings, store: TranscriptStore, engine: Engine | None = None) -> Transcriber | None:
    engine = engine or engine_for(settings)
    if engine is None:
        return None
    return Transcriber(
        engine,
        store,
        max_bytes=min(settings.transcribe_max_bytes, settings.max_media_bytes),
        max_seconds=settings.transcribe_max_seconds,
        timeout=settings.transcribe_timeout,
        queue_size=settings.transcribe_queue,
    )


async def fetch_audio(client: Fleet, session: str, chat: str, message_id: str, max_bytes: int) -> Audio:
    """A message's audio from WAHA: `downloadMedia=true`, then its file server (once more if the file expired)."""
    for attempt in range(2):
        try:
            msg = await client.call(
                "ChatsController_getChatMessage",
                session,
                path={"chatId": chat, "messageId": message_id},
                query={"downloadMedia": True},
            )
        except WAHAError as exc:
            raise TranscribeError(f"WAHA did not give the message ({exc.message[:160]})", retry_after=60) from None
        media: dict[str, Any] = msg["media"] if isinstance(msg, dict) and isinstance(msg.get("media"), dict) else {}
        url = media.get("url")
        if not isinstance(msg, dict) or not msg.get("hasMedia"):
            raise TranscribeError("the message has no media to transcribe")
        if not url:
            problem = f": {str(media['error'])[:120]}" if media.get("error") else ""
            raise TranscribeError(f"WAHA could not download the audio{problem}", retry_after=300)
        try:
            file = await client.fetch_file(session, str(url), max_bytes=max_bytes)
        except NotOnFileServer:
            raise TranscribeError("the audio is not on WAHA's file server: not fetched") from None
        except TooLarge:
            raise TranscribeError(
                f"the audio is over the {max_bytes}-byte limit (WAHA_MCP_TRANSCRIBE_MAX_BYTES)"
            ) from None
        except WAHAError as exc:
            if exc.status == 404 and attempt == 0:
                continue  # expired between WAHA's download and ours
            raise TranscribeError(
                f"WAHA's file server did not give the audio ({exc.message[:160]})", retry_after=60
            ) from None
        return Audio(file.data, str(media.get("mimetype") or file.mimetype))
    raise TranscribeError("the audio file expired on WAHA's file server twice in a row", retry_after=60)


__all__ = [
    "VOICE_TYPES",
    "Audio",
    "Engine",
    "Fetch",
    "Heard",
    "MemoryTranscripts",
    "TranscribeError",
    "Transcriber",
    "Transcript",
    "TranscriptStore",
    "TranscriptView",
    "build",
    "engine_for",
    "fetch_audio",
    "transcript_view",
    "transcripts_for",
]
