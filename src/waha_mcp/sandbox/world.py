"""The in-memory WhatsApp world of one paired sandbox session.

Shape (all ids in WAHA's `@c.us` / `@g.us` form):

- `World.me_id`, `World.me_name`: the paired account.
- `World.contacts: dict[id, Contact]` - address book (`Contact.to_waha()` is WAHA's contact JSON). Some
  contacts have a LID (`Contact.lid`, `<digits>@lid`): WhatsApp's hidden-number identity, which the
  LID routes map to the phone id (`World.pn_of`, `World.lid_of`). In seeded groups, a contact with a
  LID writes as that LID (as WhatsApp does in LID-addressed groups), so senders arrive as `…@lid`.
- Numbers on WhatsApp (`World.on_whatsapp`): me, every contact, and any other number not ending in 0.
- `World.chats: dict[id, Chat]` - every conversation, direct or group (one direct chat is keyed by the
  person's LID, with no name); `Chat.messages` is a list of
  `Message` oldest first. `Chat.to_waha()` is an item of `GET /api/{s}/chats`, `Chat.raw()` is `_chat`.
- `World.groups: dict[id, Group]` - group metadata (NOWEB shape, `Group.to_waha()`); each group also
  has a `Chat` with the same id.
- `World.channels: dict[id, Channel]` - every channel this account can see: its own (OWNER/ADMIN), those
  it follows (SUBSCRIBER) and the public directory it has not followed (GUEST, what search finds);
  `Channel.posts` are the latest posts, oldest first, with their reactions and view counts.
- `World.presence: OwnPresence` - this account's own presence, typing and presence subscriptions.
- `World.business`: a WhatsApp Business account (the seeded session `business` is one); only those have
  `World.labels: dict[id, Label]` and `World.chat_labels: dict[chat id, [label id]]` (WhatsApp's five
  default labels are seeded).
- `World.profile: Profile` - about text and picture (the name is `me_name`).
- `World.statuses: dict[raw id, Status]` - stories this account posted (messages to `status@broadcast`,
  kept out of `chats`), with who each went to.
- `Message.raw()` is the bulky NOWEB-like `_data`; `render.render_message` (also `Message.to_waha`)
  renders the `WAMessage` every route and the event log show.
  Ids: `true_<chatId>_<20 hex>` for sent, `false_<chatId>_<20 hex>` for received and, in groups,
  `false_<groupId>_<20 hex>_<participant>`.

Writes go through `World` methods (`send_text`, `receive_text`, `create_group`, `ensure_chat`,
`find_message`) so that what one route writes another reads. Seed data is deterministic for a
given (seed, session name).
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACK_NAMES = {-1: "ERROR", 0: "PENDING", 1: "SERVER", 2: "DEVICE", 3: "READ", 4: "PLAYED"}
# Fixed seed epoch (2026-02-01 00:00 UTC) so seeded timestamps do not depend on the clock.
SEED_EPOCH = 1769904000

_NAMES = [
    "Ana Souza",
    "Ben Carter",
    "Chloé Martin",
    "Dmitri Ivanov",
    "Emma Schulz",
    "Farah Haddad",
    "Gabriel Rossi",
    "Hana Sato",
    "Isaac Mensah",
    "Julia Nowak",
    "Kofi Boateng",
    "Lena Berg",
]
_GROUP_NAMES = ["Family 🏡", "Project Falcon", "Book club", "Weekend football", "Neighbours"]
# The public directory of channels: (name, description, category, country, subscribers, verified).
_CHANNELS = [
    ("City Transit Updates", "Service changes, delays and new routes", "ORGANIZATIONS", "US", 48210, True),
    ("Daily Football", "Scores, transfers and match days", "SPORTS", "GB", 1250400, True),
    ("Ten-Minute Recipes", "A quick dinner every evening", "LIFESTYLE", "US", 88000, False),
    ("Startup Weekly", "News and tools for founders", "BUSINESS", "US", 15300, False),
    ("Indie Music Picks", "New releases every Friday", "ENTERTAINMENT", "BR", 230500, False),
    ("Trail Running Club", "Routes, races and gear", "SPORTS", "US", 9100, False),
    ("Science Today", "One discovery a day, explained", "ORGANIZATIONS", "DE", 402000, True),
]
_POSTS = [
    "Good morning! Here is today's update.",
    "New this week: three things you should know.",
    "Thanks for following 🙏",
    "Poll results are in, see the details below.",
    "Weekend edition is out now.",
    "Reminder: live Q&A tomorrow at 6pm.",
]
_LINES = [
    "Hi! How are you?",
    "All good here, thanks 🙂",
    "Are we still on for tomorrow?",
    "Yes, 10am works for me.",
    "Can you send me the document?",
    "Sent it by email just now.",
    "Great, thanks a lot!",
    "Running 5 minutes late, sorry",
    "No problem, see you soon",
    "Did you see the news?",
    "Haha that's hilarious 😂",
    "Let me check and get back to you.",
    "Meeting moved to 3pm",
    "👍",
    "Happy birthday!! 🎉",
    "Where should we meet?",
    "The usual café?",
    "Perfect.",
    "Call me when you're free",
    "On my way",
]


def _hex20(rng: random.Random, prefix: str = "") -> str:
    return prefix + f"{rng.getrandbits(80):020X}"[: 20 - len(prefix)]


def _b64(rng: random.Random, n: int) -> str:
    return base64.b64encode(rng.randbytes(n)).decode()


def invite_code(rng: random.Random) -> str:
    return _b64(rng, 16).rstrip("=").replace("/", "x").replace("+", "y")[:22]


def jid(chat_id: str) -> str:
    """NOWEB's raw form of a WAHA id: persons use @s.whatsapp.net inside `_data`."""
    return chat_id.replace("@c.us", "@s.whatsapp.net")


