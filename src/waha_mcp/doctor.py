"""`waha-mcp doctor`: a verdict per line on the WAHA (or every WAHA of a fleet) this configuration points at."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from waha_mcp.client import ServerVersion, WAHAClient, WAHAError
from waha_mcp.config import Settings, is_loopback
from waha_mcp.errors import one_line
from waha_mcp.events import versions
from waha_mcp.events.webhook import waha_signs
from waha_mcp.events.ws import ws_url
from waha_mcp.redact import Redactor
from waha_mcp.servers import SINGLE


def check_store(settings: Settings, line: Any) -> None:
    """Open the store as `serve` would (a SQLite file is created if missing): where it is, its schema."""
    from waha_mcp.store import MEMORY, StoreError, open_store

    setting = settings.store or (MEMORY if settings.sandbox else None)
    try:
        store = open_store(setting)
    except StoreError as exc:
        line(False, "store", str(exc))
        return
    try:
        line(True, "store", f"{store.shown} (schema version {store.version})")
    finally:
        store.close()


@dataclass(frozen=True)
class Target:
    """One WAHA to check: a configured server, or the built-in sandbox standing in for one."""

    name: str
    url: str
    shown: str
    api_key: str | None
    capacity: int | None = None
    transport: Any = None


def targets(settings: Settings, transport: Any = None, transports: dict[str, Any] | None = None) -> list[Target]:
    stand_ins = dict(transports or {})
    servers = settings.servers
    if transport is not None and len(servers) <= 1:
        stand_ins[servers[0].name if servers else SINGLE] = transport
    if not servers:  # the one-server sandbox
        return [Target(SINGLE, "http://sandbox", "http://sandbox", settings.api_key, None, stand_ins.get(SINGLE))]
    return [Target(s.name, s.url, s.shown, s.api_key, s.capacity, stand_ins.get(s.name)) for s in servers]


async def run_doctor(settings: Settings, transport: Any = None, transports: dict[str, Any] | None = None) -> int:
    """Every check, a verdict per line; each WAHA server of a fleet checked in turn, its lines naming it, one
    server down or refusing the key never hiding the others' results. 1 when any line failed."""
    failures = 0
    # WAHA's (or a proxy's) error text is printed: it may quote the key back.
    clean = Redactor(
        [
            settings.api_key,
            settings.hmac_key,
            settings.path_secret,
            settings.store_password,
            settings.waha_password,
            *settings.server_secrets,
        ]
    ).text
    fleet = targets(settings, transport, transports)
    several = len(fleet) > 1

    def line(ok: bool | None, what: str, detail: str, server: str | None = None) -> None:
        nonlocal failures
        mark = {True: "ok  ", False: "FAIL", None: "warn"}[ok]
        failures += ok is False
        named = f"[{server}] " if several and server else ""
        print(f"{mark} {what:10} {one_line(named + detail, limit=300, clean=clean)}")

    if settings.sandbox:
        where = "built-in sandbox (emulator, not WhatsApp)"
        if several:
            where = f"built-in sandbox playing {len(fleet)} WAHA servers (emulators, not WhatsApp)"
        line(None, "target", where)
    elif several:
        line(True, "target", f"{len(fleet)} WAHA servers: " + ", ".join(f"{t.name} {t.shown}" for t in fleet))
    else:
        line(True, "target", fleet[0].shown)
    if not several:
        target = fleet[0]
        if target.api_key:
            line(True, "api key", "set (not shown)")
        else:
            loopback = settings.sandbox or is_loopback(urlsplit(target.url).hostname or "")
            line(True if loopback else None, "api key", "not set")
    transcription(settings, line)
    check_store(settings, line)
    found: dict[str, list[str]] = {}  # session name → the servers listing it
    broken: list[str] = []
    try:
        for target in fleet:
            before = failures
            sessions = await check_server(settings, target, functools.partial(_named, line, target.name), several)
            if failures > before:
                broken.append(target.name)
            for info in sessions or []:
                found.setdefault(str(info.get("name")), []).append(target.name)
        for name, holders in found.items():
            if len(holders) > 1:
                line(False, "duplicate", f"session {name} is on servers {' and '.join(holders)}: calls for it are "
                     "refused until it is deleted from all but one")  # fmt: skip
        default = settings.waha_session
        if default:
            holders = found.get(default, [])
            on = f" (on {holders[0]})" if several and len(holders) == 1 else ""
            missing = "" if holders else (" exists on no server" if several else " does not exist")
            line(len(holders) == 1, "default", f"WAHA_SESSION={default}{on}{missing}")
        else:
            line(None, "default", "WAHA_SESSION unset: every tool call must name its session")
        if several:
            if broken:
                line(False, "servers", f"{len(broken)} of {len(fleet)} need attention: {', '.join(broken)} (see above)")
            else:
                line(True, "servers", f"all {len(fleet)} answered")
    finally:
        sys.stdout.flush()
    return 1 if failures else 0


