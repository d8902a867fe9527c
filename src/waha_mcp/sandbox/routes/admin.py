"""🔑 Api Keys and 🧩 Apps: WAHA's own administration, kept in the sandbox model.

- A key is an `ApiKeyDTO` whose `key` WAHA returns on create and in the list (it is the credential).
  `POST /api/keys/media` and `/api/keys/control` create, or get again, the one key of that scope for a
  session. A non-admin key belongs to one session. Delete answers an empty 200.
- An app is WAHA's `App` (`chatwoot`, `calls`, `mcp`) attached to a session; ids are the caller's.
- Unknown ids are NestJS 404s. A key made here authenticates as `X-Api-Key` while active: an admin key for
  everything, a session's key for that session's routes (403 for another's); its `actions` are not enforced.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from .. import errors
from ..registry import Ctx, route

ACTIONS = ("read", "send", "control", "setting", "app", "delete")
SCOPED = {  # what a media- or control-only key may do, as WAHA shows it in `actions`
    "media": dict.fromkeys(ACTIONS, False),
    "control": {action: action == "control" for action in ACTIONS},
}


def _new_key(ctx: Ctx, body: dict[str, Any], scope: str | None = None) -> dict[str, Any]:
    alphabet = string.ascii_letters + string.digits
    key = {
        "id": "key_id_" + secrets.token_hex(13),
        "key": "key_" + "".join(secrets.choice(alphabet) for _ in range(32)),
        "isActive": body.get("isActive", True),
        "isAdmin": bool(body.get("isAdmin")),
        "session": body.get("session"),
        "actions": body.get("actions"),
    }
    if scope is not None:
        key["scope"] = scope  # the sandbox's own note; never rendered
    ctx.sandbox.model.keys[key["id"]] = key
    return key


def _dto(key: dict[str, Any]) -> dict[str, Any]:
    return {name: key[name] for name in ("id", "key", "isActive", "isAdmin", "session", "actions")}


def _check(body: dict[str, Any]) -> None:
    if not body.get("isAdmin") and not body.get("session"):
        raise errors.bad_request(["session must be set for a non-admin key"])


def _key(ctx: Ctx) -> dict[str, Any]:
    key = ctx.sandbox.model.keys.get(ctx.params["id"])
    if key is None:
        raise errors.nest(404, f"API key '{ctx.params['id']}' not found")
    return key


@route("ApiKeysController_create")
async def create_key(ctx: Ctx) -> dict[str, Any]:
    _check(ctx.body)
    return _dto(_new_key(ctx, ctx.body))


@route("ApiKeysController_list")
async def list_keys(ctx: Ctx) -> list[dict[str, Any]]:
    return [_dto(key) for key in ctx.sandbox.model.keys.values()]


async def _scoped(ctx: Ctx, scope: str) -> dict[str, Any]:
    session = ctx.body["session"]
    if ctx.sandbox.get_session(session) is None:
        raise errors.session_not_found()
    for key in ctx.sandbox.model.keys.values():
        if key.get("scope") == scope and key["session"] == session:
            return _dto(key)  # create or get: the same key again
    body = {"isAdmin": False, "session": session, "isActive": True, "actions": SCOPED[scope]}
    return _dto(_new_key(ctx, body, scope))


@route("ApiKeysController_media")
async def media_key(ctx: Ctx) -> dict[str, Any]:
    return await _scoped(ctx, "media")


@route("ApiKeysController_control")
async def control_key(ctx: Ctx) -> dict[str, Any]:
    return await _scoped(ctx, "control")


@route("ApiKeysController_update")
async def update_key(ctx: Ctx) -> dict[str, Any]:
    key = _key(ctx)
    _check(ctx.body)
    key.update({name: ctx.body.get(name) for name in ("isAdmin", "session", "isActive", "actions")})
    key["isActive"] = ctx.body.get("isActive", True)
    return _dto(key)


@route("ApiKeysController_delete")
async def delete_key(ctx: Ctx) -> None:
    del ctx.sandbox.model.keys[_key(ctx)["id"]]


# --- apps -----------------------------------------------------------------------------------------


def _app(ctx: Ctx) -> dict[str, Any]:
    app = ctx.sandbox.model.apps.get(ctx.params["id"])
    if app is None:
        raise errors.nest(404, f"App '{ctx.params['id']}' not found")
    return app


def _known_session(ctx: Ctx, name: str) -> None:
    if ctx.sandbox.get_session(name) is None:
        raise errors.session_not_found()


@route("AppsController_list")
async def list_apps(ctx: Ctx) -> list[dict[str, Any]]:
    session = ctx.q("session")
    if not session:
        raise errors.bad_request(["session must be a string"])
    return [app for app in ctx.sandbox.model.apps.values() if app["session"] == session]


@route("AppsController_create")
async def create_app(ctx: Ctx) -> dict[str, Any]:
    body = dict(ctx.body)
    _known_session(ctx, body["session"])
    if body["id"] in ctx.sandbox.model.apps:
        raise errors.nest(422, f"App '{body['id']}' already exists")
    app = {"enabled": True, **body}
    ctx.sandbox.model.apps[app["id"]] = app
    return app


@route("AppsController_get")
async def get_app(ctx: Ctx) -> dict[str, Any]:
    return _app(ctx)


@route("AppsController_update")
async def update_app(ctx: Ctx) -> dict[str, Any]:
    app = _app(ctx)
    if ctx.body["id"] != app["id"]:
        raise errors.bad_request([f"id must be '{app['id']}'"])
    _known_session(ctx, ctx.body["session"])
    app.clear()
    app.update({"enabled": True, **ctx.body})
    return app


@route("AppsController_delete")
async def delete_app(ctx: Ctx) -> None:
    del ctx.sandbox.model.apps[_app(ctx)["id"]]
