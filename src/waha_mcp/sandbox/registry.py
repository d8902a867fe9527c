"""Handler registry keyed by OpenAPI operationId, and the per-request context handlers get.

Adding a WAHA area is a one-file change: create `sandbox/routes/<area>.py` with functions decorated
by `@route("<operationId>")`; every module in `routes/` is imported automatically.

A handler is `async def handler(ctx: Ctx) -> Any`. Its return value becomes the response:
a `starlette.responses.Response` is sent as is, `None` is an empty body, anything else is JSON.
The status is the operation's documented 2xx (201 for most POSTs, as NestJS does).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from ..openapi.spec import Operation, load_spec
from . import errors
from .profiles import CORE_ONLY_DEFAULT
from .render import render_message
from .state import RUNNING, STOPPED, WORKING, SandboxSession
from .world import Message

if TYPE_CHECKING:
    from .app import Sandbox

Handler = Callable[["Ctx"], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def route(operation_id: str) -> Callable[[Handler], Handler]:
    """Register the handler of one operation of the vendored OpenAPI document."""
    if operation_id not in load_spec().by_id:
        raise ValueError(f"{operation_id} is not an operationId of the OpenAPI document")

    def register(handler: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise ValueError(f"{operation_id} registered twice")
        HANDLERS[operation_id] = handler
        return handler

    return register


def load_routes() -> dict[str, Handler]:
    from . import routes

    for module in pkgutil.iter_modules(routes.__path__):
        importlib.import_module(f"{routes.__name__}.{module.name}")
    return HANDLERS


_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


@dataclass
class Ctx:
    sandbox: Sandbox
    op: Operation
    request: Request
    params: dict[str, str]  # percent-decoded path parameters
    query: dict[str, list[str]]
    body: Any  # parsed JSON body, or None

    # --- query helpers (NestJS-style 400s on bad values) -----------------------------------------
    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def q_list(self, name: str) -> list[str]:
        # qs accepts ids=a&ids=b, ids[]=a and ids[0]=a alike.
        out = list(self.query.get(name, [])) + list(self.query.get(f"{name}[]", []))
        indexed = sorted(
            (k for k in self.query if k.startswith(f"{name}[") and k[len(name) + 1 : -1].isdigit()),
            key=lambda k: int(k[len(name) + 1 : -1]),
        )
        for key in indexed:
            out += self.query[key]
        return [v for value in out for v in value.split(",") if v]

    def q_int(self, name: str, default: int | None = None) -> int | None:
        value = self.q(name)
        if value is None or value == "":
            return default
        try:
            return int(float(value))
        except ValueError:
            raise errors.bad_request([f"{name} must be a number conforming to the specified constraints"]) from None

    def q_bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self.q(name)
        if value is None or value == "":
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise errors.bad_request([f"{name} must be a boolean value"])

    def q_choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.q(name, default)
        if value is not None and value not in choices:
            raise errors.bad_request([f"{name} must be one of the following values: {', '.join(choices)}"])
        return value

    # --- session lookup with WAHA's exact errors ---------------------------------------------------
    @property
    def session_name(self) -> str:
        where = self.op.session_location
        if where == "path":
            return self.params["session"]
        if where == "query":
            return self.q("session", "default") or "default"
        if where == "body" and isinstance(self.body, dict):
            return str(self.body.get("session") or "default")
        return "default"

    def core_rules(self) -> None:
        """WAHA Core before 2026.6 refuses any session but `default`, before anything else."""
        if self.sandbox.profile.only_default and self.session_name != "default":
            raise errors.nest(422, CORE_ONLY_DEFAULT)

    def known_session(self) -> SandboxSession:
        """For /api/sessions/{s}-style routes: unknown → 404 `Session not found`."""
        self.core_rules()
        session = self.sandbox.get_session(self.session_name)
        if session is None:
            raise errors.session_not_found()
        return session

    async def running_session(self, expected: tuple[str, ...] = RUNNING) -> SandboxSession:
        """For working-session routes: unknown or STOPPED → 404 "We didn't find...", wrong status →
        the status-mismatch 422 after `status_wait` seconds (real WAHA waits 5 s)."""
        self.core_rules()
        name = self.session_name
        session = self.sandbox.get_session(name)
        if session is None or session.status == STOPPED:
            raise errors.session_not_started(name)
        if session.status not in expected:
            await asyncio.sleep(self.sandbox.status_wait)
            session = self.sandbox.get_session(name)
            if session is None or session.status == STOPPED:
                raise errors.session_not_started(name)
            if session.status not in expected:
                raise errors.status_mismatch(name, session.status, list(expected))
        session.touch()
        return session

    async def working_session(self) -> SandboxSession:
        return await self.running_session((WORKING,))

    def exception(self, message: str, name: str = "Error") -> errors.WahaError:
        """WAHA's 500 for an exception it does not handle, about this request (errors.exception)."""
        url = self.request.url
        return errors.exception(
            message,
            method=self.request.method,
            path=url.path + (f"?{url.query}" if url.query else ""),
            name=name,
            version=self.sandbox.profile.environment(),
            body=self.body,
            query={k: v[0] if len(v) == 1 else v for k, v in self.query.items()},
        )

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")

    def render(self, msg: Message, me_id: str, *, download_media: bool = True) -> dict[str, Any]:
        """The message as this request's `WAMessage` (media URLs on the host the client used)."""
        return render_message(
            msg, me_id, session=self.session_name, base_url=self.base_url, download_media=download_media
        )
