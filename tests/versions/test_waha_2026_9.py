"""The tools for what WAHA 2026.7.2–2026.9.1 added, on the sandbox playing 2026.9.1, and refused with the release
they need (before anything is sent) on WAHA 2026.7.1 Plus and 2024.10 Core."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error, on_profiles
from waha_mcp import projections as view
from waha_mcp.sandbox import Sandbox

WEBP = "UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAwA0JaQAA3AA/vuUAAA="  # a 1×1 WebP
NEW_PERSON = "15550001234@c.us"


def admin_group(sandbox: Sandbox) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return next(g.id for g in world.groups.values() if g.is_admin(world.me_id))


def paths(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.requests]


async def test_send_limits_read_both_limits(mcp: Client, sandbox: Sandbox) -> None:
    quiet = data(await call(mcp, "waha_get_send_limits"))
    assert quiet == {"session": "default", "timelocked": False, "messageCapping": {"status": "NONE", "used": 0}}
    sandbox.timelock("default", seconds=600, enforcement_type="RESTRICT_ALL_COMPANIONS")
    sandbox.capping("default", "SECOND_WARNING", seconds=3600, used=900, total=1000)
    limits = data(await call(mcp, "waha_get_send_limits"))
    assert limits["timelocked"] is True and limits["reachoutTimelock"]["enforcement"] == "RESTRICT_ALL_COMPANIONS"
    assert limits["messageCapping"] | {"cycleEndTime": "-"} == {
        "status": "SECOND_WARNING",
        "used": 900,
        "total": 1000,
        "cycleEndTime": "-",
    }
    assert limits["heldFor"].startswith("reach-out timelock") and "heldUntilTime" in limits  # held while it lasts
    assert paths(sandbox)[-2:] == ["/api/sessions/default/timelock", "/api/sessions/default/capping"]


async def test_a_capped_session_shows_it_in_its_info(mcp: Client, sandbox: Sandbox) -> None:
    assert "messageCapping" not in data(await call(mcp, "waha_get_session"))  # NONE or unknown: nothing to say
    sandbox.capping("default", "CAPPED", seconds=3600)
    capping = data(await call(mcp, "waha_get_session"))["messageCapping"]
    assert capping["status"] == "CAPPED" and "error 475" in capping["effect"]


async def test_a_sticker_goes_by_send_sticker(mcp: Client, sandbox: Sandbox) -> None:
    sent = data(
        await call(
            mcp, "waha_send_media", {"chatId": NEW_PERSON, "data": WEBP, "mimetype": "image/webp", "type": "sticker"}
        )
    )
    assert sent["type"] == "sticker" and sent["messageId"]
    assert sandbox.requests[-1].path == "/api/sendSticker"
    assert set(sandbox.requests[-1].json) == {"chatId", "file", "session"}
    before = len(sandbox.requests)
    png = {"chatId": NEW_PERSON, "data": WEBP, "mimetype": "image/png", "type": "sticker"}
    assert "must be a WebP image" in error(await call(mcp, "waha_send_media", png))
    caption = {"chatId": NEW_PERSON, "data": WEBP, "mimetype": "image/webp", "type": "sticker", "caption": "hi"}
    assert "no caption" in error(await call(mcp, "waha_send_media", caption))
    assert len(sandbox.requests) == before  # refused before any request


async def test_join_requests_are_listed_and_answered(mcp: Client, sandbox: Sandbox) -> None:
    group = admin_group(sandbox)
    for person in ("4915100000001", "4915100000002"):
        sandbox_join_request(sandbox, group, f"{person}@c.us")
    listed = data(await call(mcp, "waha_get_group_join_requests", {"groupId": group}))
    assert [r["id"] for r in listed["requests"]] == ["4915100000001@c.us", "4915100000002@c.us"]
    assert listed["requests"][0]["method"] == "invite_link" and "time" in listed["requests"][0]
    approved = data(
        await call(
            mcp,
            "waha_answer_group_join_requests",
            {"groupId": group, "participants": ["4915100000001", "4915100000009"]},
        )
    )
    assert approved["approved"] == ["4915100000001@c.us"]
    assert approved["failed"] == [{"id": "4915100000009@c.us", "status": "404"}]
    rejected = data(
        await call(
            mcp,
            "waha_answer_group_join_requests",
            {"groupId": group, "participants": ["4915100000002@c.us"], "approve": False},
        )
    )
    assert rejected == {"session": "default", "groupId": group, "rejected": ["4915100000002@c.us"]}
    assert data(await call(mcp, "waha_get_group_join_requests", {"groupId": group}))["requests"] == []


def sandbox_join_request(sandbox: Sandbox, group: str, person: str) -> None:
    from waha_mcp.sandbox.routes.groups import join_request

    join_request(sandbox, "default", group, person)


async def test_the_new_group_settings_are_set_and_read(mcp: Client, sandbox: Sandbox) -> None:
    group = admin_group(sandbox)
    wanted = {"membersCanAddNewMember": True, "newMembersApprovalRequired": True, "membersCanShareHistory": True}
    assert data(await call(mcp, "waha_set_group_settings", {"groupId": group, **wanted})) == {
        "session": "default",
        "groupId": group,
        **wanted,
    }
    bodies = [r.json for r in sandbox.requests if r.method == "PUT"]
    assert bodies == [{key: True} for key in wanted]  # WAHA's own keys
    read = data(await call(mcp, "waha_get_group_settings", {"groupId": group}))
    assert {key: read[key] for key in wanted} == wanted and "unavailable" not in read


async def test_check_number_remembers_the_lid_waha_names() -> None:
    found = view.number_check(
        "4915112345677", {"numberExists": True, "chatId": "123456789@lid", "pn": "4915112345677@c.us"}
    )
    assert found == {
        "phone": "4915112345677",
        "onWhatsApp": True,
        "chatId": "123456789@lid",
        "pn": "4915112345677@c.us",
    }
    same = view.number_check(
        "4915112345677", {"numberExists": True, "chatId": "4915112345677@c.us", "pn": "4915112345677@c.us"}
    )
    assert "pn" not in same  # it says nothing more


# --------------------------------------------------------------------------- older WAHA

REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    ("waha_get_send_limits", {}, "GET /api/sessions/{session}/timelock", "2026.8.1"),
    (
        "waha_send_media",
        {"chatId": NEW_PERSON, "data": WEBP, "mimetype": "image/webp", "type": "sticker"},
        "POST /api/sendSticker",
        "2026.8.2",
    ),
    (
        "waha_get_group_join_requests",
        {"groupId": "{group}"},
        "GET /api/{session}/groups/{id}/participants/join-requests",
        "2026.8.2",
    ),
    (
        "waha_answer_group_join_requests",
        {"groupId": "{group}", "participants": ["4915100000001"], "approve": False},
        "POST /api/{session}/groups/{id}/participants/join-requests/reject",
        "2026.8.2",
    ),
    (
        "waha_set_group_settings",
        {"groupId": "{group}", "infoAdminOnly": True, "membersCanShareHistory": True},
        "PUT /api/{session}/groups/{id}/settings/security/member-share-history-mode",
        "2026.9.1",
    ),
]
LABELS = {"plus-2026.7": "2026.7.1 PLUS", "core-2024.10": "2024.10.8 CORE"}


@on_profiles("plus-2026.7", "core-2024.10")
@pytest.mark.parametrize(("tool", "args", "route", "since"), REFUSED)
async def test_older_waha_refuses_with_the_release_it_needs(
    mcp: Client, sandbox: Sandbox, profile: str, tool: str, args: dict[str, Any], route: str, since: str
) -> None:
    group = admin_group(sandbox)
    filled = {k: v.replace("{group}", group) if isinstance(v, str) else v for k, v in args.items()}
    told = error(await call(mcp, tool, filled))
    assert f"session 'default': this WAHA ({LABELS[profile]}) has no {route}; it needs WAHA {since} or newer" in told
    assert "nothing was sent" in told
    # Only the version was read: nothing of the call reached WAHA (the settings' first PUT included).
    assert [p for p in paths(sandbox) if p != "/api/server/version"] == []


@on_profiles("plus-2026.7")
async def test_group_settings_on_2026_7_say_which_it_lacks(mcp: Client, sandbox: Sandbox) -> None:
    read = data(await call(mcp, "waha_get_group_settings", {"groupId": admin_group(sandbox)}))
    assert read["unavailable"] == [
        "membersCanAddNewMember (WAHA 2026.7.2+)",
        "newMembersApprovalRequired (WAHA 2026.8.2+)",
        "membersCanShareHistory (WAHA 2026.9.1+)",
    ]
    assert "infoAdminOnly" in read and "membersCanAddNewMember" not in read


@on_profiles("plus-2026.7")
async def test_a_route_missing_on_an_unversioned_waha_names_its_release(mcp: Client, sandbox: Sandbox) -> None:
    # A WAHA that does not say its version: the request goes, and its 404 is explained with the release.
    sandbox.faults.add("ServerController_get", kind="status", status=404, times=None)
    told = error(await call(mcp, "waha_get_send_limits"))
    assert "has no GET /api/sessions/{session}/timelock; it needs WAHA 2026.8.1 or newer" in told


@on_profiles("current", "plus-2026.7", "core-2024.10")
async def test_server_info_says_what_this_waha_is_too_old_for(mcp: Client, profile: str) -> None:
    info = data(await call(mcp, "waha_get_server_info"))
    newer = info.get("needsNewerWaha", [])
    if profile == "current":
        assert newer == []  # 2026.9.1 has everything
        return
    assert "waha_get_send_limits: GET /api/sessions/{session}/capping (WAHA 2026.8.1+)" in newer
    assert "waha_send_media: POST /api/sendSticker (WAHA 2026.8.2+)" in newer
    assert (
        "waha_get_group_settings: GET /api/{session}/groups/{id}/settings/security/member-add-mode (WAHA 2026.7.2+)"
        in newer
    )
    assert len(newer) == 12  # every supplement operation, each reached by one listed tool