def is_group(chat_id: str) -> bool:
    return chat_id.endswith("@g.us")


@dataclass
class Contact:
    id: str
    name: str | None
    pushname: str | None = None
    is_my_contact: bool = True
    blocked: bool = False
    lid: str | None = None  # `<digits>@lid`, when WhatsApp gave this person one
    about: str | None = None  # None: their privacy settings hide it
    picture: bool = True  # False: their privacy settings hide it

    def to_waha(self) -> dict[str, Any]:
        name = self.name or self.pushname
        return {
            "id": self.id,
            "number": self.id.split("@")[0],
            "name": self.name,
            "pushname": self.pushname,
            "shortName": name.split()[0] if name else None,
            "isMe": False,
            "isUser": True,
            "isGroup": False,
            "isWAContact": True,
            "isMyContact": self.is_my_contact,
            "isBlocked": self.blocked,
        }


@dataclass
class Media:
    mimetype: str
    filename: str | None
    size: int
    width: int = 0
    height: int = 0
    downloaded_at: float | None = None  # when WAHA last downloaded it to its file server (downloadMedia)
    data: bytes | None = None  # the file itself (a voice note with real speech); else made up from the size
    ptt: bool = False  # a voice note (push to talk), not an audio file
    seconds: int = 0


@dataclass
class Message:
    id: str
    chat_id: str
    raw_id: str  # the 20-hex WhatsApp id inside `id`
    timestamp: int
    from_me: bool
    sender: str  # who wrote it (me for fromMe)
    body: str
    ack: int
    source: str = "app"
    push_name: str | None = None
    media: Media | None = None
    reply_to: Message | None = None
    stub: str | None = None  # system message (e.g. GROUP_CREATE): WhatsApp's messageStubType
    secret: str = ""  # opaque bulk for `_data`, fixed at creation so renders are stable
    edited_at: int | None = None  # set by an edit: `_data.message` becomes NOWEB's `editedMessage`
    pinned_until: int | None = None
    location: dict[str, Any] | None = None  # {latitude, longitude, title}
    vcards: list[str] = field(default_factory=list)
    revokes: Message | None = None  # a revoke notice: WhatsApp's protocol message deleting this one

    def _key(self) -> dict[str, Any]:
        key: dict[str, Any] = {"remoteJid": jid(self.chat_id), "fromMe": self.from_me, "id": self.raw_id}
        if is_group(self.chat_id):
            key["participant"] = jid(self.sender)
        return key

    def _content(self) -> dict[str, Any]:
        context = {"expiration": 0, "ephemeralSettingTimestamp": str(self.timestamp - 86400 * 30)}
        if self.reply_to is not None:
            context.update(
                stanzaId=self.reply_to.raw_id,
                participant=jid(self.reply_to.sender),
                quotedMessage={"conversation": self.reply_to.body},
            )
        content: dict[str, Any]
        if self.media is not None:
            major = self.media.mimetype.split("/")[0]
            kind = {"image": "imageMessage", "video": "videoMessage", "audio": "audioMessage"}.get(major)
            content = {
                kind or "documentMessage": {
                    "url": f"https://mmg.whatsapp.net/v/t62.7118-24/{self.raw_id}.enc",
                    **({"fileName": self.media.filename} if self.media.filename else {}),
                    "mimetype": self.media.mimetype,
                    "caption": self.body,
                    "fileSha256": self.secret[:44],
                    "fileLength": str(self.media.size),
                    "height": self.media.height,
                    "width": self.media.width,
                    "mediaKey": self.secret[44:88],
                    "fileEncSha256": self.secret[88:132],
                    "directPath": f"/v/t62.7118-24/{self.raw_id}.enc?ccb=11-4",
                    "mediaKeyTimestamp": str(self.timestamp),
                    "jpegThumbnail": self.secret * 3,
                    "contextInfo": context,
                    # NOWEB's audioMessage: `ptt` marks a voice note, `seconds` its length.
                    **({"ptt": True, "seconds": self.media.seconds} if self.media.ptt else {}),
                }
            }
        else:
            content = {
                "extendedTextMessage": {
                    "text": self.body,
                    "previewType": "NONE",
                    "contextInfo": context,
                    "inviteLinkGroupTypeV2": "DEFAULT",
                }
            }
        content["messageContextInfo"] = {
            "deviceListMetadata": {
                "senderKeyHash": self.secret[:28],
                "senderTimestamp": str(self.timestamp - 3600),
                "recipientKeyHash": self.secret[28:56],
                "recipientTimestamp": str(self.timestamp - 7200),
            },
            "deviceListMetadataVersion": 2,
            "messageSecret": self.secret[56:100],
        }
        return content

    def raw(self) -> dict[str, Any]:
        """The NOWEB (Baileys WebMessageInfo) record WAHA passes through as `_data`."""
        data: dict[str, Any] = {
            "key": self._key(),
            "messageTimestamp": self.timestamp,
            "pushName": self.push_name,
            "broadcast": False,
            "status": min(self.ack + 1, 4) if self.ack >= 0 else 0,
            "message": None if self.stub else self._content(),
            "userReceipt": [],
            "reactions": [],
            "pollUpdates": [],
            "labels": [],
            "messageC2STimestamp": str(self.timestamp) if self.from_me else None,
        }
        if self.revokes is not None:
            data["message"] = {"protocolMessage": {"key": self.revokes._key(), "type": "REVOKE"}}
        if self.edited_at is not None and data["message"] is not None:
            data["message"] = {"editedMessage": {"message": data["message"]}}
        if self.stub:
            data["messageStubType"] = self.stub
            data["messageStubParameters"] = [self.body]
        if self.from_me and self.ack >= 3:
            data["userReceipt"] = [
                {
                    "userJid": jid(self.chat_id),
                    "receiptTimestamp": str(self.timestamp + 2),
                    "readTimestamp": str(self.timestamp + 40),
                }
            ]
        return data

    def to_waha(
        self,
        me_id: str,
        *,
        base_url: str = "http://localhost:3000",
        download_media: bool = True,
        session: str = "default",
    ) -> dict[str, Any]:
        """WAHA's `WAMessage` (see `render.render_message`, the one renderer)."""
        from .render import render_message

        return render_message(self, me_id, base_url=base_url, download_media=download_media, session=session)


