"""Sandbox group routes, straight over HTTP: real WAHA answers, refusals and group.v2.* events."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import Group, World

G = "/api/default/groups"


def world(sb: Sandbox) -> World:
    w = sb.sessions["default"].world
    assert w is not None
    return w


def seeded(sb: Sandbox) -> Group:
    """A seeded group where this account is an admin (not the creator)."""
    return next(iter(world(sb).groups.values()))


def outside(sb: Sandbox) -> Group:
    return next(iter(world(sb).outside.values()))


def events(sb: Sandbox, name: str) -> list[dict]:
    return [e["payload"] for e in sb.events() if e["event"] == name]


async def test_list_count_refresh_and_unknown_group(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    listed = (await client.get(G, params={"sortBy": "subject", "exclude": "participants"})).json()
    assert isinstance(listed, dict) and set(listed) == set(world(sb).groups)
    assert all("participants" not in g for g in listed.values())
    subjects = [g["subject"] for g in listed.values()]
    assert subjects == sorted(subjects)
    assert (await client.get(f"{G}/count")).json() == {"count": len(world(sb).groups)}
    assert (await client.post(f"{G}/refresh")).json() == {"success": True}
    r = await client.get(f"{G}/999%40g.us")
    assert r.status_code == 404 and r.json()["message"] == "Group '999@g.us' not found"
    assert (await client.post(f"{G}/999%40g.us/leave")).status_code == 404


async def test_invite_code_is_a_bare_string_and_revoke_replaces_it(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    group = seeded(sb)
    r = await client.get(f"{G}/{group.id}/invite-code")
    assert r.status_code == 200 and r.json() == group.invite_code and r.text == f'"{group.invite_code}"'
    old = group.invite_code
    new = (await client.post(f"{G}/{group.id}/invite-code/revoke")).json()
    assert isinstance(new, str) and new != old and group.invite_code == new
    # The old link opens nothing any more.
    r = await client.get(f"{G}/join-info", params={"code": f"https://chat.whatsapp.com/{old}"})
    assert r.status_code == 500 and r.json()["exception"]["message"] == "not-authorized"
    assert events(sb, "group.v2.update")[-1]["group"] == {"id": group.id, "invite": f"https://chat.whatsapp.com/{new}"}


async def test_join_by_link_then_member_refusals(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    group = outside(sb)
    info = (await client.get(f"{G}/join-info", params={"code": group.invite_code})).json()
    assert info["id"] == group.id and info["subject"] == "Running club"
    joined = (await client.post(f"{G}/join", json={"code": f"https://chat.whatsapp.com/{group.invite_code}/"})).json()
    assert joined == {"id": group.id} and group.id in world(sb).groups and not world(sb).outside
    assert events(sb, "group.v2.join")[-1]["group"]["id"] == group.id
    # A plain member of an admin-only group: WhatsApp refuses, WAHA answers its 500 shape.
    for method, path, body in [
        ("PUT", "subject", {"subject": "Mine now"}),
        ("PUT", "settings/security/messages-admin-only", {"adminsOnly": False}),
        ("POST", "participants/add", {"participants": [{"id": "12025550199@c.us"}]}),
        ("GET", "invite-code", None),
        ("DELETE", "", None),
    ]:
        r = await client.request(method, f"{G}/{group.id}/{path}".rstrip("/"), json=body)
        assert r.status_code == 500, (method, path)
        assert r.json()["exception"]["message"] in ("forbidden", "not-authorized")
    assert group.subject == "Running club" and group.announce
    assert (await client.get(f"{G}/{group.id}/settings/security/messages-admin-only")).json() == {"adminsOnly": True}
    # Participants: v1 is NOWEB's {id, admin}; v2 names roles and the phone number behind an @lid.
    v1 = (await client.get(f"{G}/{group.id}/participants")).json()
    assert {"id": world(sb).me_id, "admin": None} in v1
    v2 = (await client.get(f"{G}/{group.id}/participants/v2")).json()
    owner = next(p for p in v2 if p["role"] == "superadmin")
    assert owner["id"].endswith("@lid") and owner["pn"].endswith("@c.us")
    # Leaving: an empty answer, the group is gone from the list, WAHA sends group.v2.leave.
    r = await client.post(f"{G}/{group.id}/leave")
    assert r.status_code in (200, 201) and r.content == b""
    assert group.id not in world(sb).groups
    assert events(sb, "group.v2.leave")[-1]["group"] == {"id": group.id}


async def test_info_settings_and_picture(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    group = seeded(sb)
    base = f"{G}/{group.id}"
    r = await client.put(f"{base}/subject", json={"subject": "Renamed"})
    assert r.status_code == 200 and r.content == b"" and group.subject == "Renamed"
    assert world(sb).chats[group.id].name == "Renamed"
    await client.put(f"{base}/description", json={"description": ""})
    assert group.description == "" and (await client.get(base)).json()["desc"] is None
    await client.put(f"{base}/settings/security/info-admin-only", json={"adminsOnly": True})
    assert (await client.get(f"{base}/settings/security/info-admin-only")).json() == {"adminsOnly": True}
    assert (await client.get(base)).json()["restrict"] is True
    updates = [e["group"] for e in events(sb, "group.v2.update")]
    assert {"id": group.id, "subject": "Renamed"} in updates and {"id": group.id, "description": ""} in updates
    first = (await client.get(f"{base}/picture")).json()["url"]
    file = {"mimetype": "image/jpeg", "url": "https://example.com/p.jpg"}
    assert (await client.put(f"{base}/picture", json={"file": file})).json() == {"success": True}
    assert (await client.get(f"{base}/picture", params={"refresh": "true"})).json()["url"] != first
    assert (await client.delete(f"{base}/picture")).json() == {"success": True}
    assert (await client.get(f"{base}/picture")).json() == {"url": None}


async def test_participants_add_remove_promote_demote(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    group = seeded(sb)
    base = f"{G}/{group.id}"
    new = {"participants": [{"id": "12025550199"}, {"id": group.participants[-1].id}]}
    answer = (await client.post(f"{base}/participants/add", json=new)).json()
    assert [a["status"] for a in answer] == ["200", "409"]
    assert group.member("12025550199@c.us") is not None
    body = {"participants": [{"id": "12025550199@c.us"}]}
    assert (await client.post(f"{base}/admin/promote", json=body)).json()[0]["status"] == "200"
    assert group.is_admin("12025550199@c.us")
    await client.post(f"{base}/admin/demote", json=body)
    assert not group.is_admin("12025550199@c.us")
    answer = (await client.post(f"{base}/participants/remove", json=body)).json()
    assert answer == [{"status": "200", "jid": "12025550199@s.whatsapp.net"}]
    assert group.member("12025550199@c.us") is None
    kinds = [(p["type"], [m["id"] for m in p["participants"]]) for p in events(sb, "group.v2.participants")]
    assert kinds == [(k, ["12025550199@c.us"]) for k in ("join", "promote", "demote", "leave")]
    bad = await client.post(f"{base}/participants/add", json={"participants": ["12025550199"]})
    assert bad.status_code == 400


async def test_create_then_delete_is_for_the_creator(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    created = (await client.post(G, json={"name": "Trip", "participants": [{"id": "12025550100@c.us"}]})).json()
    gid = created["id"]
    assert created["owner"] == world(sb).me_id
    r = await client.delete(f"{G}/{gid}")
    assert r.status_code == 200 and r.content == b"" and gid not in world(sb).groups
    assert events(sb, "group.v2.leave")[-1]["group"] == {"id": gid}
    # An admin who did not create the group cannot delete it.
    r = await client.delete(f"{G}/{seeded(sb).id}")
    assert r.status_code == 500 and r.json()["exception"]["message"] == "forbidden"
