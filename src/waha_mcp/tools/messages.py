"""Toolset `messages`: WAHA's Chatting and Events tags (send anything, react, star, mark seen).

Every argument is checked before the first HTTP call, so a refused call costs WAHA nothing: ids, bounds
and shapes by the argument model (see `schema`), the rest here.
Media comes from an http(s) URL (WAHA fetches it), base64 `data`, or a file inside
WAHA_MCP_FILES_DIR (see `waha_mcp.files`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from waha_mcp import projections as view
from waha_mcp.errors import ToolInputError
from waha_mcp.ids import message_key
from waha_mcp.times import parse_time
from waha_mcp.tools._common import ChatId, FetchUrl, MessageId, Phone, Session, preview_marker, visible
from waha_mcp.tools._media import IMAGE_MIMES, DataArg, FileArg, media_input
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

MAX_TEXT = 65536  # WhatsApp's limit for one text message
POLL_OPTIONS = (2, 12)
LIST_ROWS = 10  # WhatsApp shows at most 10 rows in a list message
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_MEDIA_SENDS = {
    "image": "ChattingController_sendImage",
    "video": "ChattingController_sendVideo",
    "file": "ChattingController_sendFile",
    "sticker": "ChattingController_sendSticker",  # WAHA 2026.8.2: a WebP file, sent as is (not converted)
}

Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), visible]
# A text whose links WAHA fetches for a preview (unless linkPreview=false): the fetch rule applies to them.
PreviewText = Annotated[Text, preview_marker]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


# --------------------------------------------------------------------------- argument checks


def _chat_for(chat: str | None, message_id: str, field: str = "messageId") -> str:
    if chat:
        return chat
    derived = message_key(message_id).chat
    if derived is None:
        raise ToolInputError(f"give chatId: it cannot be read from {field} {message_id!r}")
    return derived


async def _send(w: Invocation, operation: str, chat: str, reply_to: str | None = None, **fields: Any) -> Any:
    """A send to `chat`: WAHA's body is `chatId`, the fields, then `reply_to`; unset (None) ones are left out."""
    body = {"chatId": chat, **fields, "reply_to": reply_to}
    return await w.call(operation, body={key: value for key, value in body.items() if value is not None})


# --------------------------------------------------------------------------- text


def _preview(text: str, title: str | None, description: str | None, image_url: str | None) -> dict[str, Any]:
    """WAHA's custom card for the first http(s) URL in `text`."""
    if not (title or "").strip():
        raise ToolInputError("a custom preview needs previewTitle")
    found = _URL_IN_TEXT.search(text)
    if found is None:
        raise ToolInputError("a custom preview needs an http(s) URL in text: the card describes it")
    preview: dict[str, Any] = {
        "url": found.group(0).rstrip(".,;:!?)"),
        "title": title,
        "description": description or "",
    }
    if image_url:
        if urlsplit(image_url).scheme.lower() not in ("http", "https"):
            raise ToolInputError("previewImageUrl must be an http(s) URL")
        preview["image"] = {"url": image_url}
    return preview


@tool(
    "Send a text message; optional reply, link preview card, button answer.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=(
        "ChattingController_sendText",
        "ChattingController_sendLinkCustomPreview",
        "ChattingController_sendButtonsReply",
    ),
    default="always",
)
async def send_message(
    w: Invocation,
    chatId: ChatId,
    text: PreviewText,
    replyTo: MessageId | None = None,
    linkPreview: bool = True,
    mentions: Annotated[list[ChatId] | None, Field(description="Ids to @mention (write @<number> in text)")] = None,
    previewTitle: Annotated[str | None, Field(description="Custom card for the URL in text")] = None,
    previewDescription: str | None = None,
    previewImageUrl: FetchUrl | None = None,
    buttonId: Annotated[str | None, Field(description="Answer a buttons message")] = None,
    session: Session = None,
) -> view.Sent:
    body = text
    custom = previewTitle is not None or previewDescription is not None or previewImageUrl is not None
    if buttonId is not None:
        if custom:
            raise ToolInputError("buttonId and a custom preview cannot be combined")
        # This route alone spells the quoted message `replyTo`.
        answer = {"replyTo": replyTo, "selectedDisplayText": body, "selectedButtonID": buttonId}
        sent = await _send(w, "ChattingController_sendButtonsReply", chatId, **answer)
    elif custom:
        if not linkPreview:
            raise ToolInputError("linkPreview=false contradicts a custom preview")
        preview = _preview(body, previewTitle, previewDescription, previewImageUrl)
        sent = await _send(w, "ChattingController_sendLinkCustomPreview", chatId, replyTo, text=body, preview=preview)
    else:
        options = {"mentions": mentions or None, "linkPreview": linkPreview}
        sent = await _send(w, "ChattingController_sendText", chatId, replyTo, text=body, **options)
    return view.sent(sent, chatId)


