"""Labels (WhatsApp Business): the labels, a chat's labels, a label's chats."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.chats import Chat, chat
from waha_mcp.projections.common import drop_empty


class Label(TypedDict):
    id: str
    name: str
    color: NotRequired[str]  # hex, e.g. #ff9485


class LabelList(TypedDict):
    labels: list[Label]
    chatId: NotRequired[str]  # the labels of this chat


class LabelSaved(TypedDict):
    labelId: str
    name: str
    color: NotRequired[str]


class LabelDeleted(TypedDict):
    labelId: str
    deleted: bool


class LabelChats(TypedDict):
    labelId: str
    chats: list[Chat]


def label(item: Any) -> Label | None:
    """WAHA's `Label` {id, name, color (a number), colorHex} → {id, name, color (hex)}."""
    if not isinstance(item, dict) or item.get("id") in (None, ""):
        return None
    return cast(
        Label, drop_empty({"id": str(item["id"]), "name": item.get("name") or "", "color": item.get("colorHex")})
    )


def label_list(items: Any, chat_id: str | None = None) -> LabelList:
    found = [label(i) for i in items] if isinstance(items, list) else []
    out: LabelList = {"labels": [x for x in found if x]}
    if chat_id:
        out["chatId"] = chat_id
    return out


def label_saved(item: Any, label_id: str | None = None, name: str = "") -> LabelSaved:
    """The label WAHA answered with; the request's id and name when it answered nothing usable."""
    got = label(item)
    if got is None:
        return {"labelId": label_id or "", "name": name}
    return cast(LabelSaved, drop_empty({"labelId": got["id"], "name": got["name"], "color": got.get("color")}))


def label_deleted(label_id: str) -> LabelDeleted:
    return {"labelId": label_id, "deleted": True}


def label_chats(label_id: str, items: Any) -> LabelChats:
    chats = [chat(c) for c in items if isinstance(c, dict)] if isinstance(items, list) else []
    return {"labelId": label_id, "chats": chats}
