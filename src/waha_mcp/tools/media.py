"""Toolset `media`: download received media, convert voice/video, reject calls."""

from __future__ import annotations

import base64
import mimetypes
import re
from typing import Annotated, Any, Literal

from mcp_types import BlobResourceContents, EmbeddedResource
from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.client import Binary, NotOnFileServer, TooLarge, WAHAError
from waha_mcp.errors import ToolInputError
from waha_mcp.files import read_local_file, save_file
from waha_mcp.projections.common import obj
from waha_mcp.tools._common import ChatId, FetchUrl, MessageId, Rich, Session, image_result
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

# Bigger files are saved to WAHA_MCP_FILES_DIR rather than carried inside the tool result.
INLINE_MAX_BYTES = 1024 * 1024
# Image types MCP clients render as image content.
VIEWABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
CallId = Annotated[str, Field(pattern=r"^[0-9A-Za-z_\-:.@]{4,128}$", description="From the call.received event")]
# Conversion answers with the bytes: the operation and what to accept for each kind.
CONVERT = {
    "voice": ("MediaController_convertVoice", "audio/ogg"),
    "video": ("MediaController_convertVideo", "video/mp4"),
}


def _filename(msg_id: str, media: dict[str, Any], mimetype: str) -> str:
    if media.get("filename"):
        return str(media["filename"])
    parts = msg_id.split("_")  # true_<chat>_<hex>[_<participant>]
    return (parts[2] if len(parts) >= 3 else msg_id) + (mimetypes.guess_extension(mimetype) or "")


def _expired(mid: str) -> ToolInputError:
    return ToolInputError(
        f"the media file of {mid} is gone from WAHA's file server (WAHA deletes downloaded files after "
        "WHATSAPP_FILES_LIFETIME) and downloading it again did not bring it back: call waha_download_media "
        "again in a moment; if it keeps failing, WhatsApp no longer has this media"
    )


async def _download(w: Invocation, session: str, chat: str, mid: str) -> tuple[dict[str, Any], Binary]:
    """Ask WAHA to download the media, then fetch it from WAHA's file server; one retry if it expired."""
    file: Binary | None = None
    for attempt in range(2):
        query = {"downloadMedia": True}
        msg = await w.call("ChatsController_getChatMessage", chatId=chat, messageId=mid, query=query)
        if not isinstance(msg, dict) or not msg.get("hasMedia"):
            raise ToolInputError(f"message {mid} has no media to download")
        media = obj(msg.get("media"))
        url = media.get("url")
        if not url:
            problem = f": {view.short(str(media['error']), 120)}" if media.get("error") else ""
            raise ToolInputError(
                f"WAHA could not download the media of {mid}{problem}; old media may no longer be on WhatsApp"
            )
        try:
            file = await w.fetch_file(url, max_bytes=w.settings.max_media_bytes)
        except NotOnFileServer as exc:
            shown = view.short(re.sub(r"[?#].*$", "", str(url)), 100)
            raise ToolInputError(
                f"the media URL {shown} is not on WAHA's file server ({exc.file_server}/api/files/...): "
                "not fetched. The server only downloads from WAHA's own file server"
            ) from None
        except WAHAError as exc:
            if isinstance(exc, TooLarge):
                raise ToolInputError(f"media of {mid}: {exc.message}") from None
            if exc.status == 404 and attempt == 0:
                continue  # expired between WAHA's download and ours: ask WAHA to download it again
            if exc.status == 404:
                raise _expired(mid) from None
            raise
        return media, file
    raise _expired(mid)


