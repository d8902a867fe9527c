"""The `Sandbox`: world state, fault rules, request log, and the ASGI app that serves WAHA's API.

Every request is routed through the vendored OpenAPI document (`Spec.match`) to the handler
registered for its operationId (see `registry.py`). `/__sandbox/...` control endpoints are handled
here; they are never recorded and are not WAHA routes.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import anyio
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..openapi.spec import Operation, load_spec
from . import control, errors, events_ws
from .events_webhooks import WebhookDelivery
from .faults import DropConnection, FaultRule, Faults
from .model import SandboxModel
from .profiles import Profile, get_profile
from .registry import Ctx, load_routes
from .render import render_message
from .state import SCAN_QR_CODE, SESSION_NAME, STARTING, STATUSES, WORKING, SandboxSession, now_ms
from .validation import body_problems

log = logging.getLogger("waha_mcp.sandbox")
# Where WAHA's file server serves downloaded media (`media.url`).
FILES = "/api/files/"


@dataclass
class RecordedRequest:
    method: str
    path: str  # raw, percent-encoded
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any | None


class SandboxStateError(ValueError):
    """A control action that does not fit the session's current state (e.g. scan a WORKING session)."""


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json; charset=utf-8")


class Sandbox:
    """A WAHA emulator playing one `Profile` (default: the newest WAHA). Not WhatsApp: nothing leaves the process.

    `time_factor` multiplies every wait the profile has (tests set it small); `status_wait`, when given,
    overrides the profile's wait before a status-mismatch 422.
    """

    def __init__(
        self,
        api_key: str | None = None,
        sessions: int = 2,
        status_wait: float | None = None,
        seed: int = 0,
        profile: str | Profile | None = None,
        time_factor: float = 1.0,
        *,
        names: tuple[str, ...] = (),
        latency: float = 0.0,
    ) -> None:
        self.profile = get_profile(profile)
        # One of a fleet (sandbox/fleet.py): the names its seeded sessions take (default: default, business, ...),
        # and how long every WAHA route takes to answer (a server farther away; faults come on top).
        self.names = names
        self.latency = latency
        self.time_factor = time_factor
        self.api_key = api_key
        self.seed = seed
        self.status_wait = status_wait if status_wait is not None else self.seconds(self.profile.timing.status_wait)
        # Core before 2026.6 has one session, `default`.
        self.initial_sessions = min(sessions, 1) if self.profile.only_default else sessions
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.on_request: list[Callable[[RecordedRequest], None]] = []
        self.started_ms = now_ms()
        self.seq = 0  # request counter; drives STARTING → next status
        self.spec = load_spec()
        self.handlers = load_routes()
        self.app = SandboxApp(self)
        self.model = self._seeded()
        # Events leave the sandbox as WAHA's do: signed webhooks and the /ws stream (events_*.py); the
        # listener stays on the log across a reset.
        self.webhooks = WebhookDelivery(self)
        self.model.log.listeners.append(self.webhooks.on_event)

    def seconds(self, real: float) -> float:
        """A wait of the real WAHA, scaled by the time factor."""
        return real * self.time_factor

    async def pause(self, real: float) -> None:
        if real and self.time_factor:
            await anyio.sleep(self.seconds(real))

    def _seeded(self, previous: SandboxModel | None = None) -> SandboxModel:
        model = SandboxModel.seeded(self.seed, self.initial_sessions, previous=previous, names=self.names)
        model.log.engine = self.profile.engine  # events are shaped as this engine sends them (render.ends)
        for session in model.sessions.values():
            self._timed(session)
        return model

    def _timed(self, session: SandboxSession) -> SandboxSession:
        starting = self.profile.timing.starting
        session.starting_seconds = None if starting is None else self.seconds(starting)
        session.since = self.profile.since  # what this WAHA version reports of the account
        return session

    # --- sessions -----------------------------------------------------------------------------------
    @property
    def sessions(self) -> dict[str, SandboxSession]:
        return self.model.sessions

    def get_session(self, name: str) -> SandboxSession | None:
        session = self.sessions.get(name)
        if session is not None:
            session.tick(self.seq)
        return session

    def new_session(
        self, name: str, config: dict[str, Any] | None, apps: list[Any] | None, start: bool
    ) -> SandboxSession:
        session = self._timed(self.model.add_session(name, config or {}, apps))
        self.model.deleted.discard(name)
        if start:
            session.start(self.seq)
        return session

    def _require(self, name: str) -> SandboxSession:
        session = self.sessions.get(name)
        if session is None:
            raise KeyError(f"no sandbox session {name!r}")
        session.tick(self.seq + 1)  # a control action counts as a later look at the session
        return session

    def scan(self, name: str, phone: str | None = None) -> dict[str, Any]:
        """Pair a session waiting for its QR code (SCAN_QR_CODE → WORKING), as a phone scanning it would."""
        session = self._require(name)
        if session.status != SCAN_QR_CODE:
            raise SandboxStateError(f"session {name!r} is {session.status}, not SCAN_QR_CODE: nothing to scan")
        session.pair(phone)
        return session.info()

    def set_status(self, name: str, status: str) -> dict[str, Any]:
        """Force a status (for tests); it is held until a lifecycle call changes it."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        session = self._require(name)
        if status == WORKING and session.me is None:
            session.pair()
        session.become(status)
        session.held = status == STARTING
        session.touch()
        return session.info()

    def timelock(self, name: str, seconds: float | None = 86400, enforcement_type: str = "DEFAULT") -> dict[str, Any]:
        """WhatsApp puts the account under its reach-out timelock (error 463) for `seconds`; None lifts it."""
        session = self._require(name)
        if session.world is None:
            raise SandboxStateError(f"session {name!r} is not paired")
        if seconds is None:
            session.reachout = {"isActive": False, "timeEnforcementEnds": None, "enforcementType": enforcement_type}
        else:
            ends = int(time.time() + seconds)
            session.reachout = {"isActive": True, "timeEnforcementEnds": ends, "enforcementType": enforcement_type}
        session.announce_timelock()
        return session.info()

    def capping(
        self,
        name: str,
        status: str = "CAPPED",
        seconds: float | None = 86400,
        used: int | None = None,
        total: int = 1000,
    ) -> dict[str, Any]:
        """WhatsApp reports the account's new-chat quota (message capping; CAPPED sends fail with error 475) for a
        cycle ending in `seconds`; `status` NONE clears it."""
        session = self._require(name)
        if session.world is None:
            raise SandboxStateError(f"session {name!r} is not paired")
        now = int(time.time())
        ends = None if seconds is None else int(now + seconds)
        used = used if used is not None else (total if status == "CAPPED" else 0)
        session.capping = {
            "cappingStatus": status,
            "totalQuota": total,
            "usedQuota": used,
            "cycleStart": now - 86400,
            "cycleEnd": ends,
            "mvStatus": "NOT_ELIGIBLE",
            "oteStatus": None,
        }
        session.announce_capping()
        return session.info()

    def inject_inbound(self, session: str, chat_id: str, text: str, sender: str | None = None) -> dict[str, Any]:
        """A message received from someone else; returns it as WAHA's WAMessage."""
        target = self._require(session)
        if target.world is None or target.status != WORKING:
            raise SandboxStateError(f"session {session!r} is {target.status}: it cannot receive messages")
        message = target.world.receive_text(chat_id, text, sender)
        return render_message(message, target.world.me_id, session=session)

    def inject_voice(
        self, session: str, chat_id: str, data: bytes | None = None, sender: str | None = None
    ) -> dict[str, Any]:
        """A voice note received from someone else (OGG/Opus `data`, else the shipped spoken sample)."""
        from .voice import SAMPLE, opus_seconds

        target = self._require(session)
        if target.world is None or target.status != WORKING:
            raise SandboxStateError(f"session {session!r} is {target.status}: it cannot receive messages")
        audio = data if data is not None else SAMPLE.read_bytes()
        message = target.world.receive_voice(chat_id, audio, opus_seconds(audio), sender)
        return render_message(message, target.world.me_id, session=session)

    def contact_reads(self, session: str, chat_id: str) -> int:
        """The other side reads my messages in `chat_id`: each one not yet read gets a `message.ack` (READ),
        the event WAHA sends about messages I sent. Returns how many."""
        target = self._require(session)
        if target.world is None or target.status != WORKING:
            raise SandboxStateError(f"session {session!r} is {target.status}: nobody can read its messages")
        chat = target.world.chats.get(chat_id)
        mine = [m for m in (chat.messages if chat else []) if m.from_me and not m.stub and m.ack < 3]
        for msg in mine:
            target.world.set_ack(msg, 3)
        return len(mine)

    def reset(self) -> None:
        """Back to the initial world: a new model (seeded sessions), no faults, empty request log."""
        self.faults.clear()
        self.requests.clear()
        self.model = self._seeded(previous=self.model)

    def events(self, since_id: str | None = None) -> list[dict[str, Any]]:
        """What happened since the event `since_id` (everything without it), oldest first.

        Each record is a WAHA webhook envelope: `{id, timestamp, session, event, payload, ...}`.
        """
        return self.model.log.since(since_id)

    def summary(self) -> dict[str, Any]:
        return {
            "sandbox": "waha-mcp sandbox (a WAHA emulator, not WhatsApp)",
            "sessions": [
                {
                    "name": s.name,
                    "status": s.status,
                    "me": s.me,
                    "chats": len(s.world.chats) if s.world else 0,
                    "contacts": len(s.world.contacts) if s.world else 0,
                    "groups": len(s.world.groups) if s.world else 0,
                    "pairingCode": s.pairing_code,
                }
                for s in (self.get_session(n) for n in list(self.sessions))
                if s is not None
            ],
            "faults": [r.to_dict() for r in self.faults.rules],
            "requests": len(self.requests),
        }

    def minted_key(self, given: str | None) -> dict[str, Any] | None:
        """The active key made by `POST /api/keys` (routes/admin.py) that `given` is, if any."""
        if not given:
            return None
        found = next((k for k in self.model.keys.values() if k.get("key") == given), None)
        return found if found is not None and found.get("isActive", True) else None

    @property
    def keyed(self) -> bool:
        """Whether WAHA routes need the key: one is set and this WAHA checks keys at all."""
        return bool(self.api_key) and self.profile.checks_keys

    def valid_name(self, name: str) -> bool:
        return bool(SESSION_NAME.match(name))


