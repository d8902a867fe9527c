"""Toolset `admin`: WAHA's own administration: API keys, apps, stopping the server.

Off by default; every write is `Effect.ADMIN` (confirmation and audit once those guards exist). A key
value WAHA returns is shown once, in the result of the call that made it, and hidden from every later
output and log line (`Invocation.reveal`); the list never shows key values.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from waha_mcp import projections as view
from waha_mcp.client import WAHAError
from waha_mcp.errors import ToolInputError
from waha_mcp.tools._common import Server, Session
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool

# WAHA's ids (key_id_..., app_...): no slash, and not a dot segment a URL would resolve away.
KeyId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$")]
AppId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$")]
AppKind = Literal["chatwoot", "calls", "mcp"]


class Rights(BaseModel):
    """What a session key may do (WAHA's SessionActions); unset means no."""

    model_config = ConfigDict(extra="forbid")
    read: bool | None = None
    send: bool | None = None
    control: bool | None = Field(default=None, description="start, stop, pair")
    setting: bool | None = None
    app: bool | None = None
    delete: bool | None = None


def _rights(rights: Rights | None) -> dict[str, bool] | None:
    return None if rights is None else {k: v for k, v in rights.model_dump().items() if v is not None}


@tool(
    "API keys: id, session, rights (never the key).",
    effect=Effect.READ,
    scope="server",
    operations=("ApiKeysController_list",),
)
async def list_api_keys(w: Invocation, session: Session = None, server: Server = None) -> view.ApiKeyList:
    if server is not None or session is not None or len(w.servers) == 1:
        answer = await w.call("ApiKeysController_list")
        w.hide(view.key_values(answer))  # WAHA lists the values: none may reach any output
        return view.api_key_list(answer, session)
    # Every server's keys, each named after its server; a server that did not answer is listed with why.
    keys: list[Any] = []
    unreachable: dict[str, str] = {}
    for name, answer in (await w.on_servers(None, "ApiKeysController_list")).items():
        if isinstance(answer, WAHAError):
            unreachable[name] = answer.message
            continue
        w.hide(view.key_values(answer))
        keys.extend(key | {"server": name} for key in answer or [] if isinstance(key, dict))
    return view.api_key_list(keys, None, unreachable)


def _granted(rights: Rights | None, only: str | None) -> str:
    given = [name for name, on in (_rights(rights) or {}).items() if on]
    return f"only {only}" if only else ", ".join(given) if given else "all rights"


async def _create_question(w: Invocation) -> str:
    args = w.args
    if args.get("admin"):
        return "Create an admin API key? It can do anything on every session of this WAHA; its value is shown once."
    return (
        f"Create an API key for session {args.get('session')} ({_granted(args.get('rights'), args.get('only'))})? "
        "Whoever holds it can act as that session; its value is shown once."
    )


@tool(
    "Create an API key (admin, or for one session); its value is shown once.",
    effect=Effect.ADMIN,
    scope="server",
    operations=("ApiKeysController_create", "ApiKeysController_media", "ApiKeysController_control"),
    question=_create_question,
)
async def create_api_key(
    w: Invocation,
    session: Session = None,
    server: Server = None,
    admin: bool = False,
    rights: Rights | None = None,
    only: Annotated[
        Literal["media", "control"] | None,
        Field(description="A key that only downloads media, or only starts/stops/pairs (one per session)."),
    ] = None,
) -> view.ApiKeyCreated:
    if admin and (session or rights or only):
        raise ToolInputError("an admin key works for every session with every right: give no session, rights, only")
    if not admin and not session:
        raise ToolInputError("give session (the key works for it alone), or admin=true")
    if only is not None:
        if rights is not None:
            raise ToolInputError(f"only={only} fixes the rights: give no rights")
        operation = "ApiKeysController_media" if only == "media" else "ApiKeysController_control"
        answer = await w.call(operation)
    else:
        operation = "ApiKeysController_create"
        body = {"isAdmin": admin, "isActive": True} | ({"actions": _rights(rights)} if rights else {})
        answer = await w.call(operation, body=body)
    values = view.key_values(answer)
    if not values:
        raise w.no_answer(operation, "a key (waha_list_api_keys shows whether one was made)")
    for value in values:
        w.reveal(value)
    return view.api_key_created(answer)


async def _update_question(w: Invocation) -> str:
    args, changes = w.args, []
    if args.get("active") is False:
        changes.append("turn it off (whatever uses it is locked out)")
    elif args.get("active"):
        changes.append("turn it on")
    if args.get("admin"):
        changes.append("make it an admin key (every session, every right)")
    elif args.get("admin") is False:
        changes.append("make it a session key")
    if args.get("session"):
        changes.append(f"bind it to session {args['session']}")
    if args.get("rights") is not None:
        changes.append(f"rights: {_granted(args['rights'], None)}")
    return f"Change the API key {args['keyId']}: {'; '.join(changes) or 'nothing'}?"


@tool(
    "Turn a key off or on, or change its session or rights.",
    effect=Effect.ADMIN,
    scope="server",
    operations=("ApiKeysController_list", "ApiKeysController_update"),
    question=_update_question,
    target="keyId",
)
async def update_api_key(
    w: Invocation,
    keyId: KeyId,
    session: Session = None,
    server: Server = None,
    active: bool | None = None,
    admin: bool | None = None,
    rights: Rights | None = None,
) -> view.ApiKey:
    if session is None and active is None and admin is None and rights is None:
        raise ToolInputError("give what changes: active, admin, session or rights")
    keys = await w.call("ApiKeysController_list")
    w.hide(view.key_values(keys))
    current = next((k for k in keys or [] if isinstance(k, dict) and k.get("id") == keyId), None)
    if current is None:
        raise ToolInputError(f"no API key {keyId} (waha_list_api_keys lists them)")
    # WAHA's PUT replaces the key's settings: what is not given stays as it was.
    is_admin = bool(current.get("isAdmin")) if admin is None else admin
    owner = None if is_admin else session or current.get("session")
    if is_admin and session:
        raise ToolInputError("an admin key works for every session: give no session")
    if not is_admin and not owner:
        raise ToolInputError("a key that is not an admin key needs a session")
    body = {
        "isAdmin": is_admin,
        "isActive": bool(current.get("isActive", True)) if active is None else active,
        "actions": None if is_admin else _rights(rights) if rights is not None else current.get("actions"),
    }
    with w.acting_as(owner):  # the key's session names it in errors (WAHA reads it from the body)
        answer = await w.call("ApiKeysController_update", id=keyId, body=body)
    w.hide(view.key_values(answer))
    return view.api_key(answer if isinstance(answer, dict) else body | {"id": keyId, "session": owner})


@tool(
    "Delete an API key; whatever uses it is locked out.",
    effect=Effect.ADMIN,
    scope="server",
    operations=("ApiKeysController_delete",),
    question="Delete the API key {keyId}? Whatever uses it is locked out at once; it cannot be undone.",
    target="keyId",
)
async def delete_api_key(
    w: Invocation, keyId: KeyId, session: Session = None, server: Server = None
) -> view.ApiKeyDeleted:
    await w.call("ApiKeysController_delete", id=keyId)
    return view.api_key_deleted(keyId)


@tool(
    "A session's apps (chatwoot, calls, mcp), or one by appId.",
    effect=Effect.READ,
    operations=("AppsController_list", "AppsController_get"),
)
async def get_apps(w: Invocation, session: Session = None, appId: AppId | None = None) -> view.AppList:
    if appId is not None:
        answer: Any = [await w.call("AppsController_get", id=appId)]
    else:
        answer = await w.call("AppsController_list")
    found, hidden = view.app_list(answer)
    w.hide(hidden)
    return found


async def _app_question(w: Invocation) -> str:
    args = w.args
    switch = {True: "; switch it on", False: "; switch it off", None: ""}[args.get("enabled")]
    if args.get("appId") is None:
        return f"Add a {args.get('app')} app to session {w.session}{switch}? WAHA runs it for that session's messages."
    what = "merge the config given into it" if args.get("config") else "keep its config"
    return f"Change the app {args['appId']} of session {w.session}: {what}{switch}?"


@tool(
    "Add an app to a session, or change one (appId): its config merges.",
    effect=Effect.ADMIN,
    operations=("AppsController_create", "AppsController_get", "AppsController_update"),
    question=_app_question,
    target="appId",
)
async def set_app(
    w: Invocation,
    session: Session = None,
    appId: AppId | None = None,
    app: AppKind | None = None,
    config: Annotated[dict[str, Any] | None, Field(description="WAHA's config of that app")] = None,
    enabled: bool | None = None,
) -> view.AppInfo:
    if appId is None:
        if app is None or config is None:
            raise ToolInputError("a new app needs app and config (or give appId to change one)")
        body: dict[str, Any] = {"id": f"app_{secrets.token_hex(8)}", "app": app, "config": config}
        body["enabled"] = True if enabled is None else enabled
        answer = await w.call("AppsController_create", body=body)
    else:
        current = await w.call("AppsController_get", id=appId)
        current = current if isinstance(current, dict) else {}
        if current.get("session") and current["session"] != w.session:
            raise ToolInputError(f"app {appId} belongs to session {current['session']}: pass that session")
        if app is not None and app != current.get("app"):
            raise ToolInputError(f"app {appId} is a {current.get('app')} app: delete it and add a {app} app")
        body = {
            "id": appId,
            "app": current.get("app"),
            "config": {**(current.get("config") or {}), **(config or {})},
            "enabled": current.get("enabled", True) if enabled is None else enabled,
        }
        answer = await w.call("AppsController_update", id=appId, body=body)
    info, hidden = view.app_info(answer or body | {"session": w.session})
    w.hide(hidden)
    return info


@tool(
    "Remove an app.",
    effect=Effect.ADMIN,
    scope="server",
    operations=("AppsController_delete",),
    question="Remove the app {appId} from WAHA? What it does for its session stops; its config is gone.",
    target="appId",
)
async def delete_app(w: Invocation, appId: AppId, session: Session = None, server: Server = None) -> view.AppDeleted:
    await w.call("AppsController_delete", id=appId)
    return view.app_deleted(appId)


async def _stop_question(w: Invocation) -> str:
    how = " at once (force)" if w.args.get("force") else ""
    return f"Stop the WAHA server{how}? Every session on it stops, until whatever runs WAHA (Docker) starts it again."


@tool(
    "Stop WAHA (every session); Docker may restart it.",
    effect=Effect.ADMIN,
    scope="server",
    operations=("ServerController_stop",),
    question=_stop_question,
)
async def stop_server(
    w: Invocation, session: Session = None, server: Server = None, force: bool = False
) -> view.ServerStopped:
    answer = await w.call("ServerController_stop", body={"force": force})
    return view.server_stopped(answer, force)
