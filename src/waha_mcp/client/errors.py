"""Every failure talking to WAHA becomes one `WAHAError`; the API key never appears in it."""

from __future__ import annotations

import json
from typing import Any


class WAHAError(Exception):
    """A failed WAHA call: HTTP status (0 when no response), method, path, session and WAHA's message."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        method: str = "",
        path: str = "",
        session: str | None = None,
        body: Any = None,
        kind: str = "http",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.session = session
        self.body = body
        # http | connect | timeout | protocol | bad_response
        self.kind = kind

    @property
    def session_status(self) -> str | None:
        """The session status WAHA reported in its status-mismatch error body, if any."""
        if isinstance(self.body, dict) and isinstance(self.body.get("status"), str):
            return self.body["status"]
        return None

    @property
    def expected_statuses(self) -> list[str]:
        if isinstance(self.body, dict) and isinstance(self.body.get("expected"), list):
            return [str(s) for s in self.body["expected"]]
        return []

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" {self.status}" if self.status else ""
        return f"WAHA{status} on {where}: {self.message}" if where else self.message


def message_from_body(body: Any, fallback: str) -> str:
    """WAHA's own words from either real error shape (NestJS, status mismatch, exception)."""
    if isinstance(body, dict):
        exception = body.get("exception")
        if isinstance(exception, dict) and exception.get("message"):
            return str(exception["message"])
        message = body.get("message")
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        if message:
            return str(message)
        if body.get("error"):
            error = str(body["error"])
            if body.get("status"):
                error += f" (status {body['status']}, expected {', '.join(map(str, body.get('expected', [])))})"
            return error
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return fallback


def parse_error_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
