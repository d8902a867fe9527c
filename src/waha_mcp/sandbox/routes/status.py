"""🟢 Status (stories), as NOWEB does them: a status is a message to `status@broadcast`.

- A post goes to `contacts`, or to every contact of the account; WAHA adds the own account unless the
  request brings its own `id` (a pre-generated one: then it is up to the caller, as WAHA documents).
- A post under the `id` of an earlier status is that status again, for more people (WAHA's batching):
  one message, a wider audience.
- Sends answer NOWEB's bare WebMessageInfo proto; the post is a `message.any` event (own messages are
  never `message`).
- Delete revokes the status for `contacts`, or for everyone. NOWEB sends the revoke without looking the
  id up, so an unknown id is answered the same; a known status is a `message.revoked` event. Without
  an id NOWEB fails parsing it: the 500 exception body.
- `new-message-id` answers `{id}`, a raw id of the shape NOWEB generates.
"""

from __future__ import annotations

import base64
from typing import Any

from ..registry import Ctx, route
from ..render import render_proto
from ..world import STATUS_CHAT, Media, Status, World
from ._common import normalize_chat_id, world_of
from .messaging import RichMessage, _file


def _audience(world: World, ctx: Ctx) -> tuple[set[str], str | None]:
    """Who the post goes to, and the raw id the request brought (None: WAHA makes one)."""
    contacts = ctx.body.get("contacts")
    given = ctx.body.get("id") or None
    if contacts:
        people = {normalize_chat_id(str(c)) for c in contacts}
    else:
        people = {cid for cid in world.contacts if cid.endswith("@c.us")}
    if given is None:
        people.add(world.me_id)
    return people, given


def _raw_of(message_id: str) -> str:
    """`true_status@broadcast_<raw>` or the bare raw id → the raw id."""
    prefix = f"_{STATUS_CHAT}_"
    return message_id.split(prefix, 1)[1] if prefix in message_id else message_id


async def _post(ctx: Ctx, kind: str, *, body: str = "", media: Media | None = None, **extra: Any) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    people, given = _audience(world, ctx)
    earlier = world.statuses.get(given) if given else None
    if earlier is not None:
        earlier.audience |= people
        return render_proto(earlier.message)
    if given:
        raw, mid = given, f"true_{STATUS_CHAT}_{given}"
    else:
        mid, raw = world.message_id(STATUS_CHAT, True, world.me_id, "3EB0")
    msg = RichMessage(
        id=mid,
        chat_id=STATUS_CHAT,
        raw_id=raw,
        timestamp=world.now(),
        from_me=True,
        sender=world.me_id,
        body=body,
        ack=1,
        source="api",
        push_name=world.me_name,
        media=media,
        secret=base64.b64encode(world.rng.randbytes(99)).decode(),
        kind=kind,
        **extra,
    )
    world.statuses[raw] = Status(msg, kind, people)
    world.announce("message.any", msg)
    return render_proto(msg)


async def _post_media(ctx: Ctx, kind: str, *, default_mime: str | None = None) -> dict[str, Any]:
    media, content, url = _file(ctx, default_mime=default_mime)
    if kind == "voice":
        media.filename = None
        if ctx.body.get("convert"):
            media.mimetype = "audio/ogg; codecs=opus"
    if kind == "video" and ctx.body.get("convert"):
        media.mimetype = "video/mp4"
    caption = ctx.body.get("caption") if isinstance(ctx.body.get("caption"), str) else ""
    return await _post(ctx, kind, body=caption, media=media, content=content, source_url=url)


@route("StatusController_sendTextStatus")
async def send_text_status(ctx: Ctx) -> dict[str, Any]:
    return await _post(ctx, "text", body=str(ctx.body["text"]))


@route("StatusController_sendImageStatus")
async def send_image_status(ctx: Ctx) -> dict[str, Any]:
    return await _post_media(ctx, "image")


@route("StatusController_sendVoiceStatus")
async def send_voice_status(ctx: Ctx) -> dict[str, Any]:
    return await _post_media(ctx, "voice", default_mime="audio/ogg; codecs=opus")


@route("StatusController_sendVideoStatus")
async def send_video_status(ctx: Ctx) -> dict[str, Any]:
    return await _post_media(ctx, "video", default_mime="video/mp4")


@route("StatusController_deleteStatus")
async def delete_status(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    if not ctx.body.get("id"):  # the DTO marks nothing required; NOWEB then fails parsing the id
        message = "Cannot read properties of undefined (reading 'split')"
        raise ctx.exception(message, name="TypeError")
    raw = _raw_of(str(ctx.body["id"]))
    contacts = ctx.body.get("contacts")
    status = world.statuses.get(raw)
    if status is not None:
        before = ctx.render(status.message, world.me_id, download_media=False)
        if contacts:
            status.audience -= {normalize_chat_id(str(c)) for c in contacts}
        if not contacts or not status.audience:
            del world.statuses[raw]
        after = world.revoke_notice(status.message)  # the revoke notice, as for any deleted message
        world.announce("message.revoked", {"revokedMessageId": raw, "after": after, "before": before, "_data": {}})
    # NOWEB answers the revoke it sent: a protocol message of its own about the status's key.
    _, revoke_id = world.message_id(STATUS_CHAT, True, world.me_id, "3EB0")
    key = {"remoteJid": STATUS_CHAT, "fromMe": True, "id": raw}
    return {
        "key": {"remoteJid": STATUS_CHAT, "fromMe": True, "id": revoke_id},
        "message": {"protocolMessage": {"key": key, "type": "REVOKE"}},
        "messageTimestamp": str(world.now()),
        "status": "PENDING",
    }


@route("StatusController_getNewMessageId")
async def new_message_id(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    _, raw = world.message_id(STATUS_CHAT, True, world.me_id, "3EB0")
    return {"id": raw}
