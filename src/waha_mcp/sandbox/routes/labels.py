"""🏷️ Labels: WhatsApp Business only.

On a Business account (`World.business`, the seeded session `business`) labels are created, renamed,
recoloured, deleted and put on chats, each with its webhook event (`label.upsert`, `label.deleted`,
`label.chat.added`, `label.chat.deleted`). A personal account has no labels: reads answer `[]`, writes
fail the way WAHA does when WhatsApp refuses them, with an unhandled-exception 500 whose message is
the engine's refusal ("[LT01] Only Whatsapp business", as whatsapp-web.js words it).
Setting a chat's labels replaces them; unknown label ids (and unknown chats) are skipped, as WhatsApp
Web does.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import LABEL_COLORS, Label, World
from ._common import normalize_chat_id, world_of

BUSINESS_ONLY = "[LT01] Only Whatsapp business"


async def _business(ctx: Ctx) -> World:
    world = world_of(await ctx.working_session())
    if not world.business:
        raise ctx.exception(BUSINESS_ONLY)
    return world


def _label(world: World, label_id: str) -> Label:
    label = world.labels.get(label_id)
    if label is None:
        raise errors.nest(404, f"Label '{label_id}' not found")
    return label


def _color(body: dict[str, Any], default: int) -> int:
    """`color` (an index) wins over `colorHex`; an unknown colour is refused like class-validator would."""
    color, hex_value = body.get("color"), body.get("colorHex")
    if color is not None:
        if not isinstance(color, int | float) or int(color) != color or not 0 <= int(color) < len(LABEL_COLORS):
            raise errors.bad_request([f"color must be a number from 0 to {len(LABEL_COLORS) - 1}"])
        return int(color)
    if hex_value is not None:
        lowered = str(hex_value).lower()
        if lowered not in LABEL_COLORS:
            raise errors.bad_request([f"colorHex must be one of the following values: {', '.join(LABEL_COLORS)}"])
        return LABEL_COLORS.index(lowered)
    return default


def _name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise errors.bad_request(["name should not be empty"])
    return name.strip()


@route("LabelsController_getAll")
async def get_all(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    return [label.to_waha() for label in world.labels.values()]


@route("LabelsController_create")
async def create(ctx: Ctx) -> dict[str, Any]:
    world = await _business(ctx)
    body = ctx.body or {}
    label = Label(world.new_label_id(), _name(body), _color(body, len(world.labels) % len(LABEL_COLORS)))
    world.labels[label.id] = label
    world.announce("label.upsert", label.to_waha())
    return label.to_waha()


@route("LabelsController_update")
async def update(ctx: Ctx) -> dict[str, Any]:
    world = await _business(ctx)
    label = _label(world, ctx.params["labelId"])
    body = ctx.body or {}
    label.name, label.color = _name(body), _color(body, label.color)
    world.announce("label.upsert", label.to_waha())
    return label.to_waha()


@route("LabelsController_delete")
async def delete(ctx: Ctx) -> dict[str, Any]:
    world = await _business(ctx)
    label = _label(world, ctx.params["labelId"])
    del world.labels[label.id]
    for chat_id, ids in world.chat_labels.items():
        if label.id in ids:
            ids.remove(label.id)
            world.announce("label.chat.deleted", {"labelId": label.id, "chatId": chat_id, "label": None})
    world.announce("label.deleted", label.to_waha())
    return {}


@route("LabelsController_getChatLabels")
async def chat_labels(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    return [label.to_waha() for label in world.labels_of(normalize_chat_id(ctx.params["chatId"]))]


@route("LabelsController_putChatLabels")
async def put_chat_labels(ctx: Ctx) -> None:
    world = await _business(ctx)
    chat_id = normalize_chat_id(ctx.params["chatId"])
    if chat_id not in world.chats:
        return  # WhatsApp Web only labels the chats it has: an unknown one is skipped, without an error
    wanted = [str(item.get("id")) for item in (ctx.body or {}).get("labels") or [] if isinstance(item, dict)]
    wanted = [i for i in dict.fromkeys(wanted) if i in world.labels]
    before = world.chat_labels.get(chat_id, [])
    for label_id in before:
        if label_id not in wanted:
            payload = {"labelId": label_id, "chatId": chat_id, "label": world.labels[label_id].to_waha()}
            world.announce("label.chat.deleted", payload)
    for label_id in wanted:
        if label_id not in before:
            payload = {"labelId": label_id, "chatId": chat_id, "label": world.labels[label_id].to_waha()}
            world.announce("label.chat.added", payload)
    world.chat_labels[chat_id] = wanted


@route("LabelsController_getChatsByLabel")
async def chats_by_label(ctx: Ctx) -> list[dict[str, Any]]:
    world = world_of(await ctx.working_session())
    label_id = ctx.params["labelId"]
    return [
        world.chats[chat_id].to_waha()
        for chat_id, ids in world.chat_labels.items()
        if label_id in ids and chat_id in world.chats
    ]