# --------------------------------------------------------------------------- media


@tool(
    "Send an image, video, document (WAHA Plus) or WebP sticker.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=(
        "ChattingController_sendImage",
        "ChattingController_sendVideo",
        "ChattingController_sendFile",
        "ChattingController_sendSticker",
    ),
    default="always",
)
async def send_media(
    w: Invocation,
    chatId: ChatId,
    file: FileArg = None,
    data: DataArg = None,
    caption: Annotated[str | None, Field(max_length=MAX_TEXT)] = None,
    filename: str | None = None,
    mimetype: str | None = None,
    type: Literal["image", "video", "file", "sticker"] | None = None,
    convert: Annotated[bool | None, Field(description="video: re-encode")] = None,
    videoNote: bool | None = None,
    replyTo: MessageId | None = None,
    session: Session = None,
) -> view.MediaSent:
    media = media_input(
        w.settings, file, data, filename, mimetype, default_mime="application/octet-stream", default_name="file"
    )
    kind = type or (
        "image" if media.base_type in IMAGE_MIMES else "video" if media.base_type.startswith("video/") else "file"
    )
    if (convert or videoNote) and kind != "video":
        raise ToolInputError("convert and videoNote apply to videos only")
    if kind == "sticker" and (caption or replyTo):
        raise ToolInputError("a sticker takes no caption or replyTo (WAHA's sendSticker has neither)")
    if kind == "sticker" and media.base_type != "image/webp":
        raise ToolInputError(
            f"a sticker must be a WebP image (image/webp), not {media.base_type}: WAHA does not convert it"
        )
    video = {"convert": bool(convert), "asNote": videoNote or None} if kind == "video" else {}
    sent = await _send(w, _MEDIA_SENDS[kind], chatId, replyTo, file=media.waha(), caption=caption, **video)
    return view.media_sent(sent, chatId, kind)


@tool(
    "Send a voice note (converted to OGG/Opus unless it is one; WAHA Plus).",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChattingController_sendVoice",),
    default="always",
)
async def send_audio(
    w: Invocation,
    chatId: ChatId,
    file: FileArg = None,
    data: DataArg = None,
    mimetype: str | None = None,
    convert: Annotated[bool | None, Field(description="Default: unless OGG/Opus")] = None,
    replyTo: MessageId | None = None,
    session: Session = None,
) -> view.VoiceSent:
    media = media_input(w.settings, file, data, None, mimetype, default_mime="audio/ogg", default_name="voice")
    payload, convert = media.voice(convert)
    sent = await _send(w, "ChattingController_sendVoice", chatId, replyTo, file=payload, convert=convert)
    return view.voice_sent(sent, chatId, convert)


# --------------------------------------------------------------------------- location, contact


@tool(
    "Send a location pin.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChattingController_sendLocation",),
)
async def send_location(
    w: Invocation,
    chatId: ChatId,
    latitude: Latitude,
    longitude: Longitude,
    title: str = "",
    replyTo: MessageId | None = None,
    session: Session = None,
) -> view.Sent:
    pin = {"latitude": latitude, "longitude": longitude, "title": title}
    return view.sent(await _send(w, "ChattingController_sendLocation", chatId, replyTo, **pin), chatId)


def _vcard_text(value: str) -> str:
    """RFC 2426 escaping of a text value: backslash, comma, semicolon, newline."""
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def build_vcard(name: str, digits: str, organization: str | None = None) -> str:
    """A vCard 3.0 WhatsApp shows as a contact with a 'Message' button (`waid` = the WhatsApp number).

    `digits` is the international number as the `Phone` marker leaves it: digits only.
    """
    full = " ".join(name.split())
    first, _, last = full.rpartition(" ")
    if not first:
        first, last = full, ""
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_vcard_text(last)};{_vcard_text(first)};;;",
        f"FN:{_vcard_text(full)}",
    ]
    if organization and organization.strip():
        lines.append(f"ORG:{_vcard_text(organization.strip())};")
    lines += [f"TEL;type=CELL;type=VOICE;waid={digits}:+{digits}", "END:VCARD"]
    return "\r\n".join(lines)


