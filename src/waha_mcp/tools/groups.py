"""Toolset `groups`: list, create, join and leave groups; their info, picture, settings, invite and members.

One tool per intent, one effect per tool: a setting's get and set are two tools (a read and a write),
while routes that are one intent share a tool (subject + description, promote + demote, set + remove
picture, the v2 participant list with v1 as fallback on older WAHA).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from waha_mcp import projections as view
from waha_mcp.client import EndpointMissing, TooOld
from waha_mcp.errors import ToolInputError
from waha_mcp.openapi import load_spec
from waha_mcp.tools._common import ChatId, GroupId, Limit, Name, Offset, Session
from waha_mcp.tools._media import DataArg, FileArg, media_input
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

# A code (AbC123...) or the whole https://chat.whatsapp.com/<code> link: WAHA accepts both.
InviteCode = Annotated[str, Field(min_length=4, max_length=200, description="Code or chat.whatsapp.com link.")]
Participants = Annotated[list[ChatId], Field(min_length=1, max_length=100)]
# setting → (get, set, WAHA's body key). The last three came with WAHA 2026.7.2, 2026.8.2 and 2026.9.1 (the
# supplement's `x-waha-since`): a read on an older WAHA lists them as unavailable, a write refuses before any call.
SETTINGS = {
    "infoAdminOnly": ("GroupsController_getInfoAdminOnly", "GroupsController_setInfoAdminOnly", "adminsOnly"),
    "messagesAdminOnly": (
        "GroupsController_getMessagesAdminOnly",
        "GroupsController_setMessagesAdminOnly",
        "adminsOnly",
    ),
    "membersCanAddNewMember": (
        "GroupsController_getMemberAddMode",
        "GroupsController_setMemberAddMode",
        "membersCanAddNewMember",
    ),
    "newMembersApprovalRequired": (
        "GroupsController_getMembershipApproval",
        "GroupsController_setMembershipApproval",
        "newMembersApprovalRequired",
    ),
    "membersCanShareHistory": (
        "GroupsController_getMemberShareHistoryMode",
        "GroupsController_setMemberShareHistoryMode",
        "membersCanShareHistory",
    ),
}


def _people(ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """WAHA's ParticipantsRequest: a real JSON array of `{id}` objects."""
    return {"participants": [{"id": pid} for pid in dict.fromkeys(ids)]}


@tool(
    "List your groups: id, name, size.",
    effect=Effect.READ,
    operations=("GroupsController_getGroups", "GroupsController_getGroupsCount", "GroupsController_refreshGroups"),
    default="always",
)
async def get_groups(
    w: Invocation,
    session: Session = None,
    limit: Limit = 50,
    offset: Offset = 0,
    sort: Literal["name", "id"] = "name",
    descending: bool = False,
    refresh: bool = False,
) -> view.GroupList:
    if refresh:  # re-reads the list from WhatsApp into WAHA's cache; nothing anyone sees changes
        await w.call("GroupsController_refreshGroups")
    query = {
        "sortBy": "subject" if sort == "name" else "id",
        "sortOrder": "desc" if descending else "asc",
        "limit": limit,
        "offset": offset,
        "exclude": ["participants"],  # members of every group would swamp the list: waha_get_group has them
    }
    answer = await w.call("GroupsController_getGroups", query=query)
    shown = len(answer) if isinstance(answer, dict | list) else 0
    if shown < limit:
        return view.group_list(answer, None, offset + shown if shown or offset == 0 else None)
    count = await w.call("GroupsController_getGroupsCount")
    total = int(count["count"]) if isinstance(count, dict) and isinstance(count.get("count"), int | float) else None
    more = total is None or offset + shown < total
    return view.group_list(answer, offset + limit if more else None, total)