class SandboxApp:
    """The ASGI application of one `Sandbox` (`app.state.sandbox`)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.state = State()
        self.state.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await events_ws.serve(self.sandbox, scope, receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        if response is not None:
            await response(scope, receive, send)

    async def handle(self, request: Request) -> Response | None:
        sb = self.sandbox
        sb.seq += 1
        raw_path = _raw_path(request.scope)
        body = await request.body()
        if raw_path == "/__sandbox" or raw_path.startswith("/__sandbox/"):
            if sb.api_key and request.headers.get("x-api-key") != sb.api_key:
                return _error(errors.unauthorized())
            return await control.handle(sb, request, raw_path, body)
        if raw_path.startswith(FILES) and request.method == "GET":
            # WAHA's file server: not in the OpenAPI document, so neither recorded nor contract-checked.
            if sb.keyed and request.headers.get("x-api-key") != sb.api_key:
                return _error(errors.unauthorized())
            from .routes.media import serve_file

            return serve_file(sb, [unquote(p) for p in raw_path[len(FILES) :].split("/")], raw_path)
        self._record(request, raw_path, body)
        sb.model.log.base_url = str(request.base_url).rstrip("/")

        if sb.latency:
            await anyio.sleep(sb.latency)
        op = sb.spec.match(request.method, raw_path)
        rules = sb.faults.take(op.operation_id if op else None, op.key if op else None)
        terminal: FaultRule | None = None
        for rule in rules:
            if rule.kind == "latency":
                await anyio.sleep(rule.delay)
            else:
                terminal = rule
        if terminal is not None and terminal.delay and terminal.kind != "latency":
            await anyio.sleep(terminal.delay)
        if terminal is not None and terminal.kind == "drop" and terminal.body != "after":
            await _drop(terminal)
            return None  # no answer: the connection is gone
        if terminal is not None and terminal.kind == "status":
            payload = terminal.body if terminal.body is not None else _fault_body(terminal.status)
            return _mark(json_response(payload, terminal.status), terminal)

        response = await self._dispatch(request, op, raw_path, body)
        if terminal is not None and terminal.kind == "drop":  # body="after": processed, answer lost
            await _drop(terminal)
            return None
        if terminal is not None and terminal.kind == "malformed":
            return _mark(_malformed(response, terminal), terminal)
        if terminal is not None and terminal.kind == "empty":
            status = terminal.status if 200 <= terminal.status < 300 else 200
            return _mark(Response(b"", status_code=status, media_type="application/json"), terminal)
        return response

    def _record(self, request: Request, raw_path: str, body: bytes) -> None:
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        record = RecordedRequest(
            method=request.method,
            path=raw_path,
            query=parse_qs(request.url.query, keep_blank_values=True),
            headers=dict(request.headers),
            body=body,
            json=parsed,
        )
        self.sandbox.requests.append(record)
        for hook in list(self.sandbox.on_request):
            hook(record)  # a failing hook (e.g. a test's schema check) propagates on purpose

    async def _dispatch(self, request: Request, op: Operation | None, raw_path: str, body: bytes) -> Response:
        sb = self.sandbox
        try:
            if op is None or not sb.profile.has(op):
                # A route this version lacks: NestJS's own 404, whatever the path holds (a session name).
                url = raw_path + (f"?{request.url.query}" if request.url.query else "")
                raise errors.route_not_found(request.method, url)
            minted = None  # a key made by POST /api/keys, when that is what authenticated the request
            if sb.keyed and op.operation_id != "PingController_ping":
                given = request.headers.get("x-api-key")
                if given != sb.api_key:
                    minted = sb.minted_key(given)
                    if minted is None:
                        raise errors.unauthorized()
            handler = sb.handlers.get(op.operation_id)
            if handler is None:
                raise errors.not_emulated(op.operation_id)
            parsed = _validate_body(op, body)
            params = op.path_params(raw_path) or {}
            ctx = Ctx(
                sandbox=sb,
                op=op,
                request=request,
                params=params,
                query=parse_qs(request.url.query, keep_blank_values=True),
                body=parsed,
            )
            if minted is not None and not minted.get("isAdmin"):
                # A session's key acts for that session only (WAHA's PoliciesGuard: NestJS's default 403). Routes
                # of no session are let through: which of them WAHA keeps for admin keys was not read here.
                if op.session_location is not None and ctx.session_name != minted.get("session"):
                    raise errors.nest(403, "Forbidden resource")
            refusal = sb.profile.refusals.get(op.operation_id)
            if refusal is not None:
                await ctx.working_session()  # WAHA finds the working session, then the engine refuses
                raise errors.nest(422, refusal)
            result = await handler(ctx)
        except errors.WahaError as exc:
            return _error(exc)
        except Exception as exc:  # WAHA answers unhandled exceptions with its 500 shape
            log.exception("sandbox handler failed")
            sent = _json_or_none(body)
            return json_response(_exception_body(exc, request, raw_path, sb.profile.environment(), sent), 500)
        if isinstance(result, Response):
            return result
        status = _success_status(op)
        if result is None:
            return Response(b"", status_code=status)
        return json_response(result, status)


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:  # bytes whenever a server gives it (ASGI)
        return raw.split(b"?")[0].decode("latin-1")
    return quote(scope["path"])


def _success_status(op: Operation) -> int:
    codes = sorted(int(c) for c in op.responses if c.isdigit() and c.startswith("2"))
    return codes[0] if codes else (201 if op.method == "POST" else 200)


def _error(exc: errors.WahaError) -> Response:
    return json_response(exc.body, exc.status)


def _fault_body(status: int) -> dict[str, Any]:
    if status == 429:
        return {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
    try:
        return errors.nest_body(status, "Injected fault (waha-mcp sandbox)")
    except ValueError:  # not a standard HTTP status
        return {"statusCode": status, "message": "Injected fault (waha-mcp sandbox)"}


def _malformed(response: Response, rule: FaultRule) -> Response:
    if isinstance(rule.body, str):
        cut = rule.body.encode()
    else:
        full = bytes(response.body) if response.body else b'{"id":"true_1@c.us_AAAA","body":"hel'
        cut = full[: max(1, len(full) // 2)]
        if cut.endswith(b"}") or cut.endswith(b"]"):
            cut = cut[:-1]
    status = response.status_code if 200 <= response.status_code < 300 else 200
    return Response(cut, status_code=status, media_type="application/json")


async def _drop(rule: FaultRule) -> None:
    from .runner import current_transport

    transport = current_transport()
    if transport is None:  # in-process: sandbox_transport turns this into httpx2.ReadError
        raise DropConnection("connect" if rule.body == "connect" else "read")
    _reset(transport)
    await anyio.sleep(0.01)  # let the server notice the closed connection before we return


def _reset(transport: Any) -> None:
    """Close with RST (SO_LINGER 0) so the client sees 'connection reset', as with a crashed peer."""
    import socket
    import struct

    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


def _exception_body(
    exc: Exception, request: Request, raw_path: str, version: dict[str, Any], body: Any = None
) -> dict[str, Any]:
    url = raw_path + (f"?{request.url.query}" if request.url.query else "")
    return {
        "statusCode": 500,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "exception": {
            "message": str(exc),
            "name": type(exc).__name__,
            "stack": "".join(traceback.format_exception(exc))[-2000:],
        },
        # As WAHA's AllExceptionsFilter (src/api/exception.filter.ts): `request.url` (the path with its query),
        # the parsed body, the query, and the whole VERSION object.
        "request": {"path": url, "method": request.method, "body": body, "query": dict(request.query_params)},
        "version": version,
    }


def _validate_body(op: Operation, body: bytes) -> Any:
    """Parse the JSON body and check it like WAHA's NestJS ValidationPipe would (see validation.py)."""
    parsed: Any = None
    if body.strip():
        try:
            # As Express's body parser reads it: UTF-8, a byte that is not becomes U+FFFD (iconv-lite).
            parsed = json.loads(body.decode("utf-8", errors="replace"))
        except json.JSONDecodeError as exc:
            raise errors.nest(400, f"Unexpected token in JSON: {exc.msg} at position {exc.pos}") from None
    if not op.request_schema:
        return parsed
    if parsed is None:
        parsed = {}  # NestJS validates a missing body as an empty object: every required field is named
    if not isinstance(parsed, dict):
        raise errors.bad_request(["request body must be a JSON object"])
    problems = body_problems(op, parsed)
    if problems:
        raise errors.bad_request(problems)
    return parsed


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


__all__ = ["RecordedRequest", "Sandbox", "SandboxApp", "SandboxStateError", "json_response"]


def _mark(response: Response, rule: FaultRule) -> Response:
    """Tag an injected fault so contract checks can tell it from a real answer."""
    response.headers["x-sandbox-fault"] = rule.kind
    return response
