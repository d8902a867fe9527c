"""Sessions (accounts) and pairing: status, the account a session is, its redacted config."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.projections.common import Time, drop_empty, iso, unix_time
from waha_mcp.redact import REDACTED, redact_named


class Me(TypedDict):
    id: str
    name: NotRequired[str]
    lid: NotRequired[str]


class ReachoutTimelock(TypedDict):
    """WhatsApp's reach-out limit (error 463), shown only while it holds."""

    effect: str
    untilTime: NotRequired[Time]
    enforcement: NotRequired[str]  # WhatsApp's enforcementType


class MessageCapping(TypedDict):
    """WhatsApp's quota of messages to new chats per cycle (error 475 once CAPPED); shown once it warns."""

    status: str  # FIRST_WARNING, SECOND_WARNING, CAPPED (WhatsApp's cappingStatus; an open set)
    used: NotRequired[int]
    total: NotRequired[int]
    cycleEndTime: NotRequired[Time]
    effect: NotRequired[str]  # while CAPPED


class _Session(TypedDict):
    name: NotRequired[str]
    me: NotRequired[Me]
    status: str  # WAHA's status, or "unknown"


class SessionInfo(_Session):
    reachoutTimelock: NotRequired[ReachoutTimelock]
    messageCapping: NotRequired[MessageCapping]


class SessionDetail(SessionInfo):
    config: NotRequired[dict[str, Any]]
    activeTime: NotRequired[Time]
    next: NotRequired[str]


class SessionUpdated(SessionInfo):
    config: NotRequired[dict[str, Any]]
    activeTime: NotRequired[Time]
    restarted: bool


class SessionCreated(_Session):  # a new session has no timelock yet
    next: str
    server: NotRequired[str]  # where a fleet (WAHA_SERVERS) placed it


class SessionAction(TypedDict):
    name: str
    me: NotRequired[Me]
    status: NotRequired[str]
    done: str  # the action, or "already started"
    next: NotRequired[str]  # what to do from here, when the action changed nothing


class SessionDeleted(TypedDict):
    name: str
    deleted: bool


class Unreachable(TypedDict):
    server: str
    error: str


class ListedSession(SessionInfo):
    server: NotRequired[str]  # the WAHA server holding it: only when several are configured (WAHA_SERVERS)


class SessionList(TypedDict):
    sessions: list[ListedSession]
    default: str | None
    # Servers of the fleet that did not answer: their sessions are missing from `sessions`, not gone.
    unreachable: NotRequired[list[Unreachable]]


class Account(TypedDict):
    me: Me | None
    next: NotRequired[str]


class QrCode(TypedDict):
    next: str
    value: NotRequired[str | None]


class PairingCode(TypedDict):
    code: str | None
    next: str


class PasskeyStep(TypedDict):
    step: str  # sign (a WebAuthn challenge) | confirm (compare a code with the phone)
    publicKey: NotRequired[dict[str, Any]]  # for navigator.credentials.get({publicKey}) on web.whatsapp.com
    code: NotRequired[str]
    next: str


class PasskeySent(TypedDict):
    done: str  # submitted | confirmed
    next: str


class Screenshot(TypedDict):
    bytes: int


def redact_config(config: Any) -> Any:
    """Session config with every credential-named field (a proxy password, a webhook's HMAC key, a token in
    metadata: redact.secret_named) and custom header values hidden."""
    if not isinstance(config, dict):
        return config
    out, _ = redact_named(config)
    for hook in out.get("webhooks") or []:
        if not isinstance(hook, dict):
            continue
        for header in hook.get("customHeaders") or []:
            if isinstance(header, dict) and "value" in header:
                header["value"] = REDACTED
    return drop_empty(out)


def me(info: Any) -> Me | None:
    if not isinstance(info, dict) or not info.get("id"):
        return None
    return cast(Me, drop_empty({"id": info.get("id"), "name": info.get("pushName"), "lid": info.get("lid")}))


REACHOUT_EFFECT = "may not message new contacts (WhatsApp error 463); existing chats still work"


