"""`waha-mcp doctor`: a verdict per line on the WAHA this configuration points at."""

from __future__ import annotations

import sys
from typing import Any

from waha_mcp.client import ServerVersion, WAHAClient, WAHAError
from waha_mcp.config import Settings, is_loopback
from waha_mcp.errors import one_line
from waha_mcp.events import versions
from waha_mcp.events.webhook import waha_signs
from waha_mcp.redact import Redactor


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


async def run_doctor(settings: Settings, transport: Any = None) -> int:
    client = WAHAClient(
        settings.waha_base_url or "http://sandbox",
        settings.api_key,
        timeout=settings.waha_timeout,
        transport=transport,
        max_response_bytes=settings.max_response_bytes,
    )
    failures = 0
    # WAHA's (or a proxy's) error text is printed: it may quote the key back.
    clean = Redactor([settings.api_key, settings.hmac_key, settings.path_secret, settings.store_password]).text

    def line(ok: bool | None, what: str, detail: str) -> None:
        nonlocal failures
        mark = {True: "ok  ", False: "FAIL", None: "warn"}[ok]
        failures += ok is False
        print(f"{mark} {what:10} {one_line(detail, limit=300, clean=clean)}")

    where = "built-in sandbox (emulator, not WhatsApp)" if settings.sandbox else settings.waha_url_shown
    line(None if settings.sandbox else True, "target", str(where))
    if settings.api_key:
        line(True, "api key", "set (not shown)")
    else:
        line(True if settings.base_url_is_loopback or settings.sandbox else None, "api key", "not set")
    transcription(settings, line)
    check_store(settings, line)
    try:
        try:
            await client.ping()
            line(True, "reachable", "GET /ping answered")
        except WAHAError as exc:
            if 400 <= exc.status < 500 and exc.status != 401:
                # Every WAHA answers GET /ping: whatever answered this is something else (or WAHA under a path).
                line(False, "reachable", f"{exc.message} on GET /ping: not WAHA at this URL; check WAHA_BASE_URL")
            else:
                line(False, "reachable", exc.message)
            return 1
        known = None
        try:
            version = await client.get_version()
            known = ServerVersion.from_answer(version)
            if known is None:
                line(None, "version", "WAHA's answer names no version")
            else:
                line(True, "version", f"{known.version} tier={known.tier} engine={known.engine}")
            if "sandbox" in str(version).lower():
                line(None, "sandbox", "this WAHA is the waha-mcp emulator: nothing reaches WhatsApp")
        except WAHAError as exc:
            line(None, "version", exc.message)
        try:
            sessions = await client.list_sessions(all=True)
        except WAHAError as exc:
            line(False, "key", exc.message)
            return 1
        if known is not None and not known.checks_keys:
            # It answers with any key or none: "accepted" would promise a protection that is not there.
            line(
                None,
                "key",
                f"WAHA {known.label} does not check API keys (Core before 2026.6): anyone who can reach it can use it",
            )
        else:
            line(True, "key", "accepted" if settings.api_key else "not required")
        if settings.events == "ws" and known is not None and not versions.ws_streams_messages(known):
            line(None, "events", versions.messages_need_webhooks(known))
        ok, detail = webhook_verdict(settings, known)
        if detail:
            line(ok, "webhooks", detail)
        if not sessions:
            line(None, "sessions", "none: create one with waha_create_session")
        for info in sessions:
            status = info.get("status")
            me = (info.get("me") or {}).get("id") or "not paired"
            line(True if status == "WORKING" else None, "session", f"{info.get('name')}: {status} ({me})")
        default = settings.waha_session
        if default:
            names = {info.get("name") for info in sessions}
            line(
                default in names, "default", f"WAHA_SESSION={default}" + ("" if default in names else " does not exist")
            )
        else:
            line(None, "default", "WAHA_SESSION unset: every tool call must name its session")
    finally:
        await client.aclose()
        sys.stdout.flush()
    return 1 if failures else 0


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
