"""Groups: the group list, one group, its members, settings, invite, and what was done to a group.

WAHA passes the engine's group record through: NOWEB `GroupMetadata` (`subject`, `desc`,
`participants[{id, admin}]`, `announce`, `restrict`), GOWS (`Name`, `Topic`, `Participants[{JID,
IsAdmin, IsSuperAdmin}]`, `IsAnnounce`, `IsLocked`) or WEBJS (`groupMetadata` inside a chat).
"""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.ids import c_us
from waha_mcp.projections.common import Time, drop_empty, iso, serialized_id, unix_time


class Member(TypedDict):
    id: str
    role: str
    phone: NotRequired[str]  # the number behind an @lid id, when WhatsApp shares it


class GroupSummary(TypedDict):
    id: str
    name: NotRequired[str]
    size: NotRequired[int]
    description: NotRequired[str]


class GroupList(TypedDict):
    groups: list[GroupSummary]
    nextOffset: int | None
    total: NotRequired[int]


class GroupDetail(TypedDict):
    groupId: str
    name: NotRequired[str]
    description: NotRequired[str]
    owner: NotRequired[str]
    creationTime: NotRequired[Time]
    size: NotRequired[int]
    infoAdminOnly: NotRequired[bool]
    messagesAdminOnly: NotRequired[bool]
    participants: NotRequired[list[Member]]


class GroupJoined(TypedDict):
    groupId: str
    joined: bool


class GroupLeft(TypedDict):
    groupId: str
    left: bool


class GroupDeleted(TypedDict):
    groupId: str
    deleted: bool


class GroupPicture(TypedDict):
    groupId: str
    picture: NotRequired[None]  # the group has none
    url: NotRequired[str]


class GroupPictureSet(TypedDict):
    groupId: str
    picture: bool  # false: removed


class GroupInfoSet(TypedDict):
    groupId: str
    name: NotRequired[str]
    description: NotRequired[str]  # "" when cleared


class GroupSettings(TypedDict):
    groupId: str
    infoAdminOnly: NotRequired[bool]
    messagesAdminOnly: NotRequired[bool]
    membersCanAddNewMember: NotRequired[bool]  # WAHA 2026.7.2+
    newMembersApprovalRequired: NotRequired[bool]  # WAHA 2026.8.2+: requests wait for an admin
    membersCanShareHistory: NotRequired[bool]  # WAHA 2026.9.1+
    unavailable: NotRequired[list[str]]  # settings this WAHA is too old for: "name (WAHA x+)"


class JoinRequest(TypedDict):
    id: str  # who asks (@c.us or @lid)
    pn: NotRequired[str]
    method: NotRequired[str]  # invite_link, linked_group_join, non_admin_add
    addedBy: NotRequired[str]
    time: NotRequired[Time]


class JoinRequests(TypedDict):
    groupId: str
    requests: list[JoinRequest]


class JoinRequestsAnswered(TypedDict):
    groupId: str
    approved: NotRequired[list[str]]
    rejected: NotRequired[list[str]]
    failed: NotRequired[list[Refused]]


class GroupInvite(TypedDict):
    groupId: str
    code: str
    link: str
    revoked: NotRequired[bool]  # the previous link no longer works


class GroupMembers(TypedDict):
    groupId: str
    participants: list[Member]


class Refused(TypedDict):
    id: str
    status: str  # WhatsApp's code: 403 not allowed, 404 not in the group, 408 left recently, 409 already in


class ParticipantsChanged(TypedDict):
    groupId: str
    action: str  # added | removed | promoted | demoted
    done: list[str]
    refused: NotRequired[list[Refused]]


