"""👥 Groups: every group operation, as WAHA answers them for a NOWEB session.

- The list is an object keyed by group id (NOWEB); one group is NOWEB `GroupMetadata`.
- The invite code (get and revoke) is a bare JSON string; subject, description, settings, leave and
  delete answer an empty body; picture set/delete answer `{"success": true}`.
- An unknown group is a NestJS 404. What WhatsApp refuses to a member who is not an admin (changing
  the info of a group whose info is admin-only, its settings, participants, the invite code) comes
  back as WAHA's 500 exception shape with Baileys' words (`forbidden`, `not-authorized`).
- Events: `group.v2.join` (create, join), `group.v2.leave` (leave, delete), `group.v2.update` (subject,
  description, picture, settings, invite), `group.v2.participants` (add, remove, promote, demote).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..registry import Ctx, route
from ..world import Group, Participant, World, invite_code
from ._common import normalize_chat_id, paginate, sort_items, world_of


def refused(ctx: Ctx, message: str) -> errors.WahaError:
    """An error thrown by WhatsApp (Baileys' Boom) reaches the client as WAHA's 500 exception shape."""
    return errors.WahaError(
        500,
        {
            "statusCode": 500,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "exception": {"message": message, "name": "Error", "stack": f"Error: {message}"},
            "request": {"path": ctx.request.url.path, "method": ctx.request.method, "query": {}},
        },
    )


async def _group(ctx: Ctx) -> tuple[World, Group]:
    world = world_of(await ctx.working_session())
    group = world.groups.get(ctx.params["id"])
    if group is None:
        raise errors.nest(404, f"Group '{ctx.params['id']}' not found")
    return world, group


def _admin(ctx: Ctx, world: World, group: Group, message: str = "forbidden") -> None:
    if not group.is_admin(world.me_id):
        raise refused(ctx, message)


def _info_editor(ctx: Ctx, world: World, group: Group) -> None:
    """With 'info admin only' (restrict), only admins change the subject, description and picture."""
    if group.restrict:
        _admin(ctx, world, group)


def _render(group_json: dict[str, Any], exclude: list[str]) -> dict[str, Any]:
    if "participants" in exclude:
        group_json.pop("participants", None)
    return group_json


@route("GroupsController_getGroups")
async def get_groups(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    groups = sort_items(list(world.groups.values()), ctx, {"id": lambda g: g.id, "subject": lambda g: g.subject})
    exclude = ctx.q_list("exclude")
    return {g.id: _render(g.to_waha(), exclude) for g in paginate(groups, ctx)}


@route("GroupsController_getGroupsCount")
async def count_groups(ctx: Ctx) -> dict[str, Any]:
    return {"count": len(world_of(await ctx.working_session()).groups)}


@route("GroupsController_refreshGroups")
async def refresh_groups(ctx: Ctx) -> dict[str, Any]:
    world_of(await ctx.working_session())
    return {"success": True}


@route("GroupsController_createGroup")
async def create_group(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    participants = ctx.body["participants"]
    if not all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in participants):
        raise errors.bad_request(["each value in participants must be an object with a string id"])
    group = world.create_group(str(ctx.body["name"]), [normalize_chat_id(p["id"]) for p in participants])
    return group.to_waha()


@route("GroupsController_getGroup")
async def get_group(ctx: Ctx) -> dict[str, Any]:
    _, group = await _group(ctx)
    return group.to_waha()


@route("GroupsController_deleteGroup")
async def delete_group(ctx: Ctx) -> None:
    world, group = await _group(ctx)
    member = group.member(world.me_id)
    if member is None or member.role != "superadmin":
        raise refused(ctx, "forbidden")  # only the group's creator can delete it
    world.drop_group(group)
    world.chats.pop(group.id, None)


@route("GroupsController_leaveGroup")
async def leave_group(ctx: Ctx) -> None:
    world, group = await _group(ctx)
    me = group.member(world.me_id)
    if me is not None:
        group.participants.remove(me)
        world.participants_changed(group, "leave", [me])
    world.drop_group(group)


def _code(ctx: Ctx, code: Any, world: World) -> Group:
    group = world.group_by_invite(str(code or ""))
    if group is None:
        raise refused(ctx, "not-authorized")  # WhatsApp's answer to an invalid or revoked invite
    return group


@route("GroupsController_joinInfoGroup")
async def join_info(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    return _code(ctx, ctx.q("code"), world).to_waha()


@route("GroupsController_joinGroup")
async def join_group(ctx: Ctx) -> dict[str, Any]:
    world = world_of(await ctx.working_session())
    group = world.join_group(_code(ctx, ctx.body.get("code"), world))
    return {"id": group.id}


@route("GroupsController_getChatPicture")
async def get_picture(ctx: Ctx) -> dict[str, Any]:
    _, group = await _group(ctx)
    ctx.q_bool("refresh", False)
    if group.picture is None:
        return {"url": None}  # NOWEB: WhatsApp has no picture for the group
    number = group.id.split("@")[0][-9:]
    return {"url": f"https://pps.whatsapp.net/v/t61.24694-24/{number}{group.picture:03d}_n.jpg?oh=sandbox"}


@route("GroupsController_setPicture")
async def set_picture(ctx: Ctx) -> dict[str, Any]:
    world, group = await _group(ctx)
    _info_editor(ctx, world, group)
    group.picture = (group.picture or 0) + 1
    world.group_update(group, picture=True)
    return {"success": True}


@route("GroupsController_deletePicture")
async def delete_picture(ctx: Ctx) -> dict[str, Any]:
    world, group = await _group(ctx)
    _info_editor(ctx, world, group)
    group.picture = None
    world.group_update(group, picture=None)
    return {"success": True}


@route("GroupsController_setSubject")
async def set_subject(ctx: Ctx) -> None:
    world, group = await _group(ctx)
    subject = str(ctx.body["subject"])
    if not subject.strip():
        raise refused(ctx, "bad-request")  # WhatsApp refuses an empty subject
    _info_editor(ctx, world, group)
    group.subject = subject
    world.ensure_chat(group.id).name = subject
    world.group_update(group, subject=subject)


@route("GroupsController_setDescription")
async def set_description(ctx: Ctx) -> None:
    world, group = await _group(ctx)
    _info_editor(ctx, world, group)
    group.description = str(ctx.body["description"])  # "" clears it
    world.group_update(group, description=group.description)


def _setting(name: str) -> tuple[Any, Any]:
    async def get(ctx: Ctx) -> dict[str, Any]:
        _, group = await _group(ctx)
        return {"adminsOnly": getattr(group, name)}

    async def put(ctx: Ctx) -> None:
        world, group = await _group(ctx)
        _admin(ctx, world, group)
        value = bool(ctx.body.get("adminsOnly", True))
        if getattr(group, name) != value:
            setattr(group, name, value)
            changed = {"membersCanSendMessages": not value} if name == "announce" else {"restrict": value}
            world.group_update(group, **changed)

    return get, put


_get_info, _set_info = _setting("restrict")
_get_messages, _set_messages = _setting("announce")
route("GroupsController_getInfoAdminOnly")(_get_info)
route("GroupsController_setInfoAdminOnly")(_set_info)
route("GroupsController_getMessagesAdminOnly")(_get_messages)
route("GroupsController_setMessagesAdminOnly")(_set_messages)


def _security(attr: str, key: str, event_key: str | None) -> tuple[Any, Any]:
    """The settings WAHA 2026.7.2–2026.9.1 added, each `{<key>: bool}` both ways (groups.dto.ts; the 2026.7, 8 and 9
    blog posts). The PUT answers `true`: WAHA's setMemberShareHistoryMode returns Promise<boolean> (WAHA #2282's
    commit); the other two PUT answers are not documented and are taken to be the same."""

    async def get(ctx: Ctx) -> dict[str, Any]:
        _, group = await _group(ctx)
        return {key: getattr(group, attr)}

    async def put(ctx: Ctx) -> bool:
        world, group = await _group(ctx)
        _admin(ctx, world, group)
        value = bool(ctx.body[key])
        if getattr(group, attr) != value:
            setattr(group, attr, value)
            if event_key:
                world.group_update(group, **{event_key: value})
        return True

    return get, put


for _attr, _key, _event, _get_op, _set_op in (
    ("members_add", "membersCanAddNewMember", "membersCanAddNewMember", "getMemberAddMode", "setMemberAddMode"),
    (
        "approval",
        "newMembersApprovalRequired",
        "newMembersApprovalRequired",
        "getMembershipApproval",
        "setMembershipApproval",
    ),
    ("share_history", "membersCanShareHistory", None, "getMemberShareHistoryMode", "setMemberShareHistoryMode"),
):
    _get, _put = _security(_attr, _key, _event)
    route(f"GroupsController_{_get_op}")(_get)
    route(f"GroupsController_{_set_op}")(_put)


@route("GroupsController_getJoinRequests")
async def get_join_requests(ctx: Ctx) -> list[dict[str, Any]]:
    world, group = await _group(ctx)
    _admin(ctx, world, group, "not-authorized")
    return [dict(request) for request in group.join_requests]


async def _answer_requests(ctx: Ctx, approve: bool) -> list[dict[str, Any]]:
    """`GroupJoinRequestResult` per id: approving adds the member (a `group.v2.participants` join, as the docs'
    join-request page says: there is no `accepted` action); rejecting is a `join-request` event, `rejected`."""
    world, group = await _group(ctx)
    _admin(ctx, world, group, "not-authorized")
    out, joined = [], []
    for pid in _ids(ctx):
        request = next((r for r in group.join_requests if pid in (r["requesterId"], r.get("requesterPn"))), None)
        if request is None:
            out.append({"requesterId": pid, "success": False, "error": 404})
            continue
        group.join_requests.remove(request)
        out.append({"requesterId": request["requesterId"], "success": True})
        if approve:
            member = Participant(request["requesterId"], pn=request.get("requesterPn"))
            group.participants.append(member)
            joined.append(member)
        else:
            _announce_request(ctx.sandbox, world, group, request, "rejected")
    world.participants_changed(group, "join", joined)
    return out


@route("GroupsController_approveJoinRequests")
async def approve_join_requests(ctx: Ctx) -> list[dict[str, Any]]:
    return await _answer_requests(ctx, approve=True)


@route("GroupsController_rejectJoinRequests")
async def reject_join_requests(ctx: Ctx) -> list[dict[str, Any]]:
    return await _answer_requests(ctx, approve=False)


def _announce_request(sb: Any, world: World, group: Group, request: dict[str, Any], action: str) -> None:
    """`group.v2.participants.join-request` (WAHA 2026.8.2; waha-docs events-group.v2.participants.join-request.md)."""
    if not sb.profile.since("2026.8.2"):
        return
    payload = {
        "group": {"id": group.id},
        "action": action,
        "requesterId": request["requesterId"],
        "requesterPn": request.get("requesterPn"),
        "requestMethod": request.get("requestMethod"),
        "timestamp": world.now(),
        "_data": {},
    }
    world.announce("group.v2.participants.join-request", payload)


def join_request(sb: Any, session: str, group_id: str, requester: str, action: str = "created") -> dict[str, Any]:
    """Someone asks to join (or withdraws, `revoked`) a group of the session's account (a control endpoint)."""
    target = sb._require(session)
    world = world_of(target)
    group = world.groups.get(group_id)
    if group is None:
        raise KeyError(f"group {group_id!r} not found")
    requester = normalize_chat_id(requester)
    if action == "revoked":
        request = next((r for r in group.join_requests if r["requesterId"] == requester), None)
        if request is None:
            raise KeyError(f"no request from {requester!r}")
        group.join_requests.remove(request)
    elif action == "created":
        request = {
            "requesterId": requester,
            "requesterPn": requester if requester.endswith("@c.us") else None,
            "addedById": None,
            "parentGroupId": None,
            "requestMethod": "invite_link",
            "timestamp": world.now(),
        }
        group.join_requests.append(request)
    else:
        raise ValueError("action must be created or revoked")
    _announce_request(sb, world, group, request, action)
    return dict(request)


