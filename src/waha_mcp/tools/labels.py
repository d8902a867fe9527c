"""Toolset `labels`: WhatsApp Business labels and the chats they are on.

A personal account has none: WAHA lists `[]` and WhatsApp refuses every change (explained by the pipeline).
Labels are private to the account, so changing them is LOCAL.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.tools._common import ChatId, Name, Session
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

LabelId = Annotated[str, Field(pattern=r"^\S{1,64}$")]
Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="hex, e.g. #ff9485")]


@tool(
    "List the account's labels, or one chat's (WhatsApp Business).",
    effect=Effect.READ,
    operations=("LabelsController_getAll", "LabelsController_getChatLabels"),
)
async def get_labels(w: Invocation, session: Session = None, chatId: ChatId | None = None) -> view.LabelList:
    if chatId:
        return view.label_list(await w.call("LabelsController_getChatLabels", chatId=chatId), chatId)
    return view.label_list(await w.call("LabelsController_getAll"))


@tool(
    "Create a label (WhatsApp Business).",
    effect=Effect.LOCAL,
    operations=("LabelsController_create",),
    target="name",
)
async def create_label(
    w: Invocation, name: Name, session: Session = None, color: Color | None = None
) -> view.LabelSaved:
    body = {"name": name.strip(), "colorHex": color.lower() if color else None}
    answer = await w.call("LabelsController_create", body={k: v for k, v in body.items() if v is not None})
    return view.label_saved(answer, name=body["name"] or "")


@tool(
    "Rename or recolour a label.",
    effect=Effect.LOCAL,
    operations=("LabelsController_update",),
    target="name",
)
async def update_label(
    w: Invocation, labelId: LabelId, name: Name, session: Session = None, color: Color | None = None
) -> view.LabelSaved:
    body = {"name": name.strip(), "colorHex": color.lower() if color else None}
    answer = await w.call(
        "LabelsController_update", labelId=labelId, body={k: v for k, v in body.items() if v is not None}
    )
    return view.label_saved(answer, labelId, body["name"] or "")


@tool(
    "Delete a label (removes it from its chats).",
    effect=Effect.DESTRUCTIVE,
    operations=("LabelsController_delete",),
    target="labelId",
)
async def delete_label(w: Invocation, labelId: LabelId, session: Session = None) -> view.LabelDeleted:
    await w.call("LabelsController_delete", labelId=labelId)
    return view.label_deleted(labelId)


@tool(
    "Replace a chat's labels ([] removes all); returns those it now has.",
    effect=Effect.LOCAL,
    operations=("LabelsController_putChatLabels", "LabelsController_getChatLabels"),
)
async def set_chat_labels(
    w: Invocation, chatId: ChatId, labelIds: list[LabelId], session: Session = None
) -> view.LabelList:
    wanted = list(dict.fromkeys(labelIds))
    await w.call("LabelsController_putChatLabels", chatId=chatId, body={"labels": [{"id": i} for i in wanted]})
    # WhatsApp skips unknown label ids without an error: what the chat has now is the answer.
    return view.label_list(await w.call("LabelsController_getChatLabels", chatId=chatId), chatId)


@tool(
    "List the chats that have a label.",
    effect=Effect.READ,
    operations=("LabelsController_getChatsByLabel",),
)
async def get_label_chats(w: Invocation, labelId: LabelId, session: Session = None) -> view.LabelChats:
    return view.label_chats(labelId, await w.call("LabelsController_getChatsByLabel", labelId=labelId))
