"""WhatsApp id validation and normalisation, before any HTTP call."""

from __future__ import annotations

import re
from dataclasses import dataclass

from waha_mcp.errors import ToolInputError

SUFFIXES = ("@c.us", "@g.us", "@lid", "@newsletter", "@s.whatsapp.net")  # the last read as @c.us (c_us)
_PHONE = re.compile(r"^\+?[\d\s\-().]{5,25}$")
_LOCAL = re.compile(r"^[0-9A-Za-z._:\-]{1,80}$")
_MESSAGE = re.compile(r"^(true|false)_[^\s/?#]{3,250}$")
_BARE_MESSAGE = re.compile(r"^[0-9A-Za-z_\-:@.]{6,250}$")


_JID_USER = "@s.whatsapp.net"


def c_us(jid: str) -> str:
    """WhatsApp's user JID (`<digits>[:device]@s.whatsapp.net`, as NOWEB and GOWS write it) as WAHA's
    `<digits>@c.us`, the id every tool takes and shows; any other id unchanged."""
    if jid.endswith(_JID_USER):
        return f"{jid[: -len(_JID_USER)].split(':')[0]}@c.us"
    return jid


def chat_id(value: str, *, field: str = "chatId") -> str:
    """`<digits>@c.us` for a phone number; known suffixes kept; anything else is refused."""
    raw = (value or "").strip()
    if raw == "status@broadcast":
        return raw
    if _PHONE.fullmatch(raw):
        digits = re.sub(r"\D", "", raw)
        if 5 <= len(digits) <= 15:
            return f"{digits}@c.us"
    for suffix in SUFFIXES:
        if raw.endswith(suffix) and _LOCAL.fullmatch(raw[: -len(suffix)]):
            return c_us(raw)
    shown = repr(value)[:60]
    raise ToolInputError(
        f"{field} {shown} is not a WhatsApp id: use a phone number (digits) or <id>@c.us, @g.us, @lid, "
        "@newsletter, status@broadcast"
    )


_GROUP = re.compile(r"^\d{5,40}(-\d{5,20})?$")


def group_id(value: str, *, field: str = "groupId") -> str:
    """`<digits>@g.us` (old groups: `<phone>-<time>@g.us`); the bare digits get the suffix."""
    raw = (value or "").strip()
    local = raw.removesuffix("@g.us")
    if _GROUP.fullmatch(local):
        return f"{local}@g.us"
    shown = repr(value)[:60]
    raise ToolInputError(f"{field} {shown} is not a group id (like 120363012345678901@g.us)")


_CHANNEL = re.compile(r"^\d{5,40}$")
_INVITE = re.compile(r"^[0-9A-Za-z]{10,40}$")
_CHANNEL_LINK = re.compile(r"^(?:https?://)?(?:www\.)?whatsapp\.com/channel/([0-9A-Za-z]{10,40})/?(?:[?#].*)?$", re.I)


def channel_id(value: str, *, field: str = "channelId") -> str:
    """`<digits>@newsletter`; the bare digits get the suffix."""
    raw = (value or "").strip()
    local = raw.removesuffix("@newsletter")
    if _CHANNEL.fullmatch(local):
        return f"{local}@newsletter"
    shown = repr(value)[:60]
    raise ToolInputError(f"{field} {shown} is not a channel id (like 120363012345678901@newsletter)")


def channel_ref(value: str, *, field: str = "channelId") -> str:
    """A channel id, an invite code, or a whatsapp.com/channel/<code> link (→ its code), as WAHA's get takes."""
    raw = (value or "").strip()
    link = _CHANNEL_LINK.fullmatch(raw)
    if link:
        return link.group(1)
    if raw.endswith("@newsletter") or raw.isdigit():
        return channel_id(raw, field=field)
    if _INVITE.fullmatch(raw):
        return raw
    shown = repr(value)[:60]
    raise ToolInputError(
        f"{field} {shown} is not a channel id (123...@newsletter), invite code or whatsapp.com/channel/ link"
    )


def message_id(value: str, *, field: str = "messageId") -> str:
    """WAHA message ids look like `true_<chatId>_<hex>`; engines also use bare ids, so accept those too."""
    raw = (value or "").strip()
    if _MESSAGE.fullmatch(raw) or _BARE_MESSAGE.fullmatch(raw):
        return raw
    shown = repr(value)[:60]
    raise ToolInputError(f"{field} {shown} is not a WAHA message id (like true_123@c.us_3EB0ABC...)")


@dataclass(frozen=True)
class MessageKey:
    """A serialized message id as WAHA reads it: `<fromMe>_<chat>_<id>[_<participant>]`, or a bare engine id."""

    id: str
    from_me: bool | None = None
    chat: str | None = None  # normalised (`@s.whatsapp.net` → `@c.us`); None when the id names no chat
    participant: str | None = None


def message_key(value: str) -> MessageKey:
    """The parts of a message id, read as WAHA reads them (Core's src/core/utils/ids.ts,
    `parseMessageIdSerialized`, used by the engines for reactions, receipts, replies and forwards): split on
    `_`; with three or four parts the chat is the second, whatever the first says (`fromMe` is only a literal
    `true`), the participant the fourth. A bare id (no `_`) names no chat; any other count WAHA refuses, so it
    names none either. A chat part that is no WhatsApp id counts as none."""
    parts = value.split("_")
    if len(parts) not in (3, 4):
        return MessageKey(id=value)
    participant = _id_or_none(parts[3]) if len(parts) == 4 else None
    return MessageKey(id=parts[2], from_me=parts[0] == "true", chat=_id_or_none(parts[1]), participant=participant)


def _id_or_none(value: str) -> str | None:
    if "@" not in value:  # WAHA would not make it a JID: it names no chat we can check
        return None
    try:
        return chat_id(value)
    except ToolInputError:
        return None


def phone_number(value: str, *, field: str = "phone") -> str:
    digits = re.sub(r"[\s+\-().]", "", value or "")
    if not re.fullmatch(r"\d{5,15}", digits):
        raise ToolInputError(f"{field} {value!r} must be an international number, digits only (no +)")
    return digits
