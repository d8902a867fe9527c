"""Toolset `admin` end to end, against the sandbox: API keys, apps, stopping the server."""

from __future__ import annotations

import json

from mcp import Client

from tests.helpers import call, data, error, text
from waha_mcp.sandbox import Sandbox
from waha_mcp.tools.registry import REGISTRY, Effect, client_view, select_tools


def test_admin_is_off_by_default_and_its_writes_are_admin() -> None:
    assert not {spec.name for spec in select_tools() if spec.toolset == "admin"}
    tools = {name: spec for name, spec in REGISTRY.items() if spec.toolset == "admin"}
    assert set(tools) == {
        "waha_list_api_keys",
        "waha_create_api_key",
        "waha_update_api_key",
        "waha_delete_api_key",
        "waha_get_apps",
        "waha_set_app",
        "waha_delete_app",
        "waha_stop_server",
    }
    for spec in tools.values():
        assert spec.effect in (Effect.READ, Effect.ADMIN), spec.name
        assert client_view(spec.annotations)[1] is (spec.effect is Effect.ADMIN)  # destructive


async def test_create_shows_the_key_once_then_hides_it(mcp: Client, sandbox: Sandbox) -> None:
    made = data(await call(mcp, "waha_create_api_key", {"session": "default", "rights": {"read": True}}))
    stored = next(iter(sandbox.model.keys.values()))
    assert made["key"] == stored["key"] and made["keyId"] == stored["id"]
    assert made["session"] == "default" and made["admin"] is False and made["active"] is True
    assert made["rights"] == {"read": True} and "shown once" in made["next"]
    sent = sandbox.requests[-1].json
    assert sent == {"isAdmin": False, "isActive": True, "actions": {"read": True}, "session": "default"}
    # The list never shows a value ...
    listed = await call(mcp, "waha_list_api_keys")
    assert [k["keyId"] for k in data(listed)["keys"]] == [stored["id"]]
    assert stored["key"] not in text(listed) and "key" not in data(listed)["keys"][0]
    # ... and when WAHA quotes the key later, it is hidden.
    sandbox.faults.add("ApiKeysController_list", kind="status", status=400, body={"message": f"bad {stored['key']}"})
    echoed = error(await call(mcp, "waha_list_api_keys"))
    assert stored["key"] not in echoed and "bad ***" in echoed


async def test_admin_and_scoped_keys(mcp: Client, sandbox: Sandbox) -> None:
    admin = data(await call(mcp, "waha_create_api_key", {"admin": True}))
    assert admin["admin"] is True and "session" not in admin and admin["key"].startswith("key_")
    assert sandbox.requests[-1].json["session"] is None  # WAHA's nullable session: every session
    media = data(await call(mcp, "waha_create_api_key", {"session": "business", "only": "media"}))
    assert sandbox.requests[-1].path == "/api/keys/media" and sandbox.requests[-1].json == {"session": "business"}
    assert media["session"] == "business" and not any(media["rights"].values())
    control = data(await call(mcp, "waha_create_api_key", {"session": "business", "only": "control"}))
    assert sandbox.requests[-1].path == "/api/keys/control" and control["rights"]["control"] is True
    assert len({admin["key"], media["key"], control["key"]}) == 3
    only_default = data(await call(mcp, "waha_list_api_keys", {"session": "business"}))
    assert {k["keyId"] for k in only_default["keys"]} == {media["keyId"], control["keyId"]}
    requests = len(sandbox.requests)
    assert "admin=true" in error(await call(mcp, "waha_create_api_key", {}))
    assert "every session" in error(await call(mcp, "waha_create_api_key", {"admin": True, "session": "default"}))
    rights = {"session": "default", "only": "media", "rights": {"send": True}}
    assert "fixes the rights" in error(await call(mcp, "waha_create_api_key", rights))
    assert len(sandbox.requests) == requests  # refused input never reached WAHA
    missing = error(await call(mcp, "waha_create_api_key", {"session": "nobody", "only": "media"}))
    assert "'nobody' does not exist" in missing and not any(
        k["session"] == "nobody" for k in sandbox.model.keys.values()
    )


async def test_update_merges_and_delete_removes(mcp: Client, sandbox: Sandbox) -> None:
    made = data(await call(mcp, "waha_create_api_key", {"session": "default", "rights": {"read": True, "send": True}}))
    off = data(await call(mcp, "waha_update_api_key", {"keyId": made["keyId"], "active": False}))
    assert off == {
        "keyId": made["keyId"],
        "active": False,
        "admin": False,
        "session": "default",
        "rights": off["rights"],
    }
    assert off["rights"] == {"read": True, "send": True}  # kept: WAHA's PUT replaces, the tool merges
    put = sandbox.requests[-1]
    assert put.method == "PUT" and put.json == {
        "isAdmin": False,
        "isActive": False,
        "actions": {"read": True, "send": True},
        "session": "default",
    }
    moved = data(await call(mcp, "waha_update_api_key", {"keyId": made["keyId"], "session": "business"}))
    assert moved["session"] == "business" and moved["active"] is False
    promoted = data(await call(mcp, "waha_update_api_key", {"keyId": made["keyId"], "admin": True}))
    assert promoted["admin"] is True and "session" not in promoted and sandbox.requests[-1].json["session"] is None
    assert made["key"] not in json.dumps(promoted)
    assert "no API key" in error(await call(mcp, "waha_update_api_key", {"keyId": "key_id_nope", "active": True}))
    assert "give what changes" in error(await call(mcp, "waha_update_api_key", {"keyId": made["keyId"]}))
    gone = data(await call(mcp, "waha_delete_api_key", {"keyId": made["keyId"]}))
    assert gone == {"keyId": made["keyId"], "deleted": True} and sandbox.model.keys == {}
    assert "not found" in error(await call(mcp, "waha_delete_api_key", {"keyId": made["keyId"]}))