@route("GroupsController_getInviteCode")
async def get_invite_code(ctx: Ctx) -> str:
    world, group = await _group(ctx)
    _admin(ctx, world, group, "not-authorized")
    return group.invite_code  # a bare JSON string


@route("GroupsController_revokeInviteCode")
async def revoke_invite_code(ctx: Ctx) -> str:
    world, group = await _group(ctx)
    _admin(ctx, world, group, "not-authorized")
    group.invite_code = invite_code(world.rng)
    world.group_update(group, invite=f"https://chat.whatsapp.com/{group.invite_code}")
    return group.invite_code


@route("GroupsController_getParticipants")
async def get_participants(ctx: Ctx) -> list[dict[str, Any]]:
    _, group = await _group(ctx)
    return [p.to_waha() for p in group.participants]


@route("GroupsController_getGroupParticipants")
async def get_participants_v2(ctx: Ctx) -> list[dict[str, Any]]:
    _, group = await _group(ctx)
    return [p.v2() for p in group.participants]


def _ids(ctx: Ctx) -> list[str]:
    participants = ctx.body["participants"]
    if not all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in participants):
        raise errors.bad_request(["each value in participants must be an object with a string id"])
    return list(dict.fromkeys(normalize_chat_id(p["id"]) for p in participants))


def _result(pid: str, status: int) -> dict[str, Any]:
    """Baileys' per-participant answer: `{status, jid}` (status "200" when done)."""
    return {"status": str(status), "jid": pid.replace("@c.us", "@s.whatsapp.net")}