@dataclass
class Participant:
    id: str  # @c.us, or @lid for a hidden number
    role: str = "participant"  # participant | admin | superadmin
    pn: str | None = None  # the phone-number id of an @lid member, when WhatsApp shares it

    def to_waha(self) -> dict[str, Any]:
        admin = None if self.role == "participant" else self.role
        return {"id": self.id, "admin": admin}

    def v2(self) -> dict[str, Any]:
        """`GroupParticipant` (participants/v2 and group.v2.* events)."""
        out = {"id": self.id, "role": self.role}
        if self.pn or self.id.endswith("@c.us"):
            out["pn"] = self.pn or self.id
        return out


@dataclass
class Group:
    id: str
    subject: str
    owner: str
    creation: int
    participants: list[Participant]
    description: str = ""
    announce: bool = False  # only admins send messages
    restrict: bool = False  # only admins edit info
    invite_code: str = ""
    picture: int | None = 1  # version of the group picture; None: no picture
    members_add: bool = False  # members (not only admins) may add members (member-add mode, WAHA 2026.7.2)
    approval: bool = False  # admins approve who joins (membership approval, WAHA 2026.8.2)
    # Members may share the message history with new members (WAHA 2026.9.1); the sandbox's default, no source.
    share_history: bool = False
    # Pending requests to join, as WAHA lists them (`GroupJoinRequest`, groups.dto.ts)
    join_requests: list[dict[str, Any]] = field(default_factory=list)

    def member(self, participant_id: str) -> Participant | None:
        return next((p for p in self.participants if participant_id in (p.id, p.pn)), None)

    def is_admin(self, participant_id: str) -> bool:
        member = self.member(participant_id)
        return member is not None and member.role in ("admin", "superadmin")

    def info(self) -> dict[str, Any]:
        """`GroupInfo`, as in group.v2.* events."""
        return {
            "id": self.id,
            "subject": self.subject,
            "description": self.description,
            "invite": f"https://chat.whatsapp.com/{self.invite_code}",
            "membersCanAddNewMember": self.members_add,
            "membersCanSendMessages": not self.announce,
            "newMembersApprovalRequired": self.approval,
            "participants": [p.v2() for p in self.participants],
        }

    def to_waha(self) -> dict[str, Any]:
        """NOWEB GroupMetadata, as WAHA returns it for NOWEB sessions."""
        return {
            "id": self.id,
            "addressingMode": "pn",
            "subject": self.subject,
            "subjectOwner": self.owner,
            "subjectTime": self.creation,
            "size": len(self.participants),
            "creation": self.creation,
            "owner": self.owner,
            "desc": self.description or None,
            "descId": f"{self.creation:X}" if self.description else None,
            "restrict": self.restrict,
            "announce": self.announce,
            "isCommunity": False,
            "isCommunityAnnounce": False,
            "joinApprovalMode": self.approval,
            "memberAddMode": self.members_add,
            "participants": [p.to_waha() for p in self.participants],
        }