CHATWOOT = {
    "url": "https://chatwoot.example",
    "accountId": 1,
    "accountToken": "cw-Token-5d1e2f9a",
    "inboxId": 7,
    "inboxIdentifier": "inbox-abc",
    "locale": "en-US",
}


async def test_apps_add_list_change_delete_with_secrets_hidden(mcp: Client, sandbox: Sandbox) -> None:
    added = await call(mcp, "waha_set_app", {"session": "default", "app": "chatwoot", "config": CHATWOOT})
    app = data(added)
    stored = sandbox.model.apps[app["appId"]]
    assert stored["config"]["accountToken"] == CHATWOOT["accountToken"]  # WAHA got it ...
    assert app["config"]["accountToken"] == "***" and CHATWOOT["accountToken"] not in text(added)  # ... we hide it
    assert app["session"] == "default" and app["app"] == "chatwoot" and app["enabled"] is True
    listed = data(await call(mcp, "waha_get_apps", {"session": "default"}))
    assert [a["appId"] for a in listed["apps"]] == [app["appId"]]
    assert sandbox.requests[-1].query["session"] == ["default"]
    assert data(await call(mcp, "waha_get_apps", {"session": "business"}))["apps"] == []
    one = data(await call(mcp, "waha_get_apps", {"appId": app["appId"]}))
    assert one["apps"][0]["config"]["inboxId"] == 7 and one["apps"][0]["config"]["accountToken"] == "***"
    changed = data(
        await call(mcp, "waha_set_app", {"session": "default", "appId": app["appId"], "config": {"locale": "de-DE"}})
    )
    assert changed["config"]["locale"] == "de-DE" and changed["config"]["inboxId"] == 7
    assert sandbox.model.apps[app["appId"]]["config"]["accountToken"] == CHATWOOT["accountToken"]  # merged
    off = data(await call(mcp, "waha_set_app", {"session": "default", "appId": app["appId"], "enabled": False}))
    assert off["enabled"] is False
    wrong = {"session": "business", "appId": app["appId"], "enabled": True}
    assert "belongs to session default" in error(await call(mcp, "waha_set_app", wrong))
    kind = {"session": "default", "appId": app["appId"], "app": "calls"}
    assert "is a chatwoot app" in error(await call(mcp, "waha_set_app", kind))
    assert "needs app and config" in error(await call(mcp, "waha_set_app", {"session": "default", "app": "calls"}))
    assert data(await call(mcp, "waha_delete_app", {"appId": app["appId"]})) == {
        "appId": app["appId"],
        "deleted": True,
    }
    assert "not found" in error(await call(mcp, "waha_get_apps", {"appId": app["appId"]}))


async def test_set_app_never_falls_back_to_the_default_session(mcp: Client, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    message = error(await call(mcp, "waha_set_app", {"app": "calls", "config": {"dm": {"reject": True}}}))
    assert "session" in message and not sandbox.model.apps
    assert all(r.method == "GET" for r in sandbox.requests[before:])


async def test_stop_server_is_recorded_not_fatal(mcp: Client, sandbox: Sandbox) -> None:
    stopped = data(await call(mcp, "waha_stop_server", {"force": True}))
    assert stopped["stopping"] is True and stopped["force"] is True and "restart" in stopped["next"]
    assert sandbox.requests[-1].json == {"force": True} and [s["force"] for s in sandbox.model.stops] == [True]
    data(await call(mcp, "waha_stop_server"))
    assert [s["force"] for s in sandbox.model.stops] == [True, False]
    assert data(await call(mcp, "waha_get_server_info"))["version"]  # the sandbox came back, as Docker would
    spec = REGISTRY["waha_stop_server"]
    assert spec.toolset == "admin" and spec.effect is Effect.ADMIN and client_view(spec.annotations)[1]


async def test_an_empty_answer_is_no_key(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add("ApiKeysController_create", kind="empty", status=201, times=1)
    message = error(await call(mcp, "waha_create_api_key", {"session": "default"}))
    assert "accepted POST /api/keys" in message and "no key" in message and "waha_list_api_keys" in message
    made = data(await call(mcp, "waha_create_api_key", {"session": "default"}))
    sandbox.faults.add("ApiKeysController_update", kind="empty", status=200, times=1)
    off = data(await call(mcp, "waha_update_api_key", {"keyId": made["keyId"], "active": False}))
    assert off["keyId"] == made["keyId"] and off["active"] is False  # what was sent, when WAHA says nothing
    assert "pattern" in error(await call(mcp, "waha_delete_api_key", {"keyId": ".."}))
