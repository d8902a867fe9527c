"""Toolsets `sessions` (sessions and pairing) and `server` (server info)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field

from waha_mcp import projections as view
from waha_mcp.client import Binary, EndpointMissing, NotFound, WAHAError
from waha_mcp.errors import NEXT_STEP, PAIR, PAIR_NOW, START, ToolInputError, next_step
from waha_mcp.sessions import validate_session_name
from waha_mcp.tools._common import FetchHost, Phone, Rich, Server, Session, fetch_marker, image_result
from waha_mcp.tools.pipeline import Invocation
from waha_mcp.tools.registry import Effect, tool


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Proxy(_Model):
    server: FetchHost = Field(description="host:port")
    username: str | None = None
    password: str | None = None


class Webhook(_Model):
    url: Annotated[str, fetch_marker]  # WAHA posts to it from inside its network: the fetch rule applies
    events: list[str] = Field(min_length=1, description="WAHA event names, e.g. message, session.status")
    hmacKey: str | None = Field(default=None, description="Signs deliveries with HMAC-SHA512")


class SessionConfig(_Model):
    metadata: dict[str, str] | None = None
    proxy: Proxy | None = None
    webhooks: list[Webhook] | None = None
    debug: bool | None = None


ConfigArg = SessionConfig | None


def _waha_config(config: SessionConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config.metadata is not None:
        out["metadata"] = config.metadata
    if config.proxy is not None:
        out["proxy"] = config.proxy.model_dump(exclude_none=True)
    if config.webhooks is not None:
        out["webhooks"] = [
            {"url": hook.url, "events": hook.events} | ({"hmac": {"key": hook.hmacKey}} if hook.hmacKey else {})
            for hook in config.webhooks
        ]
    if config.debug is not None:
        out["debug"] = config.debug
    return out


@tool(
    "List sessions (accounts) with status.",
    effect=Effect.READ,
    scope="server",
    operations=("SessionsController_list",),
    default="always",
)
async def list_sessions(
    w: Invocation,
    session: Session = None,
    all: bool = True,
) -> view.SessionList:
    listed, unreachable = await w.list_sessions(all)
    return view.session_list(listed, session, w.settings.waha_session, unreachable)


@tool(
    "Get a session's status, account and config.",
    effect=Effect.READ,
    operations=("SessionsController_get",),
    default="always",
)
async def get_session(w: Invocation, session: Session = None) -> view.SessionDetail:
    info = await w.call("SessionsController_get")
    w.app.holds.learn_status(w.acting, info)  # capped or timelocked: pacing holds its sends
    return view.session_detail(info, NEXT_STEP.get(str(info.get("status"))))


@tool(
    "WhatsApp's limits on messaging new chats (timelock, quota), read now (WAHA 2026.8.1+).",
    effect=Effect.READ,
    operations=("SessionsController_getReachoutTimelock", "SessionsController_getMessageCapping"),
    default="sandbox",
)
async def get_send_limits(w: Invocation, session: Session = None) -> view.SendLimits:
    lock = await w.call("SessionsController_getReachoutTimelock")
    capping = await w.call("SessionsController_getMessageCapping")
    name = w.acting
    w.app.holds.learn_timelock(name, lock)  # what WhatsApp says now holds (or frees) the session's sends
    w.app.holds.learn_capping(name, capping)
    return view.send_limits(lock, capping, w.app.holds.active(name))


@tool(
    "Create a session named `name` (or `session`).",
    effect=Effect.LOCAL,
    scope="server",
    operations=("SessionsController_create", "SessionsController_get", "SessionsController_list"),
    default="sandbox",
    session_argument="name",
    target="name",
)
async def create_session(
    w: Invocation,
    session: Session = None,
    name: Annotated[str | None, Field(description="New session name.")] = None,
    start: bool = True,
    config: ConfigArg = None,
    server: Annotated[Server, Field(description="WAHA server to put it on; default: the one with most room.")] = None,
) -> view.SessionCreated:
    if name and session and name != session:
        raise ToolInputError(f"`name` ({name}) and `session` ({session}) differ: give one")
    new = name or session
    if new is not None:
        validate_session_name(new)
    if len(w.servers) > 1:
        server = await _placed(w, new, server)
    body = {"name": new, "start": start, "config": _waha_config(config) if config else None}
    with w.acting_as(new):  # the new name is the session an error should name, although WAHA reads it from the body
        created = await w.call(
            "SessionsController_create", server=server, body={k: v for k, v in body.items() if v is not None}
        )
    if not created and new:
        # An empty 201 is not a session: WAHA Core answers one after a delete and creates nothing. Read it back.
        try:
            with w.acting_as(new):
                created = await w.call("SessionsController_get", server=server)
        except NotFound:
            raise ToolInputError(
                f"WAHA answered with an empty body and did not create session '{new}' (WAHA Core does this "
                "after a delete): create it again with start=true"
            ) from None
    if not isinstance(created, dict) or not created.get("status"):
        raise ToolInputError("WAHA did not say what it created; check with waha_list_sessions")
    status = str(created["status"])
    # A new session starting is about to show its QR (WAHA waits for it): pairing is the step.
    step = PAIR_NOW if status in ("STARTING", "SCAN_QR_CODE") else next_step(status, START)
    if server is not None and isinstance(created.get("name"), str):
        await w.client.record(server, [*w.client.listed.get(server, ()), created["name"]])  # routed there from now on
    return view.session_created(created | ({"server": server} if server else {}), step)


async def _placed(w: Invocation, new: str | None, server: str | None) -> str:
    """Where a new session goes in a fleet: `server` when named, else the server with the most free room
    (capacity minus the sessions it holds, from a fresh list of every server; no capacity is unlimited room).
    Ties go to the server holding fewer sessions, then to the first in WAHA_SERVERS. A name any server
    already holds is refused: creating it elsewhere would make a duplicate."""
    listed, unreachable = await w.list_sessions(True)
    held: dict[str, list[str]] = {name: [] for name in w.servers}
    for row in listed:
        held[row["server"]].append(str(row.get("name")))
    owner = next((name for name, sessions in held.items() if new in sessions), None)
    if owner is not None:
        raise ToolInputError(f"session '{new}' already exists on server '{owner}': use it, or pick another name")
    if server is not None:
        return server
    capacity = w.client.capacity
    room = {name: (capacity[name] or float("inf")) - len(held[name]) for name in w.servers if name not in unreachable}
    fitting = [name for name in room if room[name] > 0]
    if not fitting:
        full = ", ".join(f"{name} {len(held[name])}/{capacity[name]}" for name in room)
        down = "; ".join(f"{name} could not be asked: {why}" for name, why in unreachable.items())
        raise ToolInputError(
            f"no server has room for a new session ({full or 'none answered'}{'; ' + down if down else ''}): "
            "raise a capacity in WAHA_SERVERS_FILE, or name the server"
        )
    order = {name: i for i, name in enumerate(w.servers)}
    return min(fitting, key=lambda name: (-room[name], len(held[name]), order[name]))


@tool(
    "Change parts of a session's config; it restarts.",
    effect=Effect.DESTRUCTIVE,
    operations=("SessionsController_get", "SessionsController_update"),
    default="sandbox",
)
async def update_session_config(w: Invocation, config: SessionConfig, session: Session = None) -> view.SessionUpdated:
    before = await w.call("SessionsController_get")
    current = before.get("config") or {}
    # WAHA's PUT replaces the whole config: merge so unspecified parts (proxy, webhooks...) survive.
    updated = await w.call("SessionsController_update", body={"config": {**current, **_waha_config(config)}})
    # WAHA restarts a running session to apply it; a stopped one stays stopped until started.
    return view.session_updated(updated or {"name": session}, restarted=before.get("status") != "STOPPED")


async def _action(w: Invocation, session: str, action: str) -> view.SessionAction:
    return view.session_action(await w.call(f"SessionsController_{action}"), session, action)


@tool(
    "Start a stopped session.",
    effect=Effect.LOCAL,
    operations=("SessionsController_start", "SessionsController_get"),
    default="always",
)
async def start_session(w: Invocation, session: Session = None) -> view.SessionAction:
    try:
        return await _action(w, w.acting, "start")
    except WAHAError as exc:
        if exc.status != 422 or "already started" not in exc.message:
            raise
    # Starting a started session changes nothing: say where it is and what to do from there instead of failing.
    info = await w.call("SessionsController_get")
    return view.session_action(info, w.acting, "already started", next_step(str(info.get("status")), START))


@tool(
    "Stop a session.",
    effect=Effect.DESTRUCTIVE,
    operations=("SessionsController_stop",),
    default="sandbox",
)
async def stop_session(w: Invocation, session: Session = None) -> view.SessionAction:
    return await _action(w, w.acting, "stop")


@tool(
    "Restart a session.",
    effect=Effect.LOCAL,
    operations=("SessionsController_restart",),
    default="sandbox",
)
async def restart_session(w: Invocation, session: Session = None) -> view.SessionAction:
    return await _action(w, w.acting, "restart")


@tool(
    "Log a session out; it must pair again.",
    effect=Effect.DESTRUCTIVE,
    operations=("SessionsController_logout",),
    default="sandbox",
)
async def logout_session(w: Invocation, session: Session = None) -> view.SessionAction:
    done = await _action(w, w.acting, "logout")
    w.app.lids.forget(w.acting)  # it may pair as another account: its LIDs are another account's
    return done


@tool(
    "Delete a session and its data.",
    effect=Effect.DESTRUCTIVE,
    operations=("SessionsController_delete",),
    default="sandbox",
)
async def delete_session(w: Invocation, session: Session = None) -> view.SessionDeleted:
    await w.call("SessionsController_delete")
    w.app.lids.forget(w.acting)  # a new session of that name is another account
    return view.session_deleted(w.acting)


@tool(
    "The account a session is logged in as.",
    effect=Effect.READ,
    operations=("SessionsController_getMe", "SessionsController_get"),
    default="sandbox",
)
async def get_session_me(w: Invocation, session: Session = None) -> view.Account:
    found = await w.call("SessionsController_getMe")
    if found:
        return view.account(found)
    # Not logged in: what to do depends on where the session is (a FAILED one cannot show a QR).
    status = str((await w.call("SessionsController_get")).get("status"))
    return view.account(None, f"not logged in ({status}): {next_step(status, PAIR)}")


@tool(
    "Pairing QR code as an image.",
    effect=Effect.READ,
    output=view.QrCode,
    operations=("SessionsController_get", "AuthController_getQR"),
    default="always",
)
async def get_qr_code(
    w: Invocation,
    session: Session = None,
    raw: Annotated[bool, Field(description="Add the text value.")] = False,
) -> Rich:
    await _ready_to_pair(w, w.acting, allow_starting=True)
    image = await w.call("AuthController_getQR", query={"format": "image"}, accept="image/png")
    value = await w.call("AuthController_getQR", query={"format": "raw"}) if raw else None
    info = view.qr_code(value, with_value=True) if raw else view.qr_code()
    if not isinstance(image, Binary):
        raise w.no_answer("AuthController_getQR", "a QR image")
    return image_result(image, info)


@tool(
    "Pairing code for a phone number (instead of QR).",
    effect=Effect.LOCAL,
    operations=("SessionsController_get", "AuthController_requestCode"),
    default="always",
)
async def request_pairing_code(
    w: Invocation,
    phoneNumber: Phone,
    session: Session = None,
    method: Literal["sms", "voice"] | None = None,
) -> view.PairingCode:
    # WAHA (NOWEB) never answers this while the session is STARTING: the state is checked first.
    await _ready_to_pair(w, w.acting)
    body = {"phoneNumber": phoneNumber} | ({"method": method} if method else {})
    with anyio.move_on_after(PAIRING_WAIT):
        return view.pairing_code(await w.call("AuthController_requestCode", body=body))
    status = (await w.call("SessionsController_get")).get("status")
    raise ToolInputError(
        f"WAHA gave no pairing code for session '{session}' within {PAIRING_WAIT:g} s (it is {status}): "
        f"{next_step(str(status), PAIR)}; or pair with the QR from waha_get_qr_code"
    )


# The longest a pairing code is waited for: far below the 60 s after which MCP clients give up on a tool.
PAIRING_WAIT = 20.0


async def _ready_to_pair(w: Invocation, session: str, *, allow_starting: bool = False) -> None:
    """Refuse, with the step that fits, a session that cannot pair now. A STARTING one may be let through
    where WAHA itself waits (5 s) for it to reach SCAN_QR_CODE."""
    status = str((await w.call("SessionsController_get")).get("status"))
    if status == "SCAN_QR_CODE" or (allow_starting and status == "STARTING"):
        return
    raise ToolInputError(f"session '{session}' is {status}, not waiting to be paired: {next_step(status, PAIR)}")


class AssertionResponse(_Model):
    clientDataJSON: str
    authenticatorData: str
    signature: str
    userHandle: str | None = None


class PasskeyAssertion(_Model):
    """What navigator.credentials.get(...).toJSON() returns (base64url strings)."""

    id: str
    rawId: str
    type: Literal["public-key"] = "public-key"
    response: AssertionResponse


@tool(
    "Passkey pairing: the challenge to sign, or the code to compare.",
    effect=Effect.READ,
    operations=(
        "SessionsController_get",
        "AuthController_getPasskeyChallenge",
        "AuthController_getPasskeyConfirmation",
    ),
    default="sandbox",
)
async def get_passkey_challenge(w: Invocation, session: Session = None) -> view.PasskeyStep:
    status = str((await w.call("SessionsController_get")).get("status"))
    if status == "PASSKEY_REQUIRED":
        return view.passkey_challenge(await w.call("AuthController_getPasskeyChallenge"))
    if status == "PASSKEY_CONFIRMATION_REQUIRED":
        return view.passkey_confirmation(await w.call("AuthController_getPasskeyConfirmation"))
    raise ToolInputError(f"session '{session}' is {status}, not waiting for a passkey: {next_step(status, PAIR)}")


@tool(
    "Passkey pairing: send the signed assertion, or confirm=true once codes match.",
    effect=Effect.LOCAL,
    operations=("AuthController_submitPasskey", "AuthController_confirmPasskey"),
    default="sandbox",
)
async def submit_passkey(
    w: Invocation, session: Session = None, assertion: PasskeyAssertion | None = None, confirm: bool = False
) -> view.PasskeySent:
    if (assertion is None) == (not confirm):
        raise ToolInputError("give assertion (the signed challenge) or confirm=true, not both")
    if confirm:
        await w.call("AuthController_confirmPasskey")
    else:
        assert assertion is not None
        await w.call("AuthController_submitPasskey", body=assertion.model_dump(exclude_none=True))
    return view.passkey_sent(confirm)


@tool(
    "Screenshot of WhatsApp Web (WEBJS only).",
    effect=Effect.READ,
    output=view.Screenshot,
    operations=("ScreenshotController_screenshot",),
    default="sandbox",
)
async def get_screenshot(w: Invocation, session: Session = None) -> Rich:
    shot = await w.call("ScreenshotController_screenshot", accept="image/jpeg")
    if not isinstance(shot, Binary):
        raise w.no_answer("ScreenshotController_screenshot", "a screenshot")
    return image_result(shot, view.screenshot(shot.data))


@tool(
    "WAHA version, engine, tier, uptime; health and settings on request.",
    effect=Effect.READ,
    scope="server",
    operations=(
        "ServerController_get",
        "ServerController_status",
        "SessionsController_get",
        "HealthController_check",
        "PingController_ping",
        "ServerController_environment",
    ),
    default="always",
    toolset="server",
)
async def get_server_info(
    w: Invocation,
    session: Session = None,
    server: Server = None,
    health: Annotated[bool, Field(description="Run WAHA's health checks.")] = False,
    environment: Annotated[bool, Field(description="WAHA's settings, secrets hidden.")] = False,
) -> view.ServerInfo:
    if server is None and session is None and len(w.servers) > 1:
        # Every server, in parallel: one entry each (a server down is an entry with its error).
        async def one(name: str) -> tuple[str, view.ServerInfo | WAHAError]:
            try:
                return name, await _server_info(w, name, health, environment)
            except WAHAError as exc:
                return name, exc

        return view.fleet_info(list(await asyncio.gather(*(one(name) for name in w.servers))))
    return await _server_info(w, server, health, environment)


async def _server_info(w: Invocation, server: str | None, health: bool, environment: bool) -> view.ServerInfo:
    """One server's answers: `server`, else the one holding the session (the only one without a fleet)."""
    version = await w.call("ServerController_get", server=server)
    # What error advice says about this WAHA, refreshed (for the server it came from).
    w.client.remember_version(version, w.session, server=server or w.server)
    try:
        status = await w.call("ServerController_status", server=server)
    except WAHAError:
        status = None  # older or restricted servers lack /api/server/status; version alone still answers
    info = view.session(await w.call("SessionsController_get")) if w.session else None
    checked = await _health(w, server) if health else None
    settings = None
    if environment:
        # WAHA shows its own API key (and every other credential) in clear here.
        answer = await w.call("ServerController_environment", server=server)
        settings, hidden = view.environment(answer, w.app.secrets.known)
        w.hide(hidden)
    return view.server_info(version, status, info, checked, settings, _needs_newer(w, version))