@tool(
    "Send a contact card from name + phone, or from a raw vCard.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChattingController_sendContactVcard",),
)
async def send_contact(
    w: Invocation,
    chatId: ChatId,
    name: str | None = None,
    phone: Phone | None = None,
    organization: str | None = None,
    vcard: str | None = None,
    replyTo: MessageId | None = None,
    session: Session = None,
) -> view.Sent:
    if vcard is not None:
        if name or phone or organization:
            raise ToolInputError("give either vcard or name/phone/organization, not both")
        card = vcard.strip()
        if not (card.upper().startswith("BEGIN:VCARD") and card.upper().endswith("END:VCARD")):
            raise ToolInputError("vcard must start with BEGIN:VCARD and end with END:VCARD")
    else:
        if not (name or "").strip() or not (phone or "").strip():
            raise ToolInputError("a contact needs name and phone (or a raw vcard)")
        card = build_vcard(name or "", phone or "", organization)
    sent = await _send(w, "ChattingController_sendContactVcard", chatId, replyTo, contacts=[{"vcard": card}])
    return view.sent(sent, chatId)


# --------------------------------------------------------------------------- poll, list, event


@tool(
    "Send a poll with 2-12 options.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChattingController_sendPoll",),
)
async def send_poll(
    w: Invocation,
    chatId: ChatId,
    question: Text,
    options: Annotated[list[str], Field(min_length=POLL_OPTIONS[0], max_length=POLL_OPTIONS[1])],
    multipleAnswers: bool | None = None,
    replyTo: MessageId | None = None,
    session: Session = None,
) -> view.PollSent:
    cleaned = [option.strip() for option in options]
    if any(not option for option in cleaned):
        raise ToolInputError("poll options must not be empty")
    if len(set(cleaned)) != len(cleaned):
        raise ToolInputError("poll options must be different from each other")
    poll = {"name": question, "options": cleaned, "multipleAnswers": bool(multipleAnswers)}
    sent = await _send(w, "ChattingController_sendPoll", chatId, replyTo, poll=poll)
    return view.poll_sent(sent, chatId, len(cleaned))


@tool(
    "Vote on a poll by option names ([] retracts the vote).",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChattingController_sendPollVote",),
)
async def send_poll_vote(
    w: Invocation,
    pollMessageId: MessageId,
    votes: list[str],
    chatId: ChatId | None = None,
    session: Session = None,
) -> view.PollVoted:
    chat = _chat_for(chatId, pollMessageId, "pollMessageId")
    if any(not v.strip() for v in votes):
        raise ToolInputError("votes must be option names, not empty strings")
    await w.call(
        "ChattingController_sendPollVote", body={"chatId": chat, "pollMessageId": pollMessageId, "votes": votes}
    )
    return view.poll_voted(pollMessageId, chat, votes)


class ListRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    id: str | None = None
    description: str | None = None


class ListSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    rows: list[ListRow] = Field(min_length=1, max_length=LIST_ROWS)


@tool(
    "Send a list message: a button that opens rows to pick from.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChattingController_sendList",),
)
async def send_list(
    w: Invocation,
    chatId: ChatId,
    title: Text,
    button: Annotated[Text, Field(description="Label of the button opening the list")],
    sections: Annotated[list[ListSection], Field(min_length=1)],
    description: str | None = None,
    footer: str | None = None,
    replyTo: MessageId | None = None,
    session: Session = None,
) -> view.ListSent:
    count = sum(len(section.rows) for section in sections)
    if count > LIST_ROWS:
        raise ToolInputError(f"a list shows at most {LIST_ROWS} rows in all, got {count}")
    n = 0
    waha_sections: list[dict[str, Any]] = []
    for section in sections:
        rows = []
        for row in section.rows:
            n += 1
            item: dict[str, Any] = {"title": row.title, "rowId": row.id or f"row{n}"}
            if row.description:
                item["description"] = row.description
            rows.append(item)
        waha_sections.append({"title": section.title, "rows": rows})
    row_ids = [row["rowId"] for section in waha_sections for row in section["rows"]]
    if len(set(row_ids)) != len(row_ids):
        raise ToolInputError("row ids must be unique")
    message: dict[str, Any] = {"title": title, "button": button, "sections": waha_sections}
    if description:
        message["description"] = description
    if footer:
        message["footer"] = footer
    sent = await _send(w, "ChattingController_sendList", chatId, replyTo, message=message)
    return view.list_sent(sent, chatId, row_ids)