@tool(
    "One group: name, description, owner, settings, members.",
    effect=Effect.READ,
    operations=("GroupsController_getGroup",),
    default="always",
)
async def get_group(w: Invocation, groupId: GroupId, session: Session = None) -> view.GroupDetail:
    return view.group_detail(await w.call("GroupsController_getGroup", id=groupId), groupId)


@tool(
    "Create a group with these people; you become its admin.",
    effect=Effect.VISIBLE,
    pacing="group",
    operations=("GroupsController_createGroup",),
    target="name",
)
async def create_group(
    w: Invocation, name: Name, participants: Participants, session: Session = None
) -> view.GroupDetail:
    body = {"name": name, **_people(participants)}
    return view.group_detail(await w.call("GroupsController_createGroup", body=body))


@tool(
    "What group an invite opens, before joining.",
    effect=Effect.READ,
    operations=("GroupsController_joinInfoGroup",),
)
async def get_group_join_info(w: Invocation, code: InviteCode, session: Session = None) -> view.GroupDetail:
    return view.group_detail(await w.call("GroupsController_joinInfoGroup", query={"code": code.strip()}))


async def _invited_group(w: Invocation) -> list[str] | str:
    """The group an invite opens (WAHA's join info), for WAHA_MCP_ALLOW_CHATS: asked only while it is set."""
    found = view.group_detail(await w.call("GroupsController_joinInfoGroup", query={"code": w.args["code"].strip()}))
    group = found.get("groupId")
    return [group] if group else "WAHA did not say which group the invite opens"


@tool(
    "Join a group by invite code or link.",
    effect=Effect.VISIBLE,
    pacing="group",
    operations=("GroupsController_joinGroup", "GroupsController_joinInfoGroup"),
    reach=_invited_group,
)
async def join_group(w: Invocation, code: InviteCode, session: Session = None) -> view.GroupJoined:
    answer = await w.call("GroupsController_joinGroup", body={"code": code.strip()})
    return view.group_joined(answer, "")


@tool(
    "Leave a group.",
    effect=Effect.DESTRUCTIVE,
    pacing="group",  # the members see it: a group change
    operations=("GroupsController_leaveGroup",),
)
async def leave_group(w: Invocation, groupId: GroupId, session: Session = None) -> view.GroupLeft:
    await w.call("GroupsController_leaveGroup", id=groupId)
    return view.group_left(groupId)


@tool(
    "Delete a group you created.",
    effect=Effect.DESTRUCTIVE,
    pacing="group",
    operations=("GroupsController_deleteGroup",),
)
async def delete_group(w: Invocation, groupId: GroupId, session: Session = None) -> view.GroupDeleted:
    await w.call("GroupsController_deleteGroup", id=groupId)
    return view.group_deleted(groupId)


@tool(
    "A group's picture URL.",
    effect=Effect.READ,
    operations=("GroupsController_getChatPicture",),
)
async def get_group_picture(
    w: Invocation, groupId: GroupId, session: Session = None, refresh: bool = False
) -> view.GroupPicture:
    answer = await w.call("GroupsController_getChatPicture", id=groupId, query={"refresh": refresh or None})
    return view.group_picture(groupId, answer)


@tool(
    "Set a group's picture (file or data), or remove it.",
    effect=Effect.VISIBLE,
    pacing="group",
    operations=("GroupsController_setPicture", "GroupsController_deletePicture"),
)
async def set_group_picture(
    w: Invocation,
    groupId: GroupId,
    session: Session = None,
    file: FileArg = None,
    data: DataArg = None,
    remove: bool = False,
) -> view.GroupPictureSet:
    if remove:
        if file or data:
            raise ToolInputError("remove=true takes no file or data")
        await w.call("GroupsController_deletePicture", id=groupId)
        return view.group_picture_set(groupId, False)
    picture = media_input(w.settings, file, data, None, None, default_mime="image/jpeg", default_name="picture")
    if not picture.base_type.startswith("image/"):
        raise ToolInputError(f"a group picture is an image, not {picture.base_type}")
    await w.call("GroupsController_setPicture", id=groupId, body={"file": picture.waha()})
    return view.group_picture_set(groupId, True)