def _needs_newer(w: Invocation, answer: object) -> list[str]:
    """The routes of the listed tools that came after this WAHA (the supplement's `x-waha-since`): said up front,
    so an agent does not try what this WAHA would refuse."""
    from waha_mcp.client.version import ServerVersion, release_of
    from waha_mcp.openapi import load_spec
    from waha_mcp.tools.registry import select_for

    version = ServerVersion.from_answer(answer)
    if version is None or not version.release:
        return []
    ops = load_spec().by_id
    out = []
    for spec in select_for(w.settings):
        for op in (ops[o] for o in spec.operations if o in ops):
            if op.since and not version.at_least(*release_of(op.since)):
                out.append(f"{spec.name}: {op.method} {op.path} (WAHA {op.since}+)")
    return out


async def _health(w: Invocation, server: str | None) -> view.Health:
    try:
        return view.health(await w.call("HealthController_check", server=server))
    except WAHAError as exc:
        if exc.status == 503 and isinstance(exc.body, dict):
            return view.health(exc.body)  # unhealthy: the answer says which check failed
        if not (isinstance(exc, EndpointMissing) or exc.status in (404, 422)):
            raise
    # No /health on this WAHA (a Plus feature before 2026.6, 422 on Core): ping says it is alive.
    return view.reachable(await w.call("PingController_ping", server=server))
