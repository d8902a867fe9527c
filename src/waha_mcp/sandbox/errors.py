"""Error bodies exactly as real WAHA (a NestJS app) sends them.

The OpenAPI document defines no error schema; these shapes come from BEHAVIOUR.md.
Handlers raise `WahaError`; the app turns it into the HTTP response.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any


class WahaError(Exception):
    """An error response with an exact JSON body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body


def nest_body(status: int, message: str | list[str]) -> dict[str, Any]:
    """NestJS HttpException body: {statusCode, message, error}."""
    return {"statusCode": status, "message": message, "error": HTTPStatus(status).phrase}


def nest(status: int, message: str | list[str]) -> WahaError:
    return WahaError(status, nest_body(status, message))


def unauthorized() -> WahaError:
    # NestJS UnauthorizedException without a custom message omits "error".
    return WahaError(401, {"statusCode": 401, "message": "Unauthorized"})


def route_not_found(method: str, url: str) -> WahaError:
    return nest(404, f"Cannot {method} {url}")


def not_emulated(operation_id: str) -> WahaError:
    return nest(501, f"The waha-mcp sandbox does not emulate {operation_id} (it is not WhatsApp).")


def session_not_found() -> WahaError:
    return nest(404, "Session not found")


def session_not_started(name: str) -> WahaError:
    return nest(
        404,
        f"We didn't find a session with name '{name}'. "
        f"Please start it first by using POST /api/sessions/{name}/start request",
    )


def status_mismatch(name: str, status: str, expected: list[str]) -> WahaError:
    # WAHA's SessionStatusMismatch body has no statusCode field.
    return WahaError(
        422,
        {
            "error": "Session status is not as expected. Try again later or restart the session",
            "session": name,
            "status": status,
            "expected": expected,
        },
    )


def bad_request(messages: list[str]) -> WahaError:
    # class-validator (NestJS ValidationPipe) reports a list of messages.
    return nest(400, messages)


def exception(
    message: str,
    *,
    method: str,
    path: str,
    name: str = "Error",
    version: dict[str, Any] | None = None,
    body: Any = None,
    query: dict[str, Any] | None = None,
) -> WahaError:
    """An error WAHA does not handle (an engine's refusal thrown through): its 500 exception body, as WAHA's
    AllExceptionsFilter writes it (src/api/exception.filter.ts): `request.path` is the URL with its query."""
    return WahaError(
        500,
        {
            "statusCode": 500,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "exception": {"message": message, "name": name, "stack": f"{name}: {message}"},
            "request": {"path": path, "method": method, "body": body, "query": query or {}},
            "version": version or {"version": "2026.1.4", "engine": "NOWEB", "tier": "PLUS"},
        },
    )