@tool(
    'Rename a group and/or set its description ("" clears it).',
    effect=Effect.VISIBLE,
    pacing="group",
    operations=("GroupsController_setSubject", "GroupsController_setDescription"),
)
async def set_group_info(
    w: Invocation,
    groupId: GroupId,
    session: Session = None,
    name: Annotated[str | None, Field(max_length=100)] = None,
    description: Annotated[str | None, Field(max_length=2048)] = None,
) -> view.GroupInfoSet:
    if name is None and description is None:
        raise ToolInputError("give name, description or both")
    if name is not None and not name.strip():
        raise ToolInputError('name is empty: a group keeps a name (to clear the description, pass description="")')
    if name is not None:
        await w.call("GroupsController_setSubject", id=groupId, body={"subject": name})
    if description is not None:
        await w.call("GroupsController_setDescription", id=groupId, body={"description": description})
    return view.group_info_set(groupId, name, description)


@tool(
    "Who may edit a group's info, send, add members, share history; whether joining needs approval.",
    effect=Effect.READ,
    operations=tuple(get for get, _, _ in SETTINGS.values()),
)
async def get_group_settings(w: Invocation, groupId: GroupId, session: Session = None) -> view.GroupSettings:
    answers: dict[str, tuple[str, object]] = {}
    unavailable: list[str] = []
    for name, (get, _, key) in SETTINGS.items():
        try:
            answers[name] = (key, await w.call(get, id=groupId))
        except TooOld as old:
            unavailable.append(f"{name} (WAHA {old.since}+)")
        except EndpointMissing:
            if not load_spec().by_id[get].since:
                raise  # a setting every WAHA has: the route itself is the problem
            unavailable.append(f"{name} (WAHA {load_spec().by_id[get].since}+)")
    return view.group_settings(groupId, answers, unavailable)


@tool(
    "Set who may edit info, send, add members, share history; whether joins need approval.",
    effect=Effect.VISIBLE,
    pacing="group",
    operations=tuple(put for _, put, _ in SETTINGS.values()),
)
async def set_group_settings(
    w: Invocation,
    groupId: GroupId,
    session: Session = None,
    infoAdminOnly: bool | None = None,
    messagesAdminOnly: bool | None = None,
    membersCanAddNewMember: bool | None = None,
    newMembersApprovalRequired: bool | None = None,
    membersCanShareHistory: bool | None = None,
) -> view.GroupSettings:
    wanted = {
        "infoAdminOnly": infoAdminOnly,
        "messagesAdminOnly": messagesAdminOnly,
        "membersCanAddNewMember": membersCanAddNewMember,
        "newMembersApprovalRequired": newMembersApprovalRequired,
        "membersCanShareHistory": membersCanShareHistory,
    }
    chosen = {name: value for name, value in wanted.items() if value is not None}
    if not chosen:
        raise ToolInputError(f"give at least one of {', '.join(wanted)}")
    await w.require(*(SETTINGS[name][1] for name in chosen))  # all or nothing on an older WAHA
    for name, value in chosen.items():
        _, put, key = SETTINGS[name]
        await w.call(put, id=groupId, body={key: value})
    return view.group_settings(groupId, {name: (SETTINGS[name][2], value) for name, value in chosen.items()})


@tool(
    "A group's invite code and link (admins).",
    effect=Effect.READ,
    operations=("GroupsController_getInviteCode",),
)
async def get_group_invite(w: Invocation, groupId: GroupId, session: Session = None) -> view.GroupInvite:
    code = view.invite_code(await w.call("GroupsController_getInviteCode", id=groupId))
    if code is None:
        raise w.no_answer("GroupsController_getInviteCode", "an invite code", id=groupId)
    return view.group_invite(groupId, code)