def _end_time(value: Any) -> float | None:
    """`timeEnforcementEnds` as unix seconds: WAHA may give seconds, milliseconds, a digit string or ISO 8601."""
    stamp = unix_time(value)
    if stamp is not None:
        return stamp / 1000 if stamp > 1e11 else stamp
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.timestamp() if parsed.tzinfo else None
    return None


def reachout_timelock(info: Any) -> ReachoutTimelock | None:
    """The session's active reach-out timelock, or None when there is none, it is not active, or its end has
    passed. WAHA 2026.7.2+ puts it in the session's `me.reachoutTimelock` (sessions.dto.ts MeInfo) and in
    `session.status` events' `data.reachoutTimelock` (the WAHA 2026.7 blog post); `GET .../timelock` (2026.8.1)
    answers it bare."""
    lock = None
    if isinstance(info, dict):
        me, data = info.get("me"), info.get("data")
        lock = (me.get("reachoutTimelock") if isinstance(me, dict) else None) or (
            data.get("reachoutTimelock") if isinstance(data, dict) else None
        )
        lock = info if lock is None and "isActive" in info else lock
    if not isinstance(lock, dict) or lock.get("isActive") is not True:
        return None
    ends = _end_time(lock.get("timeEnforcementEnds"))
    if ends is not None and ends <= time.time():
        return None
    kind = lock.get("enforcementType")
    out = {"effect": REACHOUT_EFFECT, "untilTime": iso(ends), "enforcement": kind if isinstance(kind, str) else None}
    return cast(ReachoutTimelock, drop_empty(out))


CAPPED_EFFECT = "may not message new chats until the cycle ends (WhatsApp error 475); existing chats still work"


def message_capping(info: Any, quiet: bool = True) -> MessageCapping | None:
    """WhatsApp's new-chat quota from `me.messageCapping` (WAHA 2026.8.1+), or the bare `GET .../capping` answer.

    `quiet`: None while WhatsApp does not warn (NONE, or no cap), which is nearly always.
    """
    capping = info
    if isinstance(info, dict) and isinstance(info.get("me"), dict):
        capping = info["me"].get("messageCapping")
    if not isinstance(capping, dict) or not isinstance(capping.get("cappingStatus"), str):
        return None
    status = capping["cappingStatus"]
    if quiet and status == "NONE":
        return None
    total = capping.get("totalQuota")
    used = capping.get("usedQuota")
    out = {
        "status": status,
        "used": used if isinstance(used, int) else None,
        "total": total if isinstance(total, int) and total >= 0 else None,  # -1: no cap
        "cycleEndTime": iso(_end_time(capping.get("cycleEnd"))),
        "effect": CAPPED_EFFECT if status == "CAPPED" else None,
    }
    return cast(MessageCapping, drop_empty(out))


def session(info: dict[str, Any]) -> SessionInfo:
    out = drop_empty({"name": info.get("name"), "me": me(info.get("me"))})
    # status stays even when WAHA leaves it out: "unknown" tells more than a missing key.
    out |= {"status": info.get("status") or "unknown"}
    limits = {"reachoutTimelock": reachout_timelock(info), "messageCapping": message_capping(info)}
    return cast(SessionInfo, out | drop_empty(limits) | drop_empty({"server": info.get("server")}))


def _configured(info: dict[str, Any]) -> dict[str, Any]:
    out = drop_empty(
        {
            "name": info.get("name"),
            "me": me(info.get("me")),
            "config": redact_config(info.get("config")),
            "activeTime": iso((info.get("timestamps") or {}).get("activity")),
            "reachoutTimelock": reachout_timelock(info),
            "messageCapping": message_capping(info),
        }
    )
    return out | {"status": info.get("status") or "unknown"}


def session_detail(info: dict[str, Any], next_step: str | None) -> SessionDetail:
    return cast(SessionDetail, _configured(info) | ({"next": next_step} if next_step else {}))