@dataclass
class ChannelPost:
    message: Message
    reactions: dict[str, int] = field(default_factory=dict)
    views: int = 0


@dataclass
class Channel:
    """A WhatsApp channel (newsletter); `role` is this account's: OWNER, ADMIN, SUBSCRIBER or GUEST."""

    id: str
    name: str
    invite_code: str
    role: str = "GUEST"
    description: str = ""
    subscribers: int = 0
    verified: bool = False
    picture: bool = True
    muted: bool = False
    category: str = ""
    country: str = ""
    creation: int = 0
    posts: list[ChannelPost] = field(default_factory=list)

    @property
    def invite(self) -> str:
        return f"https://www.whatsapp.com/channel/{self.invite_code}"

    def public(self) -> dict[str, Any]:
        """`ChannelPublicInfo` (search results)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "invite": self.invite}
        # Without a picture both are null, not absent (the issue-21 audit of WAHA's channel answers).
        out["preview"] = out["picture"] = None
        if self.picture:
            number = self.id.split("@")[0][-9:]
            out["preview"] = f"https://mmg.whatsapp.net/m1/v/t24/{number}_preview.jpg?_nc_cat=sandbox"
            out["picture"] = f"https://mmg.whatsapp.net/m1/v/t24/{number}.jpg?_nc_cat=sandbox"
        out |= {"description": self.description, "verified": self.verified, "subscribersCount": self.subscribers}
        return out

    def to_waha(self) -> dict[str, Any]:
        """`Channel` (list, get, create): the public info and this account's role."""
        return self.public() | {"role": self.role}


