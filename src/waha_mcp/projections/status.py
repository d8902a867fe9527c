"""Status (stories): what was posted, to whom, and what was taken down."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.messages import Sent, sent

STATUS_CHAT = "status@broadcast"


class StatusPosted(Sent):
    type: str  # text | image | voice | video
    audience: int | Literal["all contacts"]  # how many contacts were given, or WAHA's default
    converted: NotRequired[bool]  # voice and video: WAHA re-encoded it


class StatusDeleted(TypedDict):
    messageId: str
    deleted: bool
    audience: int | Literal["all contacts"]


class NewStatusId(TypedDict):
    messageId: NotRequired[str]  # pass it as `statusMessageId` to post one status in several calls


def status_message_id(raw: str) -> str:
    """WAHA's serialized id of a status this account posts: `true_status@broadcast_<raw>`."""
    return f"true_{STATUS_CHAT}_{raw}"


def status_posted(
    answer: Any, kind: str, contacts: list[str] | None, known_id: str | None = None, converted: bool | None = None
) -> StatusPosted:
    """The engine's answer to a status post (NOWEB proto, GOWS/WEBJS message, or empty) → what was posted.

    `known_id`: the raw id the post went out under, for an answer that does not name one."""
    out: dict[str, Any] = dict(sent(answer, STATUS_CHAT))
    if known_id and "messageId" not in out:
        out.pop("sent", None)
        out["messageId"] = status_message_id(known_id)
    out |= {"type": kind, "audience": len(contacts) if contacts else "all contacts"}
    if converted is not None:
        out["converted"] = converted
    return cast(StatusPosted, out)


def status_deleted(message_id: str, contacts: list[str] | None) -> StatusDeleted:
    return {"messageId": message_id, "deleted": True, "audience": len(contacts) if contacts else "all contacts"}


def new_status_id(answer: Any) -> NewStatusId:
    """`NewMessageIDResponse` {id} (a raw id) → the serialized id of the status it will be."""
    raw = answer.get("id") if isinstance(answer, dict) else None
    return {"messageId": status_message_id(str(raw))} if raw else {}