def _named(line: Any, server: str, ok: bool | None, what: str, detail: str) -> None:
    line(ok, what, detail, server)


async def check_server(settings: Settings, target: Target, line: Any, several: bool) -> list[dict[str, Any]] | None:
    """One WAHA's lines: reachable, version and tier, key, events, webhooks, its sessions. None when it could not
    be listed (the server's failure is said; the next server is checked all the same)."""
    client = WAHAClient(
        target.url,
        target.api_key,
        timeout=settings.waha_timeout,
        transport=target.transport,
        max_response_bytes=settings.max_response_bytes,
    )
    try:
        try:
            await client.ping()
            line(True, "reachable", f"GET /ping answered{f' at {target.shown}' if several else ''}")
        except WAHAError as exc:
            if 400 <= exc.status < 500 and exc.status != 401:
                # Every WAHA answers GET /ping: whatever answered this is something else (or WAHA under a path).
                why = f"{exc.message} on GET /ping: not WAHA at this URL; check WAHA_BASE_URL"
                line(False, "reachable", _advice(settings, target, why))
            else:
                line(False, "reachable", _advice(settings, target, exc.message))
            return None
        known = None
        try:
            version = await client.get_version()
            known = ServerVersion.from_answer(version)
            if known is None:
                line(None, "version", "WAHA's answer names no version")
            else:
                line(True, "version", f"{known.version} tier={known.tier} engine={known.engine}")
            if "sandbox" in str(version).lower() and not (settings.sandbox and several):
                line(None, "sandbox", "this WAHA is the waha-mcp emulator: nothing reaches WhatsApp")
        except WAHAError as exc:
            line(None, "version", _advice(settings, target, exc.message))
        try:
            sessions = await client.list_sessions(all=True)
        except WAHAError as exc:
            line(False, "key", _advice(settings, target, exc.message))
            return None
        if known is not None and not known.checks_keys:
            # It answers with any key or none: "accepted" would promise a protection that is not there.
            line(
                None,
                "key",
                f"WAHA {known.label} does not check API keys (Core before 2026.6): anyone who can reach it can use it",
            )
        else:
            line(True, "key", "accepted" if target.api_key else "not required")
        await check_events(settings, target, known, line)
        ok, detail = webhook_verdict(settings, known)
        if detail:
            line(ok, "webhooks", detail)
        if not sessions:
            line(None, "sessions", "none: create one with waha_create_session")
        elif target.capacity is not None and len(sessions) > target.capacity:
            line(None, "capacity", f"{len(sessions)} sessions, over its capacity of {target.capacity}")
        for info in sessions:
            status = info.get("status")
            me = (info.get("me") or {}).get("id") or "not paired"
            line(True if status == "WORKING" else None, "session", f"{info.get('name')}: {status} ({me})")
        return sessions
    finally:
        await client.aclose()


def _advice(settings: Settings, target: Target, message: str) -> str:
    """The client's advice names the one-server settings; in a fleet, where this server's URL and key are set."""
    if settings.waha_servers_file:
        message = message.replace(
            "WAHA_API_KEY", f"api_key of [{target.name}] in WAHA_SERVERS_FILE (else WAHA_API_KEY)"
        )
        return message.replace("WAHA_BASE_URL", f"url of [{target.name}] in WAHA_SERVERS_FILE")
    if settings.waha_servers:
        return message.replace("WAHA_BASE_URL", f"{target.name}= in WAHA_SERVERS")
    return message