@route("GroupsController_addParticipants")
async def add_participants(ctx: Ctx) -> list[dict[str, Any]]:
    world, group = await _group(ctx)
    _admin(ctx, world, group)
    out, added = [], []
    for pid in _ids(ctx):
        if group.member(pid) is not None:
            out.append(_result(pid, 409))  # already in the group
            continue
        member = Participant(pid)
        group.participants.append(member)
        added.append(member)
        out.append(_result(pid, 200))
    world.participants_changed(group, "join", added)
    return out


@route("GroupsController_removeParticipants")
async def remove_participants(ctx: Ctx) -> list[dict[str, Any]]:
    world, group = await _group(ctx)
    _admin(ctx, world, group)
    out, removed = [], []
    for pid in _ids(ctx):
        member = group.member(pid)
        if member is None:
            out.append(_result(pid, 404))  # not in the group
            continue
        group.participants.remove(member)
        removed.append(member)
        out.append(_result(pid, 200))
    world.participants_changed(group, "leave", removed)
    return out


async def _set_role(ctx: Ctx, role: str, kind: str) -> list[dict[str, Any]]:
    world, group = await _group(ctx)
    _admin(ctx, world, group)
    out, changed = [], []
    for pid in _ids(ctx):
        member = group.member(pid)
        if member is None:
            out.append(_result(pid, 404))
            continue
        if member.role != "superadmin":  # the creator stays superadmin
            member.role = role
            changed.append(member)
        out.append(_result(pid, 200))
    world.participants_changed(group, kind, changed)
    return out


@route("GroupsController_promoteToAdmin")
async def promote(ctx: Ctx) -> list[dict[str, Any]]:
    return await _set_role(ctx, "admin", "promote")


@route("GroupsController_demoteToAdmin")
async def demote(ctx: Ctx) -> list[dict[str, Any]]:
    return await _set_role(ctx, "participant", "demote")