@tool(
    "Download a message's media (images shown; save: to files dir).",
    effect=Effect.READ,
    output=view.MediaFile,
    writes=("save",),
    operations=("ChatsController_getChatMessage",),
    default="always",
)
async def download_media(
    w: Invocation,
    chatId: ChatId,
    messageId: MessageId,
    session: Session = None,
    save: bool = False,
) -> view.MediaFile | Rich:
    mid = messageId
    media, file = await _download(w, w.acting, chatId, mid)
    mimetype = str(media.get("mimetype") or file.mimetype).split(";")[0].strip()
    info = view.media_file(mid, mimetype, file.data, media.get("filename"))
    inline = w.settings.max_inline_bytes
    limit = inline if mimetype in VIEWABLE else min(INLINE_MAX_BYTES, inline)
    too_big = len(file.data) > limit
    # Read-only mode writes nothing: not even a file too big to return inline.
    auto_save = too_big and w.settings.files_dir is not None and not w.read_only
    if save or auto_save:
        info["saved"] = str(save_file(w.settings, _filename(mid, media, mimetype), file.data))
    if mimetype in VIEWABLE and not too_big:
        return image_result(Binary(file.data, mimetype), info)
    if "saved" in info:
        return info
    if too_big:
        remedy = (
            "this server is read-only (WAHA_READ_ONLY), so it is not saved to WAHA_MCP_FILES_DIR"
            if w.read_only
            else "set WAHA_MCP_FILES_DIR to have it saved there"
        )
        raise ToolInputError(
            f"media of {mid} is {len(file.data)} bytes, too big to return inline (>{limit}, "
            f"WAHA_MCP_MAX_INLINE_BYTES): {remedy}"
        )
    return _resource(f"waha://{session}/media/{mid}", file.data, mimetype, info)


def _resource(uri: str, data: bytes, mimetype: str, info: view.MediaFile | view.Converted) -> Rich:
    blob = BlobResourceContents(uri=uri, mime_type=mimetype, blob=base64.b64encode(data).decode())
    return Rich(info, [EmbeddedResource(type="resource", resource=blob)])


@tool(
    "Convert a url or path to a voice note (OGG/Opus) or MP4 video.",
    effect=Effect.LOCAL,
    output=view.Converted,
    operations=("MediaController_convertVoice", "MediaController_convertVideo"),
)
async def convert_media(
    w: Invocation,
    kind: Literal["voice", "video"],
    session: Session = None,
    url: FetchUrl | None = None,
    path: Annotated[str | None, Field(description="In WAHA_MCP_FILES_DIR")] = None,
) -> view.Converted | Rich:
    if bool(url) == bool(path):
        raise ToolInputError("give exactly one of url or path")
    data = None
    name = f"converted.{'ogg' if kind == 'voice' else 'mp4'}"
    if url:
        if not re.match(r"^https?://[^\s/]+", url):
            raise ToolInputError(f"url {url[:60]!r} must be an http(s) URL")
    else:
        real, raw = read_local_file(w.settings, path or "")
        data = base64.b64encode(raw).decode()
        name = f"{real.stem}.{'ogg' if kind == 'voice' else 'mp4'}"
    operation, accept = CONVERT[kind]
    answer = await w.call(operation, body={"url": url} if url else {"data": data}, accept=accept)
    if isinstance(answer, dict) and isinstance(answer.get("data"), str):
        answer = Binary(base64.b64decode(answer["data"]), str(answer.get("mimetype") or "application/octet-stream"))
    if not isinstance(answer, Binary):
        raise w.no_answer(operation, "a converted file")
    mimetype = answer.mimetype.split(";")[0].strip()
    info = view.converted(kind, mimetype, answer.data)
    if w.settings.files_dir:
        info["saved"] = str(save_file(w.settings, name, answer.data))
        return info
    limit = min(INLINE_MAX_BYTES, w.settings.max_inline_bytes)
    if len(answer.data) > limit:
        raise ToolInputError(
            f"converted file is {len(answer.data)} bytes, too big to return inline (>{limit}, "
            "WAHA_MCP_MAX_INLINE_BYTES): set WAHA_MCP_FILES_DIR"
        )
    return _resource(f"waha://{session}/converted/{name}", answer.data, mimetype, info)


@tool(
    "Reject an incoming WhatsApp call.",
    effect=Effect.VISIBLE,
    operations=("CallsController_rejectCall",),
)
async def reject_call(
    w: Invocation,
    callId: CallId,
    caller: ChatId,
    session: Session = None,
) -> view.CallRejected:
    await w.call("CallsController_rejectCall", body={"from": caller, "id": callId})
    return view.call_rejected(callId)