async def check_events(settings: Settings, target: Target, known: ServerVersion | None, line: Any) -> None:
    """WAHA_MCP_EVENTS=ws: the stream is opened once with this server's key (a proxy that drops WebSocket upgrades,
    or a key /ws refuses, would leave the inbox silent); a WAHA whose /ws carries no messages is said."""
    if settings.events != "ws":
        return
    if known is not None and not versions.ws_streams_messages(known):
        line(None, "events", versions.messages_need_webhooks(known))
    if target.transport is not None:
        return  # a stand-in (the built-in sandbox) has no socket: its events reach the inbox in process
    import websockets

    try:
        async with websockets.connect(
            ws_url(target.url, target.api_key),
            additional_headers={"X-Api-Key": target.api_key} if target.api_key else {},
            open_timeout=min(settings.waha_timeout, 10),
        ):
            pass
        line(True, "events", "WebSocket /ws opened")
    except websockets.InvalidStatus as exc:
        line(False, "events", f"WebSocket /ws refused ({exc.response.status_code}): no events from this server; "
             "check its key, or set WAHA_MCP_EVENTS=webhook")  # fmt: skip
    except (OSError, TimeoutError, websockets.WebSocketException) as exc:
        line(False, "events", f"WebSocket /ws failed ({type(exc).__name__}): no events from this server; a proxy "
             "in front of WAHA must pass WebSocket upgrades (or set WAHA_MCP_EVENTS=webhook)")  # fmt: skip


def transcription(settings: Settings, line: Any) -> None:
    """Where voice notes' audio goes (WAHA_MCP_TRANSCRIBE), and whether the local engine can run here."""
    if settings.transcribe == "off":
        return
    if settings.transcribe == "openai":
        key = "key set (not shown)" if settings.transcribe_key else "no key"
        line(True, "transcribe", f"voice notes' audio is sent to {settings.transcribe_url} ({key})")
        return
    import importlib.util
    from pathlib import Path

    model = settings.transcribe_model or "base"
    if importlib.util.find_spec("faster_whisper") is None:
        line(
            False,
            "transcribe",
            "WAHA_MCP_TRANSCRIBE=local needs the transcribe extra: pip install 'waha-mcp[transcribe]'",
        )
    elif Path(model).expanduser().is_dir():
        line(True, "transcribe", f"local model {model}: audio stays in this process")
    else:
        line(None, "transcribe", f"local model {model!r} is not a directory: faster-whisper fetches it at first use")


# Which WAHA signs webhooks (`waha_signs` has the sources): said wherever a verdict depends on it.
WHO_SIGNS = "WAHA Plus signs webhooks, and Core from 2026.1; Core 2024.x cannot"


def webhook_verdict(settings: Settings, known: ServerVersion | None) -> tuple[bool | None, str]:
    """How WAHA's webhook deliveries will be authenticated here: (ok, warn or fail as None/False, one line); no line
    when webhooks are not in use. No secret is ever part of it."""
    key, secret = settings.hmac_key, settings.path_secret
    if settings.events != "webhook":
        if settings.webhook_port is not None or secret or key or settings.webhook_url or settings.webhook_sessions:
            return (
                None,
                f"WAHA_MCP_EVENTS={settings.events}: no webhook route (webhook settings unused); set "
                "WAHA_MCP_EVENTS=webhook to receive webhooks",
            )
        return None, ""
    label = f"WAHA {known.label}" if known else "this WAHA"
    signs = waha_signs(known.tier, known.release) if known else None
    if secret:
        also = " and HMAC signatures (either authenticates)" if key else ""
        return True, f"secret path (not shown) in the URL waha_configure_webhooks gives WAHA{also}"
    if key:
        if signs is False:
            return (
                False,
                f"{label} does not sign webhooks ({WHO_SIGNS}): every delivery would be refused; "
                "set WAHA_MCP_WEBHOOK_SECRET (a secret path) instead",
            )
        if signs is None:
            return (
                None,
                f"not known whether {label} signs webhooks ({WHO_SIGNS}); if deliveries are refused "
                "(401), set WAHA_MCP_WEBHOOK_SECRET",
            )
        return True, f"HMAC-SHA512 signatures checked ({label} signs)"
    loopback = is_loopback(settings.http_host) and is_loopback(settings.webhook_host)
    if not loopback:
        return (
            False,
            "no delivery will be taken: a public bind needs WAHA_MCP_WEBHOOK_SECRET (a secret path, for "
            f"a WAHA that cannot sign) or WAHA_MCP_WEBHOOK_HMAC_KEY ({WHO_SIGNS})",
        )
    return (
        None,
        "unauthenticated: deliveries taken only from this machine (loopback bind, JSON, no browser); set "
        "WAHA_MCP_WEBHOOK_SECRET so the path WAHA posts to authenticates them",
    )