def _metadata(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {}
    inner = item.get("groupMetadata")
    return {**item, **inner} if isinstance(inner, dict) else item


def member(item: Any) -> Member | None:
    """A participant from v2 (`{id, pn, role}`), NOWEB (`{id, admin}`), GOWS (`{JID, IsAdmin, ...}`) or WEBJS."""
    if not isinstance(item, dict):
        return None
    pid = serialized_id(item.get("id") or item.get("JID"))
    if not pid:
        return None
    role = item.get("role")
    if not isinstance(role, str):
        if item.get("isSuperAdmin") or item.get("IsSuperAdmin") or item.get("admin") == "superadmin":
            role = "superadmin"
        elif item.get("isAdmin") or item.get("IsAdmin") or item.get("admin") == "admin":
            role = "admin"
        else:
            role = "participant"
    pn = serialized_id(item.get("pn") or item.get("PhoneNumber"))
    phone = pn.split("@")[0] if pn and pid.endswith("@lid") else None
    return cast(Member, drop_empty({"id": pid, "role": role, "phone": phone}))


def members(items: Any) -> list[Member]:
    return [m for m in (member(item) for item in (items if isinstance(items, list) else [])) if m]


def group_summary(item: Any) -> GroupSummary | None:
    meta = _metadata(item)
    gid = serialized_id(meta.get("id") or meta.get("JID"))
    if not gid:
        return None
    people = meta.get("participants") or meta.get("Participants")
    size = meta.get("size") or (len(people) if isinstance(people, list) else None)
    description = meta.get("desc") or meta.get("description") or meta.get("Topic")
    name = meta.get("subject") or meta.get("Name") or meta.get("name")
    out = {"id": gid, "name": name, "size": size, "description": description}
    return cast(GroupSummary, drop_empty(out))


def group_list(answer: Any, next_offset: int | None, total: int | None = None) -> GroupList:
    """NOWEB answers an object keyed by group id; the other engines a list."""
    items = list(answer.values()) if isinstance(answer, dict) else answer if isinstance(answer, list) else []
    groups = [g for g in (group_summary(item) for item in items) if g]
    out: GroupList = {"groups": groups, "nextOffset": next_offset}
    if total is not None:
        out["total"] = total
    return out


def group_detail(item: Any, group_id: str | None = None) -> GroupDetail:
    meta = _metadata(item)
    summary: GroupSummary | dict[str, Any] = group_summary(meta) or {}
    announce = meta.get("announce", meta.get("IsAnnounce"))
    restrict = meta.get("restrict", meta.get("IsLocked"))
    people = meta.get("participants", meta.get("Participants"))
    out = {
        "groupId": summary.get("id") or group_id,
        "name": summary.get("name"),
        "description": summary.get("description"),
        "owner": serialized_id(meta.get("owner") or meta.get("OwnerJID")),
        "creationTime": iso(unix_time(meta.get("creation"))),
        "size": summary.get("size"),
        "infoAdminOnly": restrict if isinstance(restrict, bool) else None,
        "messagesAdminOnly": announce if isinstance(announce, bool) else None,
        "participants": members(people),
    }
    return cast(GroupDetail, drop_empty(out))


def group_joined(answer: Any, fallback: str) -> GroupJoined:
    gid = serialized_id(answer.get("id")) if isinstance(answer, dict) else None
    return {"groupId": gid or fallback, "joined": True}


def group_left(group_id: str) -> GroupLeft:
    return {"groupId": group_id, "left": True}


def group_deleted(group_id: str) -> GroupDeleted:
    return {"groupId": group_id, "deleted": True}


def group_picture(group_id: str, answer: Any) -> GroupPicture:
    url = answer.get("url") if isinstance(answer, dict) else None
    if isinstance(url, str) and url:
        return {"groupId": group_id, "url": url}
    return {"groupId": group_id, "picture": None}


def group_picture_set(group_id: str, picture: bool) -> GroupPictureSet:
    return {"groupId": group_id, "picture": picture}


def group_info_set(group_id: str, name: str | None, description: str | None) -> GroupInfoSet:
    out: GroupInfoSet = {"groupId": group_id}
    if name is not None:
        out["name"] = name
    if description is not None:
        out["description"] = description
    return out


def group_settings(
    group_id: str, answers: dict[str, tuple[str, Any]], unavailable: list[str] | None = None
) -> GroupSettings:
    """`answers`: setting → (WAHA's key, its answer `{key: bool}`, or the bool just set); `unavailable`: settings this
    WAHA is too old for, each with the release that has it."""
    out: dict[str, Any] = {"groupId": group_id}
    for name, (key, answer) in answers.items():
        value = answer.get(key) if isinstance(answer, dict) else answer
        if isinstance(value, bool):
            out[name] = value
    if unavailable:
        out["unavailable"] = unavailable
    return cast(GroupSettings, out)


def invite_code(answer: Any) -> str | None:
    """WAHA answers a bare string; an object with `inviteCode`/`code` is tolerated."""
    if isinstance(answer, dict):
        answer = answer.get("inviteCode") or answer.get("code")
    if not isinstance(answer, str) or not answer.strip():
        return None
    return answer.strip().rstrip("/").rsplit("/", 1)[-1]


def group_invite(group_id: str, code: str, revoked: bool = False) -> GroupInvite:
    out: GroupInvite = {"groupId": group_id, "code": code, "link": f"https://chat.whatsapp.com/{code}"}
    if revoked:
        out["revoked"] = True
    return out


def group_members(group_id: str, items: Any) -> GroupMembers:
    return {"groupId": group_id, "participants": members(items)}


def participants_changed(group_id: str, action: str, wanted: list[str], answer: Any) -> ParticipantsChanged:
    """Baileys' per-participant `[{status, jid}]` (NOWEB) when WAHA passes it on; else all done."""
    refused: list[Refused] = []
    if isinstance(answer, list):
        for item in answer:
            if not isinstance(item, dict) or str(item.get("status", "200")) == "200":
                continue
            raw = str(item.get("jid") or item.get("id") or "")
            refused.append({"id": c_us(raw), "status": str(item.get("status"))})
    failed = {r["id"] for r in refused}
    out: ParticipantsChanged = {
        "groupId": group_id,
        "action": action,
        "done": [pid for pid in wanted if pid not in failed],
    }
    if refused:
        out["refused"] = refused
    return out


def join_requests(group_id: str, answer: Any) -> JoinRequests:
    """WAHA's `GroupJoinRequest` list (groups.dto.ts)."""
    requests: list[JoinRequest] = []
    for item in answer if isinstance(answer, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("requesterId"), str):
            continue
        found = {
            "id": item["requesterId"],
            "pn": item.get("requesterPn") if item.get("requesterPn") != item["requesterId"] else None,
            "method": item.get("requestMethod"),
            "addedBy": item.get("addedById"),
            "time": iso(item.get("timestamp")) if isinstance(item.get("timestamp"), int | float) else None,
        }
        requests.append(cast(JoinRequest, drop_empty(found)))
    return {"groupId": group_id, "requests": requests}


def join_requests_answered(group_id: str, approve: bool, wanted: list[str], answer: Any) -> JoinRequestsAnswered:
    """From WAHA's `GroupJoinRequestResult` per id ({requesterId, success, error?}); an id WAHA did not answer for
    counts as done, as WAHA answered 2xx."""
    failed: list[Refused] = []
    results = {r.get("requesterId"): r for r in answer if isinstance(r, dict)} if isinstance(answer, list) else {}
    done = []
    for pid in wanted:
        result = results.get(pid)
        if result is not None and result.get("success") is False:
            code = result.get("error")
            failed.append({"id": pid, "status": str(code) if code is not None else "refused"})
        else:
            done.append(pid)
    out: dict[str, Any] = {"groupId": group_id, "approved" if approve else "rejected": done}
    if failed:
        out["failed"] = failed
    return cast(JoinRequestsAnswered, out)
