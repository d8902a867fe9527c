"""WAHA's own administration: API keys (the value shown once, when made), apps, a server stop."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import drop_empty
from waha_mcp.redact import redact_named

KEY_SHOWN_ONCE = "shown once: store it now; waha-mcp hides it from now on"


class KeyRights(TypedDict, total=False):
    read: bool
    send: bool
    control: bool
    setting: bool
    app: bool
    delete: bool


class ApiKey(TypedDict):
    keyId: str
    active: bool
    admin: bool
    session: NotRequired[str]  # the one session a non-admin key works for
    rights: NotRequired[KeyRights]
    server: NotRequired[str]  # the WAHA server it is on: only when several are configured


class ServerDown(TypedDict):
    server: str
    error: str


class ApiKeyList(TypedDict):
    keys: list[ApiKey]
    unreachable: NotRequired[list[ServerDown]]  # servers of the fleet that did not answer


class ApiKeyCreated(ApiKey):
    key: str  # the credential, in this result only
    next: str


class ApiKeyDeleted(TypedDict):
    keyId: str
    deleted: bool


class AppInfo(TypedDict):
    appId: str
    app: str  # chatwoot | calls | mcp
    enabled: bool
    session: NotRequired[str]
    config: NotRequired[dict[str, Any]]  # credential-named settings hidden


class AppList(TypedDict):
    apps: list[AppInfo]


class AppDeleted(TypedDict):
    appId: str
    deleted: bool


class ServerStopped(TypedDict):
    stopping: bool
    force: bool
    next: str


def key_values(answer: Any) -> list[str]:
    """The credentials in an `ApiKeyDTO` or a list of them (to hide them from every later output)."""
    items = answer if isinstance(answer, list) else [answer]
    return [str(item["key"]) for item in items if isinstance(item, dict) and item.get("key")]


def api_key(dto: Any) -> ApiKey:
    dto = dto if isinstance(dto, dict) else {}
    rights = dto.get("actions") if isinstance(dto.get("actions"), dict) else None
    out = {
        "keyId": str(dto.get("id") or ""),
        "active": bool(dto.get("isActive", True)),
        "admin": bool(dto.get("isAdmin", False)),
        "session": dto.get("session"),
        "rights": {k: bool(v) for k, v in rights.items() if k in KeyRights.__annotations__} if rights else None,
        "server": dto.get("server"),
    }
    return cast(ApiKey, drop_empty(out))


def api_key_list(answer: Any, session: str | None = None, unreachable: dict[str, str] | None = None) -> ApiKeyList:
    keys = [api_key(item) for item in (answer if isinstance(answer, list) else []) if isinstance(item, dict)]
    if session:
        keys = [key for key in keys if key.get("session") == session]
    out: ApiKeyList = {"keys": keys}
    if unreachable:
        out["unreachable"] = [{"server": name, "error": why} for name, why in unreachable.items()]
    return out


def api_key_created(dto: Any) -> ApiKeyCreated:
    value = dto.get("key") if isinstance(dto, dict) else None
    return cast(ApiKeyCreated, api_key(dto) | {"key": str(value or ""), "next": KEY_SHOWN_ONCE})


def api_key_deleted(key_id: str) -> ApiKeyDeleted:
    return {"keyId": key_id, "deleted": True}


def app_info(app: Any) -> tuple[AppInfo, list[str]]:
    """An `App`, its credential-named settings hidden; also returns the hidden values."""
    app = app if isinstance(app, dict) else {}
    config, hidden = redact_named(app.get("config") or {})
    out = {
        "appId": str(app.get("id") or ""),
        "app": str(app.get("app") or ""),
        "enabled": app.get("enabled") is not False,
        "session": app.get("session"),
        "config": config,
    }
    return cast(AppInfo, drop_empty(out) | {"enabled": out["enabled"]}), hidden


def app_list(answer: Any) -> tuple[AppList, list[str]]:
    apps, hidden = [], []
    for item in answer if isinstance(answer, list) else []:
        info, found = app_info(item)
        apps.append(info)
        hidden += found
    return {"apps": apps}, hidden


def app_deleted(app_id: str) -> AppDeleted:
    return {"appId": app_id, "deleted": True}


def server_stopped(answer: Any, force: bool) -> ServerStopped:
    stopping = bool(answer.get("stopping", True)) if isinstance(answer, dict) else True
    mode: Literal["forced", "graceful"] = "forced" if force else "graceful"
    return {
        "stopping": stopping,
        "force": force,
        "next": f"{mode} stop: WAHA is back only if something restarts it (Docker's restart policy); "
        "check with waha_get_server_info",
    }
