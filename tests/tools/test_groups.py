"""Toolset `groups` end to end, against the sandbox."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import Group, World
from waha_mcp.tools.registry import REGISTRY, Effect

S = {"session": "default"}  # destructive tools never fall back to WAHA_SESSION


def world(sandbox: Sandbox) -> World:
    w = sandbox.sessions["default"].world
    assert w is not None
    return w


def a_group(sandbox: Sandbox) -> Group:
    return next(iter(world(sandbox).groups.values()))


def events(sandbox: Sandbox, name: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in sandbox.events() if e["event"] == name]


async def test_list_sorts_pages_and_counts(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_get_groups"))
    names = sorted(g.subject for g in world(sandbox).groups.values())
    assert [g["name"] for g in out["groups"]] == names
    assert out["nextOffset"] is None and out["total"] == len(names)
    assert all(g["id"].endswith("@g.us") and g["size"] >= 3 for g in out["groups"])
    sent = sandbox.requests[-1]
    assert sent.query["exclude"] == ["participants"] and sent.query["sortBy"] == ["subject"]
    # A full page asks for the count, and says where the next page starts.
    page = data(await call(mcp, "waha_get_groups", {"limit": 1, "descending": True, "refresh": True}))
    assert [r.path.rsplit("/", 1)[-1] for r in sandbox.requests[-3:]] == ["refresh", "groups", "count"]
    assert page["groups"][0]["name"] == names[-1] and page["nextOffset"] == 1 and page["total"] == len(names)
    last = data(await call(mcp, "waha_get_groups", {"limit": 1, "offset": 1}))
    assert last["nextOffset"] is None and last["groups"][0]["name"] == names[1]


async def test_get_group_and_members_with_lid_phone(mcp: Client, sandbox: Sandbox) -> None:
    group = a_group(sandbox)
    out = data(await call(mcp, "waha_get_group", {"groupId": group.id.removesuffix("@g.us")}))
    assert out["groupId"] == group.id and out["name"] == group.subject and out["description"]
    assert out["messagesAdminOnly"] is False and out["creationTime"].startswith("20")
    me = world(sandbox).me_id
    assert {"id": me, "role": "admin"} in out["participants"]
    # The group this account may join has an @lid owner whose number WhatsApp shares (participants/v2).
    outside = next(iter(world(sandbox).outside.values()))
    world(sandbox).join_group(outside)
    members = data(await call(mcp, "waha_get_group_participants", {"groupId": outside.id}))
    owner = next(p for p in members["participants"] if p["role"] == "superadmin")
    assert owner["id"].endswith("@lid") and owner["phone"] == outside.participants[0].pn.split("@")[0]
    assert sandbox.requests[-1].path.endswith("/participants/v2")
    assert "not found" in error(await call(mcp, "waha_get_group", {"groupId": "99999@g.us"}))


async def test_participants_fall_back_to_v1_on_an_older_waha(
    mcp: Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sandbox.handlers, "GroupsController_getGroupParticipants")
    group = a_group(sandbox)
    out = data(await call(mcp, "waha_get_group_participants", {"groupId": group.id}))
    assert sandbox.requests[-1].path.endswith("/participants")
    assert {p["id"] for p in out["participants"]} == {p.id for p in group.participants}
    assert {"id": group.participants[0].id, "role": "superadmin"} in out["participants"]


async def test_create_sends_a_real_array_and_then_delete(mcp: Client, sandbox: Sandbox) -> None:
    out = data(
        await call(mcp, "waha_create_group", {"name": "Trip", "participants": ["+1 202 555 0100", "12025550101"]})
    )
    assert sandbox.requests[-1].json == {
        "name": "Trip",
        "participants": [{"id": "12025550100@c.us"}, {"id": "12025550101@c.us"}],
    }
    gid = out["groupId"]
    assert out["name"] == "Trip" and {"id": world(sandbox).me_id, "role": "superadmin"} in out["participants"]
    assert events(sandbox, "group.v2.join")[-1]["group"]["id"] == gid
    assert data(await call(mcp, "waha_delete_group", {"groupId": gid, **S})) == {
        "session": "default",
        "groupId": gid,
        "deleted": True,
    }
    assert gid not in world(sandbox).groups
    # Only the creator may delete: WhatsApp's refusal reaches the model in one line.
    assert "forbidden" in error(await call(mcp, "waha_delete_group", {"groupId": a_group(sandbox).id, **S}))


async def test_join_info_join_and_leave(mcp: Client, sandbox: Sandbox) -> None:
    outside = next(iter(world(sandbox).outside.values()))
    link = f"https://chat.whatsapp.com/{outside.invite_code}"
    info = data(await call(mcp, "waha_get_group_join_info", {"code": link}))
    assert info["groupId"] == outside.id and info["name"] == "Running club" and info["infoAdminOnly"] is True
    assert sandbox.requests[-1].query["code"] == [link]
    joined = data(await call(mcp, "waha_join_group", {"code": outside.invite_code}))
    assert joined == {"session": "default", "groupId": outside.id, "joined": True}
    # As a plain member of an admin-only group, the invite is WhatsApp's to refuse.
    assert "not-authorized" in error(await call(mcp, "waha_get_group_invite", {"groupId": outside.id}))
    left = data(await call(mcp, "waha_leave_group", {"groupId": outside.id, **S}))
    assert left["left"] is True and outside.id not in world(sandbox).groups
    assert events(sandbox, "group.v2.leave")[-1]["group"] == {"id": outside.id}
    assert "not-authorized" in error(await call(mcp, "waha_join_group", {"code": "Nope1234"}))


async def test_invite_is_read_from_a_bare_string_and_revoked(mcp: Client, sandbox: Sandbox) -> None:
    group = a_group(sandbox)
    got = data(await call(mcp, "waha_get_group_invite", {"groupId": group.id}))
    assert got == {
        "session": "default",
        "groupId": group.id,
        "code": group.invite_code,
        "link": f"https://chat.whatsapp.com/{group.invite_code}",
    }
    new = data(await call(mcp, "waha_revoke_group_invite", {"groupId": group.id, **S}))
    assert new["revoked"] is True and new["code"] == group.invite_code != got["code"]


async def test_info_and_settings(mcp: Client, sandbox: Sandbox) -> None:
    group = a_group(sandbox)
    out = data(await call(mcp, "waha_set_group_info", {"groupId": group.id, "name": "Renamed", "description": ""}))
    assert out == {"session": "default", "groupId": group.id, "name": "Renamed", "description": ""}
    assert group.subject == "Renamed" and group.description == ""
    assert [r.json for r in sandbox.requests[-2:]] == [{"subject": "Renamed"}, {"description": ""}]
    data(await call(mcp, "waha_set_group_info", {"groupId": group.id, "description": "New rules"}))
    assert sandbox.requests[-1].path.endswith("/description") and group.subject == "Renamed"
    before = data(await call(mcp, "waha_get_group_settings", {"groupId": group.id}))
    assert before == {
        "session": "default",
        "groupId": group.id,
        "infoAdminOnly": False,
        "messagesAdminOnly": False,
        "membersCanAddNewMember": False,  # WAHA 2026.7.2+
        "newMembersApprovalRequired": False,  # 2026.8.2+
        "membersCanShareHistory": False,  # 2026.9.1+
    }
    after = data(await call(mcp, "waha_set_group_settings", {"groupId": group.id, "messagesAdminOnly": True}))
    assert after["messagesAdminOnly"] is True and "infoAdminOnly" not in after
    assert len([r for r in sandbox.requests if r.method == "PUT"]) == 4  # only the setting asked for
    data(await call(mcp, "waha_set_group_settings", {"groupId": group.id, "infoAdminOnly": True}))
    assert data(await call(mcp, "waha_get_group_settings", {"groupId": group.id}))["infoAdminOnly"] is True


async def test_picture_get_set_remove(mcp: Client, sandbox: Sandbox) -> None:
    group = a_group(sandbox)
    first = data(await call(mcp, "waha_get_group_picture", {"groupId": group.id}))["url"]
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 64).decode()
    out = data(await call(mcp, "waha_set_group_picture", {"groupId": group.id, "data": jpeg}))
    assert out["picture"] is True and sandbox.requests[-1].json["file"]["mimetype"] == "image/jpeg"
    again = data(await call(mcp, "waha_get_group_picture", {"groupId": group.id, "refresh": True}))
    assert again["url"] != first and sandbox.requests[-1].query["refresh"] == ["true"]
    out = data(await call(mcp, "waha_set_group_picture", {"groupId": group.id, "remove": True}))
    assert out["picture"] is False and sandbox.requests[-1].method == "DELETE"
    assert data(await call(mcp, "waha_get_group_picture", {"groupId": group.id}))["picture"] is None


async def test_members_add_promote_demote_remove(mcp: Client, sandbox: Sandbox) -> None:
    group = a_group(sandbox)
    existing = group.participants[-1].id
    added = data(
        await call(mcp, "waha_add_group_participants", {"groupId": group.id, "participants": ["12025550199", existing]})
    )
    assert added["done"] == ["12025550199@c.us"] and added["refused"] == [{"id": existing, "status": "409"}]
    assert sandbox.requests[-1].json == {"participants": [{"id": "12025550199@c.us"}, {"id": existing}]}
    one = {"groupId": group.id, "participants": ["12025550199@c.us"]}
    assert data(await call(mcp, "waha_set_group_admins", one))["action"] == "promoted"
    assert group.is_admin("12025550199@c.us") and sandbox.requests[-1].path.endswith("/admin/promote")
    assert data(await call(mcp, "waha_set_group_admins", {**one, "admin": False}))["action"] == "demoted"
    assert not group.is_admin("12025550199@c.us")
    removed = data(await call(mcp, "waha_remove_group_participants", {**one, **S}))
    assert removed == {"session": "default", "groupId": group.id, "action": "removed", "done": ["12025550199@c.us"]}
    kinds = [p["type"] for p in events(sandbox, "group.v2.participants")]
    assert kinds == ["join", "promote", "demote", "leave"]


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("waha_get_group", {"groupId": "12025550100@c.us"}, "not a group id"),
        ("waha_create_group", {"name": "X", "participants": []}, "participants"),
        ("waha_create_group", {"name": "  ", "participants": ["12025550100"]}, "name is empty"),
        ("waha_create_group", {"name": "X", "participants": ["nope"]}, "not a WhatsApp id"),
        ("waha_set_group_info", {"groupId": "123456@g.us"}, "give name, description"),
        ("waha_set_group_info", {"groupId": "123456@g.us", "name": ""}, "name is empty"),
        ("waha_set_group_settings", {"groupId": "123456@g.us"}, "give at least one of infoAdminOnly"),
        ("waha_set_group_picture", {"groupId": "123456@g.us"}, "exactly one of"),
        ("waha_set_group_picture", {"groupId": "123456@g.us", "remove": True, "data": "AAAA"}, "no file or data"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, Any], needle: str
) -> None:
    assert needle in error(await call(mcp, tool, args))
    assert sandbox.requests == []


def test_effects_follow_what_each_tool_does() -> None:
    groups = {name: spec for name, spec in REGISTRY.items() if spec.toolset == "groups"}
    reads = {name for name, spec in groups.items() if spec.effect is Effect.READ}
    destructive = {name for name, spec in groups.items() if spec.effect is Effect.DESTRUCTIVE}
    assert reads == {
        "waha_get_groups",
        "waha_get_group",
        "waha_get_group_join_info",
        "waha_get_group_picture",
        "waha_get_group_settings",
        "waha_get_group_invite",
        "waha_get_group_participants",
        "waha_get_group_join_requests",
    }
    assert destructive == {
        "waha_leave_group",
        "waha_delete_group",
        "waha_remove_group_participants",
        "waha_revoke_group_invite",
    }
    for name in set(groups) - reads - destructive:
        assert groups[name].effect is Effect.VISIBLE and groups[name].pacing == "group", name
    declared = {op for spec in groups.values() for op in spec.operations}
    # 26 from the 2026.7 document, 9 from the supplement (join requests, member-add, approval, share-history)
    assert len(declared) == 35 and all(op.startswith("GroupsController_") for op in declared)