def channel_invite(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "0029Va" + "".join(rng.choice(alphabet) for _ in range(18))


@dataclass(frozen=True)
class Ack:
    """A `message.ack` about `msg` at its current level; rendered per engine when logged (render.render_ack)."""

    msg: Message


@dataclass
class Chat:
    id: str
    name: str | None
    messages: list[Message] = field(default_factory=list)
    unread_count: int = 0
    archived: bool = False
    pinned: bool = False

    @property
    def last_message(self) -> Message | None:
        return max(self.messages, key=lambda m: m.timestamp) if self.messages else None

    @property
    def timestamp(self) -> int:
        last = self.last_message
        return last.timestamp if last else 0

    def raw(self) -> dict[str, Any]:
        """The NOWEB chat record (`_chat` in the overview)."""
        return {
            "id": jid(self.id),
            "name": self.name,
            "conversationTimestamp": self.timestamp,
            "unreadCount": self.unread_count,
            "archived": self.archived,
            "pinned": 1 if self.pinned else 0,
            "readOnly": False,
            "endOfHistoryTransferType": 0,
            "ephemeralExpiration": 0,
            "notSpam": True,
            "tcToken": None,
        }

    def to_waha(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "conversationTimestamp": self.timestamp,
            "unreadCount": self.unread_count,
            "archived": self.archived,
            "pinned": self.pinned,
            "isGroup": is_group(self.id),
        }


@dataclass
class OwnPresence:
    """This account's own presence: what the presence and typing routes set, and who it watches."""

    mine: str = "offline"
    in_chat: dict[str, str] = field(default_factory=dict)  # typing/recording/paused per chat (presence API)
    subscribed: list[str] = field(default_factory=list)  # chats whose presence was asked for
    typing: set[str] = field(default_factory=set)  # chats with startTyping (the chatting API)


# WhatsApp Business label colours: `Label.color` is an index into this list, `colorHex` its value.
LABEL_COLORS = (
    "#ff9485", "#64c4ff", "#ffd429", "#dfaef0", "#99b6c1", "#55ccb3", "#ff9dff", "#d3a91d", "#6d7cce", "#d7e752",
    "#00d0e2", "#ffc5c7", "#93ceac", "#f74848", "#00a0f2", "#83e422", "#ffaf04", "#b5ebff", "#9ba6ff", "#9368cf",
)  # fmt: skip
# The labels a new WhatsApp Business account starts with (name, colour index).
DEFAULT_LABELS = (("New customer", 1), ("New order", 2), ("Pending payment", 3), ("Paid", 5), ("Order complete", 13))


@dataclass
class Label:
    id: str
    name: str
    color: int

    def to_waha(self) -> dict[str, Any]:
        """WAHA's `Label`."""
        return {"id": self.id, "name": self.name, "color": self.color, "colorHex": LABEL_COLORS[self.color]}


@dataclass
class Profile:
    """This account's about text and picture (a WhatsApp CDN URL, or None)."""

    about: str = "Hey there! I am using WhatsApp."
    picture: str | None = None


STATUS_CHAT = "status@broadcast"  # where WhatsApp posts stories: every status is a message to it


@dataclass
class Status:
    """A status (story) this account posted: its message to `status@broadcast` (id, text or caption,
    media) and who it went to (contact ids; the own account too when WAHA made the id itself)."""

    message: Message
    kind: str  # text | image | voice | video
    audience: set[str] = field(default_factory=set)


@dataclass
class World:
    me_id: str
    me_name: str
    rng: random.Random
    contacts: dict[str, Contact] = field(default_factory=dict)
    chats: dict[str, Chat] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    # Groups this account is not in but has an invite link to (join-info, join).
    outside: dict[str, Group] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    presence: OwnPresence = field(default_factory=OwnPresence)
    business: bool = False
    labels: dict[str, Label] = field(default_factory=dict)
    chat_labels: dict[str, list[str]] = field(default_factory=dict)
    profile: Profile = field(default_factory=Profile)
    statuses: dict[str, Status] = field(default_factory=dict)  # by raw message id
    # Where events go (`SandboxSession.announce`): event name and payload (`Message`s rendered there).
    announce: Callable[[str, Any], None] = field(default=lambda event, payload: None, repr=False, compare=False)

    # --- ids and time -------------------------------------------------------------------------
    def message_id(self, chat_id: str, from_me: bool, sender: str, prefix: str = "") -> tuple[str, str]:
        raw = _hex20(self.rng, prefix)
        mid = f"{'true' if from_me else 'false'}_{chat_id}_{raw}"
        if is_group(chat_id) and not from_me:
            mid += f"_{sender}"
        return mid, raw

    def now(self) -> int:
        """Wall clock, but never before the newest message (seed data may be 'in the future')."""
        newest = max((c.timestamp for c in self.chats.values()), default=0)
        return max(int(time.time()), newest + 1)

    def name_of(self, chat_id: str) -> str | None:
        if chat_id in self.groups:
            return self.groups[chat_id].subject
        contact = self.contacts.get(self.pn_of(chat_id) or chat_id)
        return (contact.name or contact.pushname) if contact else None

    # --- LIDs and numbers ---------------------------------------------------------------------------
    def lids(self) -> dict[str, str]:
        """Every LID this account knows → the phone id (`<digits>@c.us`)."""
        return {c.lid: c.id for c in self.contacts.values() if c.lid}

    def pn_of(self, lid: str) -> str | None:
        return self.lids().get(lid) if lid.endswith("@lid") else None

    def pn_on_whatsapp(self, lid: str) -> str | None:
        """What WhatsApp's server answers for a LID this account has no record of: the phone id of a group member
        it shares (any group, joined or not), else nothing."""
        for group in [*self.groups.values(), *self.outside.values()]:
            member = next((p for p in group.participants if p.id == lid and p.pn), None)
            if member is not None:
                return member.pn
        return None

    def lid_of(self, chat_id: str) -> str | None:
        contact = self.contacts.get(chat_id)
        return contact.lid if contact else None

    def contact(self, contact_id: str) -> Contact | None:
        """A contact by phone id or by LID."""
        return self.contacts.get(self.pn_of(contact_id) or contact_id)

    def on_whatsapp(self, digits: str) -> bool:
        chat_id = f"{digits}@c.us"
        return chat_id == self.me_id or chat_id in self.contacts or not digits.endswith("0")

    # --- writes ---------------------------------------------------------------------------------
    def ensure_chat(self, chat_id: str) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(id=chat_id, name=self.name_of(chat_id))
        return chat

    def add_message(
        self,
        chat_id: str,
        *,
        from_me: bool,
        sender: str,
        body: str,
        timestamp: int,
        ack: int,
        source: str = "app",
        media: Media | None = None,
        reply_to: Message | None = None,
        stub: str | None = None,
        prefix: str = "",
    ) -> Message:
        mid, raw = self.message_id(chat_id, from_me, sender, prefix)
        push = self.me_name if from_me else self.name_of(sender)
        msg = Message(
            id=mid,
            chat_id=chat_id,
            raw_id=raw,
            timestamp=timestamp,
            from_me=from_me,
            sender=sender,
            body=body,
            ack=ack,
            source=source,
            push_name=push,
            media=media,
            reply_to=reply_to,
            stub=stub,
            secret=_b64(self.rng, 99),
        )
        self.store(msg)
        return msg

    def store(self, msg: Message) -> None:
        """Add a new message to its chat; WAHA announces it as `message.any` (and `message` if received)."""
        chat = self.ensure_chat(msg.chat_id)
        chat.messages.append(msg)
        if not msg.from_me and not msg.stub:
            chat.unread_count += 1
        if msg.stub:
            return  # system messages come as group events, not messages
        if not msg.from_me:
            self.announce("message", msg)
        self.announce("message.any", msg)

    def set_ack(self, msg: Message, ack: int) -> None:
        if msg.ack == ack:
            return
        msg.ack = ack
        self.announce("message.ack", Ack(msg))

    def revoke_notice(self, msg: Message) -> Message:
        """The protocol message that deletes `msg` for everyone (the `after` of `message.revoked`); not stored."""
        mid, raw = self.message_id(msg.chat_id, True, self.me_id, "3EB0")
        return Message(mid, msg.chat_id, raw, self.now(), True, self.me_id, "", ack=1, source="api",
                       push_name=self.me_name, secret=msg.secret, revokes=msg)  # fmt: skip

    def send_text(self, chat_id: str, text: str, reply_to: str | None = None) -> Message:
        quoted = self.find_message(chat_id, reply_to) if reply_to else None
        return self.add_message(
            chat_id,
            from_me=True,
            sender=self.me_id,
            body=text,
            timestamp=self.now(),
            ack=1,
            source="api",
            reply_to=quoted,
            prefix="BAE5",
        )

    def receive_text(self, chat_id: str, text: str, sender: str | None = None) -> Message:
        if sender is None:
            sender = self._default_sender(chat_id)
        return self.add_message(
            chat_id, from_me=False, sender=sender, body=text, timestamp=self.now(), ack=2, source="app"
        )

    def receive_voice(self, chat_id: str, data: bytes, seconds: int, sender: str | None = None) -> Message:
        """A voice note someone sends: OGG/Opus `data`, served as is by the file server."""
        media = Media("audio/ogg; codecs=opus", None, len(data), data=data, ptt=True, seconds=seconds)
        sender = sender or self._default_sender(chat_id)
        return self.add_message(
            chat_id, from_me=False, sender=sender, body="", timestamp=self.now(), ack=2, source="app", media=media
        )

    def _default_sender(self, chat_id: str) -> str:
        group = self.groups.get(chat_id)
        if group is None:
            return chat_id
        others = [p.id for p in group.participants if p.id != self.me_id]
        return others[0] if others else chat_id

    def create_group(self, subject: str, participant_ids: list[str]) -> Group:
        gid = f"120363{self.rng.randrange(10**11, 10**12)}@g.us"
        created = self.now()
        members = [Participant(self.me_id, "superadmin")]
        members += [Participant(p) for p in participant_ids if p != self.me_id]
        group = Group(
            id=gid,
            subject=subject,
            owner=self.me_id,
            creation=created,
            participants=members,
            invite_code=invite_code(self.rng),
        )
        self.groups[gid] = group
        self.ensure_chat(gid).name = subject
        # WhatsApp records a system message when a group is created.
        self.add_message(
            gid, from_me=True, sender=self.me_id, body=subject, timestamp=created, ack=1, stub="GROUP_CREATE"
        )
        self.announce("group.v2.join", {"timestamp": created, "group": group.info(), "_data": {}})
        return group

    def find_message(self, chat_id: str, message_id: str | None) -> Message | None:
        chat = self.chats.get(chat_id)
        if chat is None or not message_id:
            return None
        for msg in chat.messages:
            if message_id in (msg.id, msg.raw_id):
                return msg
        return None

    # --- labels (WhatsApp Business) ----------------------------------------------------------------
    def new_label_id(self) -> str:
        return str(max((int(i) for i in self.labels if i.isdigit()), default=0) + 1)

    def labels_of(self, chat_id: str) -> list[Label]:
        return [self.labels[i] for i in self.chat_labels.get(chat_id, []) if i in self.labels]

    # --- seed -------------------------------------------------------------------------------------
    @classmethod
    def seeded(cls, me_id: str, me_name: str, seed_key: str, *, business: bool = False) -> World:
        rng = random.Random(seed_key)
        world = cls(me_id=me_id, me_name=me_name, rng=rng, business=business)
        if business:
            for name, color in DEFAULT_LABELS:
                label = Label(world.new_label_id(), name, color)
                world.labels[label.id] = label
        people = rng.sample(_NAMES, 6)
        area = rng.choice(["202", "303", "415", "617"])
        for i, name in enumerate(people):
            cid = f"1{area}55501{10 + i * 7 + rng.randrange(7):02d}@c.us"
            # One contact is not in the address book: WhatsApp only knows their push name.
            if i == 5:
                world.contacts[cid] = Contact(cid, None, pushname=name.split()[0], is_my_contact=False)
            else:
                world.contacts[cid] = Contact(cid, name, pushname=name.split()[0])
            contact = world.contacts[cid]
            # Derived from the id, not the rng: the rest of the seed stays what it was.
            digest = hashlib.sha256(f"lid:{me_id}:{cid}".encode()).hexdigest()
            if i in (1, 2, 4):
                contact.lid = f"{int(digest[:12], 16) % 10**14 + 10**14}@lid"
            if i != 3:
                contact.about = ["Hey there! I am using WhatsApp.", "Busy", "At work 💼"][i % 3]
            contact.picture = i != 3
        ids = list(world.contacts)
        t = SEED_EPOCH - 86400 * 6
        for cid in ids[:4]:
            t = world._seed_chat(cid, [cid], t + rng.randrange(3600, 30000))
        for subject in rng.sample(_GROUP_NAMES, 2):
            members = rng.sample(ids, 3)
            group = Group(
                id=f"120363{rng.randrange(10**11, 10**12)}@g.us",
                subject=subject,
                owner=members[0],
                creation=t - 86400 * 90,
                participants=[Participant(members[0], "superadmin"), Participant(me_id, "admin")]
                + [Participant(m) for m in members[1:]],
                description=f"Sandbox group '{subject}' (not WhatsApp)",
                invite_code=invite_code(rng),
            )
            world.groups[group.id] = group
            world.ensure_chat(group.id).name = subject
            t = world._seed_chat(group.id, members, t + rng.randrange(3600, 30000))
        world._seed_outside(random.Random(f"{seed_key}:outside"), t)
        world._seed_lid_chat(random.Random(f"{seed_key}:lid-chat"), ids[4])
        world._seed_channels(random.Random(f"{seed_key}:channels"), t)
        return world

    def _seed_lid_chat(self, rng: random.Random, contact_id: str) -> None:
        """One direct chat WhatsApp keys by the person's LID (`<digits>@lid`), with no name: WhatsApp hides
        the number, so only the LID routes (and the address book behind them) say who it is. It is the
        oldest chat, and its own rng leaves the rest of the seed as it was."""
        lid = self.contacts[contact_id].lid
        assert lid is not None
        saved, self.rng = self.rng, rng
        try:
            t = SEED_EPOCH - 86400 * 9
            for n in range(5):
                from_me = n % 2 == 1
                sender = self.me_id if from_me else lid
                self.add_message(
                    lid, from_me=from_me, sender=sender, body=rng.choice(_LINES), timestamp=t, ack=3 if from_me else 2
                )
                t += rng.randrange(60, 3600)
        finally:
            self.rng = saved
        self.chats[lid].name = None
        self.chats[lid].unread_count = 0

    def _seed_outside(self, rng: random.Random, t: int) -> None:
        """One group with an invite link this account has not joined; its owner shows as an @lid."""
        area = rng.choice(["212", "312", "512"])
        owner_pn = f"1{area}5550{rng.randrange(100, 999)}@c.us"
        owner = Participant(f"{rng.randrange(10**13, 10**14)}@lid", "superadmin", pn=owner_pn)
        members = [owner] + [Participant(f"1{area}5551{rng.randrange(100, 999)}@c.us") for _ in range(2)]
        group = Group(
            id=f"120363{rng.randrange(10**11, 10**12)}@g.us",
            subject="Running club",
            owner=owner.id,
            creation=t - 86400 * 30,
            participants=members,
            description="Sandbox group you can join by invite (not WhatsApp)",
            announce=True,
            restrict=True,
            invite_code=invite_code(rng),
        )
        self.outside[group.id] = group

    def _seed_channels(self, rng: random.Random, t: int) -> None:
        """A channel this account owns, one it follows, the rest a public directory it can search."""
        about = "Sandbox channel you own (not WhatsApp)"
        owned = self.new_channel(f"{self.me_name} updates", about, rng, t - 86400 * 40)
        owned.subscribers, owned.picture = 3, False
        for i, (name, about, category, country, subscribers, verified) in enumerate(_CHANNELS):
            channel = self.new_channel(name, about, rng, t - 86400 * (300 - i * 30))
            channel.role = "SUBSCRIBER" if i == 0 else "GUEST"
            channel.category, channel.country = category, country
            channel.subscribers, channel.verified = subscribers, verified
        for channel in self.channels.values():
            stamp = t - 86400 * 3
            for n in range(rng.randrange(2, 5)):
                raw = _hex20(rng)
                msg = Message(
                    id=f"{'true' if channel.role == 'OWNER' else 'false'}_{channel.id}_{raw}",
                    chat_id=channel.id,
                    raw_id=raw,
                    timestamp=stamp,
                    from_me=channel.role == "OWNER",
                    sender=channel.id,
                    body=rng.choice(_POSTS),
                    ack=2,
                    media=Media("image/jpeg", None, rng.randrange(40_000, 300_000), 1280, 720) if n == 1 else None,
                    secret=_b64(rng, 99),
                )
                views = max(1, channel.subscribers // rng.randrange(2, 9))
                reactions = {"👍": views // 10, "❤️": views // 25} if channel.subscribers > 100 else {}
                channel.posts.append(ChannelPost(msg, {k: v for k, v in reactions.items() if v}, views))
                stamp += rng.randrange(3600, 40000)

    # --- channels ---------------------------------------------------------------------------------
    def new_channel(self, name: str, description: str, rng: random.Random | None = None, created: int = 0) -> Channel:
        """A channel this account creates (OWNER); seeding passes its own rng and time."""
        rng = rng or self.rng
        channel = Channel(
            id=f"120363{rng.randrange(10**11, 10**12)}@newsletter",
            name=name,
            invite_code=channel_invite(rng),
            role="OWNER",
            description=description,
            creation=created or self.now(),
        )
        self.channels[channel.id] = channel
        return channel

    def channel_by_ref(self, ref: str) -> Channel | None:
        """A channel by id, invite code or link (https://www.whatsapp.com/channel/<code>)."""
        ref = ref.strip()
        if ref.endswith("@newsletter"):
            return self.channels.get(ref)
        code = ref.rstrip("/").rsplit("/", 1)[-1]
        return next((c for c in self.channels.values() if c.invite_code == code), None)

    # --- groups -----------------------------------------------------------------------------------
    def group_by_invite(self, code: str) -> Group | None:
        """The group an invite code or link (https://chat.whatsapp.com/<code>) opens."""
        code = code.strip().rstrip("/").rsplit("/", 1)[-1]
        return next((g for g in [*self.groups.values(), *self.outside.values()] if g.invite_code == code), None)

    def join_group(self, group: Group) -> Group:
        if group.id in self.groups:
            return group
        self.outside.pop(group.id, None)
        group.participants.append(Participant(self.me_id))
        self.groups[group.id] = group
        self.ensure_chat(group.id).name = group.subject
        self.announce("group.v2.join", {"timestamp": self.now(), "group": group.info(), "_data": {}})
        return group

    def drop_group(self, group: Group) -> None:
        """This account left (or deleted) the group: WAHA no longer lists it."""
        self.groups.pop(group.id, None)
        self.announce("group.v2.leave", {"timestamp": self.now(), "group": {"id": group.id}, "_data": {}})

    def group_update(self, group: Group, **changed: Any) -> None:
        self.announce("group.v2.update", {"timestamp": self.now(), "group": {"id": group.id, **changed}, "_data": {}})

    def participants_changed(self, group: Group, kind: str, members: list[Participant]) -> None:
        if members:
            # Who left is reported with the role `left` (GroupParticipant.role's enum in the document).
            listed = [m.v2() | {"role": "left"} if kind == "leave" else m.v2() for m in members]
            payload = {
                "type": kind,
                "timestamp": self.now(),
                "group": {"id": group.id},
                "participants": listed,
                "_data": {},
            }
            self.announce("group.v2.participants", payload)

    def _seed_chat(self, chat_id: str, others: list[str], t: int) -> int:
        rng = self.rng
        count = rng.randrange(5, 11)
        for n in range(count):
            from_me = rng.random() < 0.4
            sender = self.me_id if from_me else rng.choice(others)
            if is_group(chat_id) and not from_me:
                sender = self.lid_of(sender) or sender  # LID-addressed group: WhatsApp hides the number
            media = None
            if n == 2 and rng.random() < 0.5:
                media = Media("image/jpeg", None, rng.randrange(40_000, 300_000), 1280, 960)
            self.add_message(
                chat_id,
                from_me=from_me,
                sender=sender,
                body=rng.choice(_LINES),
                timestamp=t,
                ack=3 if from_me else 2,
                media=media,
                prefix="3EB0" if from_me else "",
            )
            t += rng.randrange(20, 1800)
        chat = self.chats[chat_id]
        chat.unread_count = rng.choice([0, 0, 1, 2])
        return t