@tool(
    "Revoke a group's invite link; returns the new one.",
    effect=Effect.DESTRUCTIVE,
    pacing="group",
    operations=("GroupsController_revokeInviteCode",),
)
async def revoke_group_invite(w: Invocation, groupId: GroupId, session: Session = None) -> view.GroupInvite:
    code = view.invite_code(await w.call("GroupsController_revokeInviteCode", id=groupId))
    if code is None:
        raise w.no_answer("GroupsController_revokeInviteCode", "a new invite code", id=groupId)
    return view.group_invite(groupId, code, revoked=True)


@tool(
    "A group's members and their roles.",
    effect=Effect.READ,
    operations=("GroupsController_getGroupParticipants", "GroupsController_getParticipants"),
    default="always",
)
async def get_group_participants(w: Invocation, groupId: GroupId, session: Session = None) -> view.GroupMembers:
    try:
        answer = await w.call("GroupsController_getGroupParticipants", id=groupId)
    except EndpointMissing:  # WAHA before participants/v2
        answer = await w.call("GroupsController_getParticipants", id=groupId)
    return view.group_members(groupId, answer)


@tool(
    "Pending requests to join a group (admins; WAHA 2026.8.2+).",
    effect=Effect.READ,
    operations=("GroupsController_getJoinRequests",),
)
async def get_group_join_requests(w: Invocation, groupId: GroupId, session: Session = None) -> view.JoinRequests:
    return view.join_requests(groupId, await w.call("GroupsController_getJoinRequests", id=groupId))


@tool(
    "Approve requests to join a group, or reject them with approve=false (admins).",
    effect=Effect.VISIBLE,
    pacing="group",
    operations=("GroupsController_approveJoinRequests", "GroupsController_rejectJoinRequests"),
)
async def answer_group_join_requests(
    w: Invocation, groupId: GroupId, participants: Participants, session: Session = None, approve: bool = True
) -> view.JoinRequestsAnswered:
    operation = "GroupsController_approveJoinRequests" if approve else "GroupsController_rejectJoinRequests"
    answer = await w.call(operation, id=groupId, body=_people(participants))
    return view.join_requests_answered(groupId, approve, list(dict.fromkeys(participants)), answer)


@tool(
    "Add people to a group (admins).",
    effect=Effect.VISIBLE,
    pacing="group",
    operations=("GroupsController_addParticipants",),
)
async def add_group_participants(
    w: Invocation, groupId: GroupId, participants: Participants, session: Session = None
) -> view.ParticipantsChanged:
    answer = await w.call("GroupsController_addParticipants", id=groupId, body=_people(participants))
    return view.participants_changed(groupId, "added", list(dict.fromkeys(participants)), answer)


@tool(
    "Remove people from a group (admins).",
    effect=Effect.DESTRUCTIVE,
    pacing="group",
    operations=("GroupsController_removeParticipants",),
)
async def remove_group_participants(
    w: Invocation, groupId: GroupId, participants: Participants, session: Session = None
) -> view.ParticipantsChanged:
    answer = await w.call("GroupsController_removeParticipants", id=groupId, body=_people(participants))
    return view.participants_changed(groupId, "removed", list(dict.fromkeys(participants)), answer)


@tool(
    "Make members admins, or plain members with admin=false.",
    effect=Effect.VISIBLE,
    pacing="group",
    operations=("GroupsController_promoteToAdmin", "GroupsController_demoteToAdmin"),
)
async def set_group_admins(
    w: Invocation, groupId: GroupId, participants: Participants, session: Session = None, admin: bool = True
) -> view.ParticipantsChanged:
    operation = "GroupsController_promoteToAdmin" if admin else "GroupsController_demoteToAdmin"
    answer = await w.call(operation, id=groupId, body=_people(participants))
    wanted = list(dict.fromkeys(participants))
    return view.participants_changed(groupId, "promoted" if admin else "demoted", wanted, answer)