def session_updated(info: dict[str, Any], restarted: bool) -> SessionUpdated:
    """`restarted`: WAHA restarts a running session on update; a STOPPED one stays stopped."""
    return cast(SessionUpdated, _configured(info) | {"restarted": restarted})


def session_created(info: dict[str, Any], next_step: str) -> SessionCreated:
    return cast(SessionCreated, session(info) | {"next": next_step})


def session_action(info: Any, name: str, done: str, next_step: str | None = None) -> SessionAction:
    """After start/stop/restart/logout: the session as WAHA answered, or just its name."""
    out = session(info) if isinstance(info, dict) and info.get("name") else {"name": name}
    return cast(SessionAction, out | {"done": done} | ({"next": next_step} if next_step else {}))


def session_deleted(name: str) -> SessionDeleted:
    return {"name": name, "deleted": True}


def session_list(
    sessions: list[Any], only: str | None, default: str | None, unreachable: dict[str, str] | None = None
) -> SessionList:
    items = [cast(ListedSession, session(s)) for s in sessions if isinstance(s, dict)]
    if only:
        items = [s for s in items if s.get("name") == only]
    out: SessionList = {"sessions": items, "default": default}
    if unreachable:
        out["unreachable"] = [{"server": name, "error": why} for name, why in unreachable.items()]
    return out


def account(info: Any, not_logged_in: str = "not logged in: pair with waha_get_qr_code") -> Account:
    """`not_logged_in`: the step when WAHA knows no account (it depends on the session's state)."""
    found = me(info)
    if found is None:
        return {"me": None, "next": not_logged_in}
    return {"me": found}


def qr_code(raw: Any = None, *, with_value: bool = False) -> QrCode:
    out: QrCode = {"next": "scan in WhatsApp > Linked devices; expires in ~20 s"}
    if with_value:
        out["value"] = raw.get("value") if isinstance(raw, dict) else None
    return out


def pairing_code(answer: Any) -> PairingCode:
    code = answer.get("code") if isinstance(answer, dict) else None
    return {"code": code, "next": "enter it in WhatsApp > Linked devices > Link with phone number"}


def passkey_challenge(challenge: Any) -> PasskeyStep:
    return {
        "step": "sign",
        "publicKey": challenge if isinstance(challenge, dict) else {},
        "next": "sign it with the passkey on https://web.whatsapp.com (navigator.credentials.get), "
        "then waha_submit_passkey with the assertion",
    }


def passkey_confirmation(answer: Any) -> PasskeyStep:
    code = answer.get("code") if isinstance(answer, dict) else None
    out: PasskeyStep = {"step": "confirm", "next": "if the phone shows this code, waha_submit_passkey confirm=true"}
    if code:
        out["code"] = str(code)
    return out


def passkey_sent(confirmed: bool) -> PasskeySent:
    return {
        "done": "confirmed" if confirmed else "submitted",
        "next": "waha_get_session: WORKING when paired; PASSKEY_CONFIRMATION_REQUIRED: "
        "waha_get_passkey_challenge shows the code to compare",
    }


def screenshot(data: bytes) -> Screenshot:
    return {"bytes": len(data)}


class SendLimits(TypedDict):
    """What WhatsApp currently allows the account (WAHA 2026.8.1's timelock and capping reads)."""

    timelocked: bool
    reachoutTimelock: NotRequired[ReachoutTimelock]
    messageCapping: NotRequired[MessageCapping]
    heldUntilTime: NotRequired[Time]  # this server holds the session's sends (anti-ban pacing) until then
    heldFor: NotRequired[str]


def send_limits(timelock: Any, capping: Any, held: Any = None) -> SendLimits:
    """`held`: the session's hold (waha_mcp.safety.holds.Hold), if any."""
    lock = reachout_timelock(timelock)
    out: dict[str, Any] = {
        "timelocked": lock is not None,
        "reachoutTimelock": lock,
        "messageCapping": message_capping(capping, quiet=False),
    }
    if held is not None:
        out |= {"heldUntilTime": iso(held.until), "heldFor": held.cause}
    return cast(SendLimits, drop_empty(out) | {"timelocked": lock is not None})
