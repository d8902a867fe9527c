"""Toolset `status`: WAHA's Status tag, your own stories (text, image, voice, video) for 24 hours.

A status goes to all your contacts, or only to `contacts`. One status can also go out over several
calls: `waha_new_status_id` gives an id, and every post with it as `statusMessageId` is the same status
(WhatsApp counts its views together; a failed batch can be retried without a duplicate). WAHA adds your
own account only to a post under an id it made itself, so the first batch under a fetched id should
name you too. Deleting a status and fetching an id are NOWEB and GOWS features.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.projections.status import STATUS_CHAT
from waha_mcp.tools._common import ChatId, Session, StatusId
from waha_mcp.tools._media import IMAGE_MIMES, DataArg, FileArg, media_input
from waha_mcp.tools.messages import MAX_TEXT, PreviewText
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

DEFAULT_BACKGROUND = "#38b42f"  # WAHA's default: WhatsApp green
FONTS = 10  # WhatsApp's status fonts are 0 (system) to 10
_DEFAULT_MIMES = {"image": "image/jpeg", "voice": "audio/ogg", "video": "video/mp4"}
_SENDS = {
    "image": "StatusController_sendImageStatus",
    "voice": "StatusController_sendVoiceStatus",
    "video": "StatusController_sendVideoStatus",
}

Color = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="#rrggbb")]
Audience = Annotated[
    list[ChatId] | None, Field(min_length=1, max_length=5000, description="Only these see it (default: all contacts)")
]
SameStatus = Annotated[StatusId | None, Field(description="From waha_new_status_id: post that status again")]


def _audience(contacts: list[str] | None, same: str | None) -> tuple[list[str] | None, str | None]:
    """People only (a status is not for groups or channels), no repeats; the raw id of `same`."""
    if contacts is not None:
        wrong = [c for c in contacts if not c.endswith(("@c.us", "@lid"))]
        if wrong:
            raise ToolInputError(f"contacts are people (<number>@c.us or @lid), not {wrong[0]}")
        contacts = list(dict.fromkeys(contacts))
    if same is None:
        return contacts, None
    if contacts is None:
        raise ToolInputError("statusMessageId posts a status to more people: give contacts")
    raw = same.removeprefix(f"true_{STATUS_CHAT}_") if same.startswith("true_") else same
    if "_" in raw or "@" in raw:
        raise ToolInputError(f"statusMessageId {same[:60]!r} is not one of your statuses (true_status@broadcast_...)")
    return contacts, raw


async def _reach(w: Invocation) -> list[str] | str:
    """A status (or its deletion) reaches `contacts`, checked as chats; without them, every contact."""
    if w.args.get("contacts"):
        return []
    return "a status without contacts goes to all your contacts: name them in contacts"


def _who(contacts: list[str] | None, raw_id: str | None) -> dict[str, object]:
    """The audience fields every status request carries (unset ones left out)."""
    out: dict[str, object] = {}
    if raw_id:
        out["id"] = raw_id
    if contacts:
        out["contacts"] = contacts
    return out


@tool(
    "Post a text status (story) for 24 hours.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("StatusController_sendTextStatus",),
    reach=_reach,
)
async def send_text_status(
    w: Invocation,
    text: PreviewText,
    backgroundColor: Color = DEFAULT_BACKGROUND,
    font: Annotated[int, Field(ge=0, le=FONTS)] = 0,
    linkPreview: bool = True,
    contacts: Audience = None,
    statusMessageId: SameStatus = None,
    session: Session = None,
) -> view.StatusPosted:
    people, raw = _audience(contacts, statusMessageId)
    body = {"text": text, "backgroundColor": backgroundColor, "font": font, "linkPreview": linkPreview}
    answer = await w.call("StatusController_sendTextStatus", body=body | _who(people, raw))
    return view.status_posted(answer, "text", people, raw)


@tool(
    "Post an image, voice or video status (story) for 24 hours.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=tuple(_SENDS.values()),
    reach=_reach,
)
async def send_media_status(
    w: Invocation,
    file: FileArg = None,
    data: DataArg = None,
    mimetype: str | None = None,
    kind: Annotated[Literal["image", "voice", "video"] | None, Field(description="Default: by mimetype")] = None,
    caption: Annotated[str | None, Field(max_length=MAX_TEXT, description="image, video")] = None,
    backgroundColor: Annotated[Color | None, Field(description="voice")] = None,
    convert: Annotated[bool | None, Field(description="Re-encode; voice default: unless OGG/Opus")] = None,
    contacts: Audience = None,
    statusMessageId: SameStatus = None,
    session: Session = None,
) -> view.StatusPosted:
    unknown = "application/octet-stream"
    media = media_input(w.settings, file, data, None, mimetype, default_mime=unknown, default_name="status")
    base = media.base_type
    guessed = "image" if base in IMAGE_MIMES else "voice" if base.startswith("audio/") else "video"
    chosen = kind or (guessed if base.split("/")[0] in ("image", "audio", "video") else None)
    if chosen is None:
        raise ToolInputError(f"a status is an image, voice or video, not {base}: give kind or mimetype if it is one")
    if base == unknown:  # unknown bytes declared by `kind`: say what WAHA gets
        media.mimetype = _DEFAULT_MIMES[chosen]
        base = media.base_type
    if caption is not None and chosen == "voice":
        raise ToolInputError("a voice status has no caption")
    if backgroundColor is not None and chosen != "voice":
        raise ToolInputError("backgroundColor applies to a voice status only (a text status has its own)")
    if convert and chosen == "image":
        raise ToolInputError("convert applies to voice and video only")
    people, raw = _audience(contacts, statusMessageId)
    body: dict[str, object]
    if chosen == "voice":
        file_out, convert = media.voice(convert)  # as waha_send_audio
        body = {"file": file_out, "convert": convert, "backgroundColor": backgroundColor or DEFAULT_BACKGROUND}
    elif chosen == "video":
        convert = bool(convert)
        body = {"file": media.waha(), "convert": convert, "caption": caption}
    else:
        body = {"file": media.waha(), "caption": caption}
    body = {key: value for key, value in body.items() if value is not None} | _who(people, raw)
    answer = await w.call(_SENDS[chosen], body=body)
    return view.status_posted(answer, chosen, people, raw, convert if chosen != "image" else None)


@tool(
    "Take down one of your statuses (for everyone, or for contacts).",
    effect=Effect.DESTRUCTIVE,
    operations=("StatusController_deleteStatus",),
    reach=_reach,
)
async def delete_status(
    w: Invocation,
    messageId: StatusId,
    contacts: Audience = None,
    session: Session = None,
) -> view.StatusDeleted:
    people, _ = _audience(contacts, None)
    if messageId.startswith("false_"):
        raise ToolInputError("only your own statuses can be deleted (their ids start with true_)")
    await w.call("StatusController_deleteStatus", body={"id": messageId} | _who(people, None))
    return view.status_deleted(messageId, people)


@tool(
    "A fresh statusMessageId to post one status in several calls; name yourself first.",
    effect=Effect.READ,
    operations=("StatusController_getNewMessageId",),
)
async def new_status_id(w: Invocation, session: Session = None) -> view.NewStatusId:
    return view.new_status_id(await w.call("StatusController_getNewMessageId"))
