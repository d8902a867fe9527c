"""📤 Chatting beyond sendText: media, location, contacts, polls, lists, previews, button replies,
forwarding, reactions, stars, seen and typing (session in the JSON body).

Messages sent here are `RichMessage`s: a `world.Message` that also knows its kind (location, poll,
...), its reactions and its star, and puts them in `_data` the way NOWEB does, so the chats routes
(which render every message with `render.render_message`) show them unchanged. A reaction or star on an older plain
message promotes it to a `RichMessage` in place.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field, fields
from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..render import render_proto
from ..world import Media, Message, World, is_group, jid
from ._common import normalize_chat_id, refuse_if_timelocked, world_of

MAX_POLL_OPTIONS = 12


@dataclass
class RichMessage(Message):
    kind: str = "text"  # text|image|video|document|voice|location|contact|poll|list|event|buttons_reply
    poll: dict[str, Any] | None = None  # {name, options, multipleAnswers}
    votes: dict[str, list[str]] = field(default_factory=dict)  # voter id → option names
    listing: dict[str, Any] | None = None  # SendListMessage
    event: dict[str, Any] | None = None  # EventMessage
    preview: dict[str, Any] | None = None  # LinkPreviewData
    button: dict[str, str] | None = None  # {id, text} of a buttons reply
    reactions: dict[str, str] = field(default_factory=dict)  # reactor id → emoji
    starred: bool = False
    forwarded: bool = False
    content: bytes | None = None  # uploaded media bytes (base64 sends), for download emulation
    source_url: str | None = None  # where WAHA would have fetched URL media from

    # --- NOWEB proto (`_data.message`) -----------------------------------------------------------
    def _content(self) -> dict[str, Any]:
        base = super()._content()
        main_key = next(key for key in base if key != "messageContextInfo")
        main = base.pop(main_key)
        context = dict(main.get("contextInfo") or {})
        if self.forwarded:
            context.update(isForwarded=True, forwardingScore=1)
        part = self._part(main, context)
        if part is None:
            main["contextInfo"] = context
            return {main_key: main, **base}
        key, value = part
        value["contextInfo"] = context
        return {key: value, **base}

    def _part(self, main: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        media = self.media
        if self.kind == "video" and media:
            return "videoMessage", {**main, "seconds": 12, "gifPlayback": False}
        if self.kind == "voice" and media:
            keep = {k: v for k, v in main.items() if k not in ("caption", "height", "width", "jpegThumbnail")}
            return "audioMessage", {**keep, "ptt": True, "seconds": 7}
        if self.kind == "sticker" and media:
            keep = {k: v for k, v in main.items() if k not in ("caption", "jpegThumbnail", "fileName")}
            return "stickerMessage", {**keep, "isAnimated": False, "isAvatar": False}
        if self.kind == "document" and media:
            name = media.filename or "file"
            return "documentMessage", {**main, "fileName": name, "title": name}
        if self.kind == "location" and self.location:
            loc = self.location
            return "locationMessage", {
                "degreesLatitude": loc["latitude"],
                "degreesLongitude": loc["longitude"],
                "name": loc.get("title") or None,
            }
        if self.kind == "contact":
            cards = [{"displayName": _vcard_name(card), "vcard": card} for card in self.vcards]
            if len(cards) == 1:
                return "contactMessage", cards[0]
            return "contactsArrayMessage", {"displayName": f"{len(cards)} contacts", "contacts": cards}
        if self.kind == "poll" and self.poll:
            return "pollCreationMessageV3", {
                "name": self.poll["name"],
                "options": [{"optionName": option} for option in self.poll["options"]],
                "selectableOptionsCount": 0 if self.poll.get("multipleAnswers") else 1,
            }
        if self.kind == "list" and self.listing:
            return "listMessage", {**self.listing, "listType": "SINGLE_SELECT"}
        if self.kind == "event" and self.event:
            return "eventMessage", {**self.event, "isCanceled": False}
        if self.kind == "buttons_reply" and self.button:
            return "buttonsResponseMessage", {
                "selectedButtonId": self.button["id"],
                "selectedDisplayText": self.button["text"],
                "type": "DISPLAY_TEXT",
            }
        if self.preview:
            return "extendedTextMessage", {
                **main,
                "matchedText": self.preview.get("url"),
                "title": self.preview.get("title"),
                "description": self.preview.get("description"),
                "previewType": "NONE",
            }
        return None

    def raw(self) -> dict[str, Any]:
        data = super().raw()
        data["reactions"] = [
            {
                "key": {**self._key(), "participant": jid(who)},
                "text": emoji,
                "senderTimestampMs": str(self.timestamp * 1000),
            }
            for who, emoji in self.reactions.items()
        ]
        data["starred"] = self.starred
        if self.poll is not None:
            data["pollUpdates"] = [
                {"voter": jid(voter), "selectedOptions": options} for voter, options in self.votes.items()
            ]
        return data


# --------------------------------------------------------------------------- world helpers


def _vcard_name(card: str) -> str:
    found = re.search(r"^FN[^:\r\n]*:(.*)$", card, re.MULTILINE)
    return found.group(1).strip().replace("\\,", ",").replace("\\;", ";") if found else ""


def find_anywhere(world: World, message_id: str) -> Message | None:
    """A message by id; the chat is read from `true_<chatId>_<hex>` ids, else every chat is searched."""
    parts = message_id.split("_")
    if len(parts) >= 3 and parts[0] in ("true", "false"):
        found = world.find_message(parts[1], message_id)
        if found is not None:
            return found
    for chat in world.chats.values():
        for msg in chat.messages:
            if message_id in (msg.id, msg.raw_id):
                return msg
    return None


def promote(world: World, msg: Message) -> RichMessage:
    """Replace a plain message by a `RichMessage` with the same fields, in place."""
    if isinstance(msg, RichMessage):
        return msg
    rich = RichMessage(**{f.name: getattr(msg, f.name) for f in fields(Message)}, kind="image" if msg.media else "text")
    chat = world.chats[msg.chat_id]
    for index, item in enumerate(chat.messages):
        if item is msg:
            chat.messages[index] = rich
        elif item.reply_to is msg:
            item.reply_to = rich
    return rich


def typing_chats(world: World) -> set[str]:
    """Chats where this account shows 'typing…'."""
    return world.presence.typing


def add_sent(
    world: World, chat_id: str, *, body: str, kind: str, reply_to: Any = None, media: Media | None = None, **extra: Any
) -> RichMessage:
    now = world.now()
    mid, raw = world.message_id(chat_id, True, world.me_id, "3EB0")
    quoted = world.find_message(chat_id, reply_to) if isinstance(reply_to, str) and reply_to else None
    msg = RichMessage(
        id=mid,
        chat_id=chat_id,
        raw_id=raw,
        timestamp=now,
        from_me=True,
        sender=world.me_id,
        body=body,
        ack=1,
        source="api",
        push_name=world.me_name,
        media=media,
        reply_to=quoted,
        secret=base64.b64encode(world.rng.randbytes(99)).decode(),
        kind=kind,
        **extra,
    )
    world.store(msg)
    return msg


# --------------------------------------------------------------------------- request helpers


def _str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


async def _target(ctx: Ctx) -> tuple[World, str]:
    session = await ctx.working_session()
    world = world_of(session)
    chat_id = normalize_chat_id(str(ctx.body["chatId"]))
    if is_group(chat_id) and chat_id not in world.groups:
        raise errors.nest(404, f"Group '{chat_id}' not found: the account is not a participant")
    refuse_if_timelocked(ctx, session, chat_id)
    return world, chat_id


def _file(ctx: Ctx, *, default_mime: str | None = None) -> tuple[Media, bytes | None, str | None]:
    """Check `file` ({mimetype, filename?, url} or {... data}) and describe it as world `Media`."""
    file = ctx.body.get("file")
    if not isinstance(file, dict):
        raise errors.bad_request(["file must be an object"])
    problems = []
    mimetype = file.get("mimetype") or default_mime
    if not _str(mimetype):
        problems.append("file.mimetype should not be empty")
    url, data = file.get("url"), file.get("data")
    if (url is None) == (data is None):
        problems.append("file must have either url or data")
    elif url is not None and not (_str(url) and re.match(r"^https?://", url)):
        problems.append("file.url must be a URL address")
    content: bytes | None = None
    if isinstance(data, str):
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            problems.append("file.data must be base64 encoded")
    elif data is not None:
        problems.append("file.data must be a string")
    if problems:
        raise errors.bad_request(problems)
    filename = file.get("filename") if isinstance(file.get("filename"), str) else None
    size = len(content) if content is not None else 0
    return Media(str(mimetype), filename, size, 1280, 960), content, url


async def _send_media(ctx: Ctx, kind: str, *, default_mime: str | None = None) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    media, content, url = _file(ctx, default_mime=default_mime)
    if kind == "voice":
        media.mimetype = "audio/ogg; codecs=opus" if ctx.body.get("convert") else media.mimetype
        media.filename = None
    if kind == "video" and ctx.body.get("convert"):
        media.mimetype = "video/mp4"
    caption = ctx.body.get("caption") if isinstance(ctx.body.get("caption"), str) else ""
    msg = add_sent(
        world,
        chat_id,
        body=caption,
        kind=kind,
        reply_to=ctx.body.get("reply_to"),
        media=media,
        content=content,
        source_url=url,
    )
    return render_proto(msg)


# --------------------------------------------------------------------------- media


@route("ChattingController_sendImage")
async def send_image(ctx: Ctx) -> dict[str, Any]:
    return await _send_media(ctx, "image")


@route("ChattingController_sendFile")
async def send_file(ctx: Ctx) -> dict[str, Any]:
    return await _send_media(ctx, "document")


@route("ChattingController_sendVideo")
async def send_video(ctx: Ctx) -> dict[str, Any]:
    return await _send_media(ctx, "video", default_mime="video/mp4")


@route("ChattingController_sendSticker")
async def send_sticker(ctx: Ctx) -> dict[str, Any]:
    """WAHA 2026.8.2: "The file must already be in WebP format (via URL or BASE64) - PNG and JPEG are not converted"
    (the WAHA 2026.8 blog post); what WAHA answers to another type is not documented, so any type goes."""
    return await _send_media(ctx, "sticker", default_mime="image/webp")


@route("ChattingController_sendVoice")
async def send_voice(ctx: Ctx) -> dict[str, Any]:
    return await _send_media(ctx, "voice", default_mime="audio/ogg; codecs=opus")


# --------------------------------------------------------------------------- text variants


@route("ChattingController_sendLinkCustomPreview")
async def send_link_custom_preview(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    preview = ctx.body.get("preview")
    if not isinstance(preview, dict):
        raise errors.bad_request(["preview must be an object"])
    problems = [
        f"preview.{name} must be a string"
        for name in ("url", "title", "description")
        if not isinstance(preview.get(name), str)
    ]
    if problems:
        raise errors.bad_request(problems)
    text = str(ctx.body["text"])
    if preview["url"] not in text:
        raise errors.bad_request(["text must include the URL provided in preview.url"])
    kept = {k: preview[k] for k in ("url", "title", "description")}
    msg = add_sent(world, chat_id, body=text, kind="text", reply_to=ctx.body.get("reply_to"), preview=kept)
    return render_proto(msg)


@route("ChattingController_sendButtonsReply")
async def send_buttons_reply(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    text, button_id = ctx.body["selectedDisplayText"], ctx.body["selectedButtonID"]
    msg = add_sent(
        world,
        chat_id,
        body=str(text),
        kind="buttons_reply",
        reply_to=ctx.body.get("replyTo"),
        button={"id": str(button_id), "text": str(text)},
    )
    return render_proto(msg)


# --------------------------------------------------------------------------- location, contacts


@route("ChattingController_sendLocation")
async def send_location(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    lat, lng = ctx.body["latitude"], ctx.body["longitude"]
    problems = []
    if not -90 <= lat <= 90:
        problems.append("latitude must be between -90 and 90")
    if not -180 <= lng <= 180:
        problems.append("longitude must be between -180 and 180")
    if problems:
        raise errors.bad_request(problems)
    title = str(ctx.body.get("title") or "")
    msg = add_sent(
        world,
        chat_id,
        body=title,
        kind="location",
        reply_to=ctx.body.get("reply_to"),
        location={"latitude": lat, "longitude": lng, "title": title},
    )
    return render_proto(msg)


def _card(contact: Any, index: int) -> str:
    if not isinstance(contact, dict):
        raise errors.bad_request([f"contacts.{index} must be an object"])
    if _str(contact.get("vcard")):
        return str(contact["vcard"])
    if not (_str(contact.get("fullName")) and _str(contact.get("phoneNumber"))):
        raise errors.bad_request([f"contacts.{index} needs vcard, or fullName and phoneNumber"])
    # WAHA builds the card itself from the structured fields.
    waid = contact.get("whatsappId") or re.sub(r"\D", "", contact["phoneNumber"])
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{contact['fullName']}"]
    if _str(contact.get("organization")):
        lines.append(f"ORG:{contact['organization']};")
    lines += [f"TEL;type=CELL;type=VOICE;waid={waid}:{contact['phoneNumber']}", "END:VCARD"]
    return "\n".join(lines)


@route("ChattingController_sendContactVcard")
async def send_contact_vcard(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    contacts = ctx.body["contacts"]
    if not contacts:
        raise errors.bad_request(["contacts should not be empty"])
    cards = [_card(contact, i) for i, contact in enumerate(contacts)]
    msg = add_sent(
        world,
        chat_id,
        body=", ".join(_vcard_name(c) for c in cards),
        kind="contact",
        reply_to=ctx.body.get("reply_to"),
        vcards=cards,
    )
    return render_proto(msg)


# --------------------------------------------------------------------------- polls, lists


@route("ChattingController_sendPoll")
async def send_poll(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    poll = ctx.body.get("poll")
    if not isinstance(poll, dict):
        raise errors.bad_request(["poll must be an object"])
    options = poll.get("options")
    problems = []
    if not _str(poll.get("name")):
        problems.append("poll.name should not be empty")
    if not isinstance(options, list) or not all(_str(o) for o in options):
        problems.append("poll.options must be an array of strings")
    elif not 2 <= len(options) <= MAX_POLL_OPTIONS:
        problems.append(f"poll.options must contain 2 to {MAX_POLL_OPTIONS} elements")
    if not isinstance(poll.get("multipleAnswers", False), bool):
        problems.append("poll.multipleAnswers must be a boolean value")
    if problems or not isinstance(options, list):  # options is a list when nothing is wrong
        raise errors.bad_request(problems)
    kept = {"name": poll["name"], "options": list(options), "multipleAnswers": bool(poll.get("multipleAnswers"))}
    msg = add_sent(world, chat_id, body=poll["name"], kind="poll", reply_to=ctx.body.get("reply_to"), poll=kept)
    return render_proto(msg)


@route("ChattingController_sendPollVote")
async def send_poll_vote(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    votes = ctx.body["votes"]
    if not all(isinstance(v, str) for v in votes):
        raise errors.bad_request(["each value in votes must be a string"])
    found = world.find_message(chat_id, str(ctx.body["pollMessageId"]))
    if not isinstance(found, RichMessage) or found.poll is None:
        raise errors.nest(404, f"Poll message '{ctx.body['pollMessageId']}' not found in chat '{chat_id}'")
    unknown = [v for v in votes if v not in found.poll["options"]]
    if unknown:
        raise errors.nest(422, f"Not options of the poll: {', '.join(unknown)}")
    if len(votes) > 1 and not found.poll["multipleAnswers"]:
        raise errors.nest(422, "The poll allows a single answer")
    if votes:
        found.votes[world.me_id] = list(votes)
    else:
        found.votes.pop(world.me_id, None)
    destination = {"id": found.id, "to": chat_id, "from": world.me_id, "fromMe": True}
    vote = {**destination, "id": f"true_{chat_id}_{found.raw_id}", "selectedOptions": list(votes)}
    world.announce("poll.vote", {"vote": {**vote, "timestamp": world.now()}, "poll": destination, "_data": {}})
    return {"pollMessageId": found.id, "votes": list(votes)}


@route("ChattingController_sendList")
async def send_list(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    message = ctx.body.get("message")
    if not isinstance(message, dict):
        raise errors.bad_request(["message must be an object"])
    problems = [f"message.{k} should not be empty" for k in ("title", "button") if not _str(message.get(k))]
    sections = message.get("sections")
    if not isinstance(sections, list) or not sections:
        problems.append("message.sections should not be empty")
    else:
        for i, section in enumerate(sections):
            rows = section.get("rows") if isinstance(section, dict) else None
            if not isinstance(section, dict) or not _str(section.get("title")):
                problems.append(f"message.sections.{i}.title should not be empty")
            if not isinstance(rows, list) or not rows:
                problems.append(f"message.sections.{i}.rows should not be empty")
                continue
            for j, row in enumerate(rows):
                if not (isinstance(row, dict) and _str(row.get("title")) and _str(row.get("rowId"))):
                    problems.append(f"message.sections.{i}.rows.{j} needs title and rowId")
    if problems:
        raise errors.bad_request(problems)
    msg = add_sent(
        world,
        chat_id,
        body=str(message["title"]),
        kind="list",
        reply_to=ctx.body.get("reply_to"),
        listing=dict(message),
    )
    return render_proto(msg)


# --------------------------------------------------------------------------- acting on messages


@route("ChattingController_forwardMessage")
async def forward_message(ctx: Ctx) -> dict[str, Any]:
    world, chat_id = await _target(ctx)
    source = find_anywhere(world, str(ctx.body["messageId"]))
    if source is None:
        raise errors.nest(404, f"Message '{ctx.body['messageId']}' not found")
    extra: dict[str, Any] = {}
    kind = "image" if source.media else "text"
    if isinstance(source, RichMessage):
        kind = source.kind
        extra = {
            name: getattr(source, name)
            for name in ("location", "vcards", "poll", "listing", "event", "preview", "content", "source_url")
        }
        extra["vcards"] = list(extra["vcards"])
    msg = add_sent(world, chat_id, body=source.body, kind=kind, media=source.media, forwarded=True, **extra)
    return ctx.render(msg, world.me_id)


@route("ChattingController_setReaction")
async def set_reaction(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    reaction = str(ctx.body["reaction"])
    found = find_anywhere(world, str(ctx.body["messageId"]))
    # NOWEB sends the reaction without looking the message up; the store only records known ones.
    if found is not None:
        rich = promote(world, found)
        if reaction:
            rich.reactions[world.me_id] = reaction
        else:
            rich.reactions.pop(world.me_id, None)
        world.announce("message.reaction", _reaction_body(world, rich, reaction))
    return {}


def _reaction_body(world: World, msg: Message, reaction: str) -> dict[str, Any]:
    """`WAMessageReaction`: the reaction is a message of its own, from this account."""
    mid, _ = world.message_id(msg.chat_id, True, world.me_id, "3EB0")
    return {
        "id": mid,
        "timestamp": world.now(),
        "from": world.me_id,
        "fromMe": True,
        "source": "api",
        "to": msg.chat_id,
        "participant": world.me_id,
        "reaction": {"text": reaction, "messageId": msg.id},
    }


@route("ChattingController_setStar")
async def set_star(ctx: Ctx) -> None:
    world = world_of(await ctx.working_session())
    chat_id = normalize_chat_id(str(ctx.body["chatId"]))
    found = world.find_message(chat_id, str(ctx.body["messageId"]))
    if found is not None:
        promote(world, found).starred = bool(ctx.body["star"])
    return None


@route("ChattingController_sendSeen")
async def send_seen(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    chat = world.chats.get(normalize_chat_id(str(ctx.body["chatId"])))
    if chat is None:
        return {}
    wanted = list(ctx.body.get("messageIds") or [])
    if ctx.body.get("messageId"):
        wanted.append(ctx.body["messageId"])
    marked = 0
    for msg in chat.messages:
        if msg.from_me or msg.stub or (wanted and msg.id not in wanted and msg.raw_id not in wanted):
            continue
        if msg.ack < 3:
            # Reading others' messages is no `message.ack`: that event is about messages I sent (BEHAVIOUR.md).
            msg.ack = 3
            marked += 1
    chat.unread_count = max(0, chat.unread_count - marked) if wanted else 0
    return {}


@route("ChattingController_startTyping")
async def start_typing(ctx: Ctx) -> None:
    world = world_of(await ctx.working_session())
    typing_chats(world).add(normalize_chat_id(str(ctx.body["chatId"])))


@route("ChattingController_stopTyping")
async def stop_typing(ctx: Ctx) -> None:
    world = world_of(await ctx.working_session())
    typing_chats(world).discard(normalize_chat_id(str(ctx.body["chatId"])))
