"""🖥️ Sessions: list, create, get, update, delete, me, start, stop, logout, restart."""

from __future__ import annotations

import secrets
from typing import Any

from .. import errors
from ..profiles import CORE_ONLY_DEFAULT
from ..registry import Ctx, route
from ..state import RUNNING, STOPPED, WORKING


def check_webhook_events(sb: Any, config: Any) -> None:
    """A profile with its own event list (Core 2024.10) refuses a config naming any other event, `*` too: its
    ValidationPipe's 400, one message per webhook, NestJS's nested-path prefix before class-validator's
    `each value in events must be one of the following values: ...` (the exact wording is reconstructed from
    class-validator's IsEnum/each message, not captured from a real server)."""
    names = sb.profile.webhook_events
    hooks = config.get("webhooks") if isinstance(config, dict) else None
    if names is None or not isinstance(hooks, list):
        return
    problems = [
        f"config.webhooks.{n}.each value in events must be one of the following values: {', '.join(names)}"
        for n, hook in enumerate(hooks)
        if isinstance(hook, dict) and any(e not in names for e in hook.get("events") or [])
    ]
    if problems:
        raise errors.bad_request(problems)


def answer(ctx: Ctx, session: Any) -> dict[str, Any]:
    """What a lifecycle call answers: `SessionDTO`, or on a `lifecycle_info` profile (Core 2024.10) the session
    info with `engine` (src/core/manager.core.ts `getSessionInfo`)."""
    profile = ctx.sandbox.profile
    if not profile.lifecycle_info:
        return dict(session.dto())
    return detailed(ctx, session)


def with_apps(ctx: Ctx, session: Any, info: dict[str, Any]) -> dict[str, Any]:
    """`?expand=apps`: the apps given at create and those added by `POST /api/apps` for this session."""
    if "apps" in info:
        added = [a for a in ctx.sandbox.model.apps.values() if a.get("session") == session.name]
        known = {a.get("id") for a in info["apps"] if isinstance(a, dict)}
        info = {**info, "apps": [*info["apps"], *(a for a in added if a.get("id") not in known)]}
    return info


def detailed(ctx: Ctx, session: Any, expand_apps: bool = False) -> dict[str, Any]:
    profile = ctx.sandbox.profile
    info = with_apps(ctx, session, profile.session_info(session.info(expand_apps)))
    if profile.lifecycle_info:
        info["engine"] = {} if session.status == STOPPED else {"engine": profile.engine}
    return dict(info)


@route("SessionsController_list")
async def list_sessions(ctx: Ctx) -> list[dict[str, Any]]:
    show_all = ctx.q_bool("all", False)
    expand = "apps" in ctx.q_list("expand")
    out = []
    for name in list(ctx.sandbox.sessions):
        session = ctx.sandbox.get_session(name)
        if session is not None and (show_all or session.status != STOPPED):
            out.append(with_apps(ctx, session, ctx.sandbox.profile.session_info(session.info(expand))))
    return out


@route("SessionsController_create")
async def create(ctx: Ctx) -> dict[str, Any] | None:
    sb = ctx.sandbox
    body = ctx.body or {}
    check_webhook_events(sb, body.get("config"))  # the ValidationPipe runs before the handler's own checks
    name = body.get("name") or ("default" if sb.profile.only_default else f"session_{secrets.token_hex(8)}")
    if not sb.valid_name(name):
        raise errors.bad_request(["name must be 1-54 characters: letters, digits, hyphens and underscores only"])
    if sb.profile.only_default and name != "default":
        raise errors.nest(422, CORE_ONLY_DEFAULT)
    if name in sb.sessions:
        raise errors.nest(422, f"Session '{name}' already exists. Use PUT to update it.")
    start = body["start"] is not False if "start" in body else sb.profile.create_starts_by_default
    if not start and sb.profile.empty_create_after_delete and name in sb.model.deleted:
        return None  # Core 2024.10: 201 with an empty body, and nothing is created (GET stays 404)
    session = sb.new_session(name, body.get("config"), body.get("apps"), start)
    return session.dto()


@route("SessionsController_get")
async def get(ctx: Ctx) -> dict[str, Any]:
    if ctx.sandbox.profile.only_default and ctx.session_name != "default":
        raise errors.session_not_found()  # Core's manager knows no other name (see Profile.lifecycle_info)
    return detailed(ctx, ctx.known_session(), "apps" in ctx.q_list("expand"))


@route("SessionsController_update")
async def update(ctx: Ctx) -> dict[str, Any]:
    session = ctx.known_session()
    body = ctx.body or {}
    check_webhook_events(ctx.sandbox, body.get("config"))
    # WAHA replaces the whole config (fields left out are gone) and restarts a running session.
    session.config = body.get("config") or {}
    if "apps" in body:
        session.apps = body.get("apps")
    if session.status in RUNNING:
        await ctx.sandbox.pause(ctx.sandbox.profile.timing.lifecycle)
        session.start(ctx.sandbox.seq)
    return session.dto()


@route("SessionsController_delete")
async def delete(ctx: Ctx) -> None:
    sb = ctx.sandbox
    if sb.profile.idempotent_delete and sb.get_session(ctx.session_name) is None:
        ctx.core_rules()
        return None  # Core: deleting what is not there succeeds, empty
    session = ctx.known_session()
    if session.status in RUNNING:
        await sb.pause(sb.profile.timing.lifecycle)
    sb.sessions.pop(session.name, None)
    sb.model.deleted.add(session.name)


@route("SessionsController_getMe")
async def me(ctx: Ctx) -> dict[str, Any] | None:
    session = await ctx.running_session()
    # Not logged in yet: WAHA answers 200 with an empty body.
    return session.me if session.status == WORKING else None


@route("SessionsController_start")
async def start(ctx: Ctx) -> dict[str, Any]:
    session = ctx.known_session()
    if session.status != STOPPED:
        raise errors.nest(422, f"Session '{session.name}' is already started.")
    session.start(ctx.sandbox.seq)
    return answer(ctx, session)


@route("SessionsController_stop")
async def stop(ctx: Ctx) -> dict[str, Any] | None:
    ctx.core_rules()
    session = ctx.sandbox.get_session(ctx.session_name)
    if session is None:
        return None  # stopping a removed session succeeds with an empty body
    if session.status in RUNNING:
        await ctx.sandbox.pause(ctx.sandbox.profile.timing.lifecycle)
    session.stop()
    return answer(ctx, session)


@route("SessionsController_logout")
async def logout(ctx: Ctx) -> dict[str, Any]:
    session = ctx.known_session()
    session.logout(ctx.sandbox.seq)
    return answer(ctx, session)


@route("SessionsController_restart")
async def restart(ctx: Ctx) -> dict[str, Any]:
    session = ctx.known_session()
    if session.status in RUNNING:
        await ctx.sandbox.pause(ctx.sandbox.profile.timing.lifecycle)
    session.start(ctx.sandbox.seq)
    return answer(ctx, session)
