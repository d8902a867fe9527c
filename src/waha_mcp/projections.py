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