@tool(
    "Send an event invitation (name, start, end, place).",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("EventsController_sendEvent",),
)
async def send_event(
    w: Invocation,
    chatId: ChatId,
    name: Text,
    start: Annotated[str, Field(description="ISO 8601 with offset")],
    end: str | None = None,
    description: str | None = None,
    location: str | None = None,
    replyTo: MessageId | None = None,
    session: Session = None,
) -> view.EventSent:
    event: dict[str, Any] = {"name": name, "startTime": parse_time(start, "start")}
    if end:
        event["endTime"] = parse_time(end, "end")
        if event["endTime"] <= event["startTime"]:
            raise ToolInputError("end must be after start")
    if description:
        event["description"] = description
    if location:
        event["location"] = {"name": location}
    sent = await _send(w, "EventsController_sendEvent", chatId, replyTo, event=event)
    return view.event_sent(sent, chatId, event["startTime"])


# --------------------------------------------------------------------------- acting on messages


@tool(
    "Forward a message to another chat.",
    effect=Effect.VISIBLE,
    pacing="send",
    operations=("ChattingController_forwardMessage",),
)
async def forward_message(
    w: Invocation,
    chatId: Annotated[ChatId, Field(description="Target chat")],
    messageId: MessageId,
    session: Session = None,
) -> view.Forwarded:
    sent = await w.call("ChattingController_forwardMessage", body={"chatId": chatId, "messageId": messageId})
    return view.forwarded(sent, chatId, messageId)


@tool(
    'React to a message with an emoji; "" removes the reaction.',
    effect=Effect.VISIBLE,
    pacing="send",  # the chat sees it, and WhatsApp's anti-spam counts reactions like messages
    operations=("ChattingController_setReaction",),
    default="always",
)
async def react_to_message(
    w: Invocation,
    messageId: MessageId,
    reaction: str,
    session: Session = None,
) -> view.Reacted:
    emoji = reaction.strip()
    if emoji and (len(emoji) > 32 or re.search(r"[A-Za-z\s]", emoji)):
        raise ToolInputError(f'reaction {reaction[:40]!r} must be one emoji, or "" to remove the reaction')
    await w.call("ChattingController_setReaction", body={"messageId": messageId, "reaction": emoji})  # "" removes
    return view.reacted(messageId, emoji)


@tool(
    "Star or unstar a message.",
    effect=Effect.LOCAL,
    operations=("ChattingController_setStar",),
)
async def star_message(
    w: Invocation,
    messageId: MessageId,
    star: bool = True,
    chatId: ChatId | None = None,
    session: Session = None,
) -> view.Starred:
    chat = _chat_for(chatId, messageId)
    await w.call("ChattingController_setStar", body={"messageId": messageId, "chatId": chat, "star": star})
    return view.starred(messageId, chat, star)


@tool(
    "Mark a chat's messages (or the given ones) as seen: blue ticks.",
    effect=Effect.VISIBLE,
    # Not paced: a receipt only answers messages others sent here, so it reaches nobody new; in the send
    # bucket it would spend the send budget and hold back replies (see tests/safety/test_pacing_reach.py).
    operations=("ChattingController_sendSeen",),
)
async def mark_seen(
    w: Invocation,
    chatId: ChatId,
    messageIds: list[MessageId] | None = None,
    session: Session = None,
) -> view.Seen:
    given = messageIds or []
    participant = None
    if given and chatId.endswith("@g.us"):
        # NOWEB wants the sender of group messages; received group ids end with it.
        senders = {key.participant for key in map(message_key, given) if key.from_me is False and key.participant}
        if len(senders) == 1:
            participant = senders.pop()
    await _send(w, "ChattingController_sendSeen", chatId, messageIds=given or None, participant=participant)
    return view.seen(chatId, given)


@tool(
    "A fresh message id from WhatsApp, for a message not yet sent.",
    effect=Effect.READ,
    operations=("ChattingController_getNewMessageId",),
)
async def get_new_message_id(w: Invocation, session: Session = None) -> view.NewMessageId:
    return view.new_message_id(await w.call("ChattingController_getNewMessageId"))
