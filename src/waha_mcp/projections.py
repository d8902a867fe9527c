"""Compact, secret-free views of WAHA payloads (the one place that shapes what the model reads)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

REDACTED = "***"


def iso(ts: float | int | None) -> str | None:
    """Unix seconds (or milliseconds) → ISO 8601 with offset."""
    if ts is None or isinstance(ts, bool):
        return None
    value = float(ts)
    if value > 1e11:  # milliseconds
        value /= 1000
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def redact_config(config: Any) -> Any:
    """Session config with webhook HMAC keys, proxy passwords and custom header values hidden."""
    if not isinstance(config, dict):
        return config
    out = copy.deepcopy(config)
    proxy = out.get("proxy")
    if isinstance(proxy, dict) and proxy.get("password"):
        proxy["password"] = REDACTED
    for hook in out.get("webhooks") or []:
        if not isinstance(hook, dict):
            continue
        hmac = hook.get("hmac")
        if isinstance(hmac, dict) and hmac.get("key"):
            hmac["key"] = REDACTED
        for header in hook.get("customHeaders") or []:
            if isinstance(header, dict) and "value" in header:
                header["value"] = REDACTED
    return drop_empty(out)


def me(info: Any) -> dict[str, Any] | None:
    if not isinstance(info, dict) or not info.get("id"):
        return None
    return drop_empty({"id": info.get("id"), "name": info.get("pushName"), "lid": info.get("lid")})


def session(info: dict[str, Any], *, with_config: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": info.get("name"), "status": info.get("status"), "me": me(info.get("me"))}
    if with_config:
        out["config"] = redact_config(info.get("config"))
        activity = (info.get("timestamps") or {}).get("activity")
        out["active"] = iso(activity)
        out["engine"] = (
            (info.get("engine") or {}).get("engine") if isinstance(info.get("engine"), dict) else None
        )
    return drop_empty(out) | {"status": info.get("status")}

def _unix_time(value: Any) -> float | None:
    """Unix time from a number, a digit string, or protobuf's `{low, high}` Long (NOWEB)."""
    if isinstance(value, dict) and "low" in value:
        value = (int(value.get("high") or 0) << 32) + (int(value["low"]) & 0xFFFFFFFF)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def sent(message: Any, chat_id: str) -> dict[str, Any]:
    """A message WAHA just sent → `{id, chatId, time}`, whatever the engine's shape (WAMessage,
    WEBJS `{id: {_serialized}}`, NOWEB proto `{key: {fromMe, id}, messageTimestamp}`)."""
    out: dict[str, Any] = {"id": None, "chatId": chat_id, "time": None}
    if not isinstance(message, dict):
        return {"chatId": chat_id, "sent": True}
    mid = message.get("id")
    if isinstance(mid, dict):
        mid = mid.get("_serialized") or mid.get("id")
    key = message.get("key")
    if not mid and isinstance(key, dict) and key.get("id"):
        mid = f"{'true' if key.get('fromMe', True) else 'false'}_{chat_id}_{key['id']}"
    out["id"] = mid if isinstance(mid, str) else None
    stamp = _unix_time(message.get("timestamp", message.get("messageTimestamp")))
    out["time"] = iso(stamp) if stamp else None
    # An answer without an id still means WAHA accepted the message.
    return drop_empty(out) if out["id"] else drop_empty(out) | {"sent": True}
