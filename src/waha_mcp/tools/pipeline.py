"""One pipeline for every tool call: an `Invocation` passes through `STEPS`, a list of middleware.

scrub → contain errors → check arguments → resolve session → guards → run (call WAHA, project, stamp).
A rule that applies to many tools is one step here, never code in the tools.
"""

from __future__ import annotations

import difflib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

from waha_mcp.client import BadResponse, Binary, ServerVersion, WAHAError, routes
from waha_mcp.client.fleet import Fleet
from waha_mcp.config import Settings
from waha_mcp.errors import ToolInputError, explain, one_line, validation_problems
from waha_mcp.fetch_urls import fetch_url_refusal, is_web_url, proxy_refusal, text_url_refusal
from waha_mcp.openapi.spec import load_spec
from waha_mcp.people import LidCache
from waha_mcp.redact import Secrets, secrets_in
from waha_mcp.safety.guards import GUARDS as SAFETY_GUARDS
from waha_mcp.safety.holds import Holds
from waha_mcp.sessions import resolve_session
from waha_mcp.store import Store, StoreUnavailable
from waha_mcp.tools._common import Rich, dumps, error_result
from waha_mcp.tools.registry import Effect, ToolSpec
from waha_mcp.tools.schema import markers_of

log = logging.getLogger("waha_mcp.tools")


@dataclass
class App:
    """State shared by every call, owned by the server's lifespan."""

    client: Fleet  # every WAHA server behind one face: calls go to the server holding their session
    settings: Settings
    secrets: Secrets = field(default_factory=Secrets)
    lids: LidCache = field(default_factory=LidCache)  # who a `@lid` is, per session (waha_mcp.people)
    holds: Holds = field(default_factory=Holds)  # sessions WhatsApp capped or timelocked (waha_mcp.safety.holds)
    store: Store | None = None  # the durable store (waha_mcp.store), one per process, opened on first use
    events: Any = None  # the process's `waha_mcp.events.Events` (inbox, ingest, waiters), set by the lifespan
    transcriber: Any = None  # `waha_mcp.transcribe.Transcriber` (None: WAHA_MCP_TRANSCRIBE=off), set by the lifespan


@dataclass
class Invocation:
    """One tool call on its way through the pipeline; tools receive it as their first argument."""

    spec: ToolSpec
    arguments: dict[str, Any]  # as the client sent them
    app: App
    context: Any = None  # the SDK's request Context (progress, elicitation, headers), None when called directly
    args: dict[str, Any] = field(default_factory=dict)  # validated and normalised
    session: str | None = None  # the account that acts, once resolved
    server: str | None = None  # the WAHA server a server-wide tool was told to act on (`server`), checked
    read_only: bool = False  # WAHA_READ_ONLY, or a connection that asked for read-only
    operations: list[str] = field(default_factory=list)  # WAHA operations sent so far, in order
    revealed: set[str] = field(default_factory=set)  # secrets this one result may show (see `reveal`)
    # Safety (waha_mcp.safety): confirmed by the user (a bulk call confirms once for every session), the bulk
    # run this call belongs to, and guard-private state.
    confirmed: bool = False
    bulk_id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def acting(self) -> str:
        """The session that acts, in a tool that takes one: the pipeline resolved it before the tool ran."""
        if self.session is None:
            raise RuntimeError(f"{self.spec.name} acts for no session")
        return self.session

    @property
    def client(self) -> Fleet:
        return self.app.client

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def servers(self) -> tuple[str, ...]:
        """The configured WAHA servers by name (one unless a fleet is configured)."""
        return self.app.client.names

    async def call(
        self,
        operation_id: str,
        *,
        server: str | None = None,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        accept: str = "application/json",
        **values: str,
    ) -> Any:
        """WAHA's operation `operation_id` for the session that acts (never any other), on the server holding it;
        `server` names the server for what concerns one server rather than a session (checked by the tool).

        Path values come as `path` or by name: `w.call("ChatsController_deleteChat", chatId=chat)`.
        """
        path = {**(path or {}), **values}
        return await self.app.client.call(
            operation_id,
            self.session,
            server=server if server is not None else self.server,
            path=path,
            query=query,
            body=body,
            accept=accept,
        )

    def no_answer(self, operation_id: str, what: str, **path: str) -> BadResponse:
        """The error for a 2xx to `operation_id` without the `what` it promises ("a QR image"): every tool raises
        this one, which the pipeline's error mapping words (the session, the route, and, for a write, that it
        probably took effect). The status is the document's for the operation: WAHA's was a 2xx, or the call
        would have failed already."""
        route = routes()[operation_id]
        values = {**path, "session": self.session or ""}
        where = route.url({name: values[name] for name in route.parts[1::2]})
        codes = [int(code) for code in load_spec().by_id[operation_id].responses if code.startswith("2")]
        status = min(codes, default=200)
        accepted = not route.read
        return BadResponse(
            f"without {what}",
            problem=f"no {what.removeprefix('a ').removeprefix('an ').removeprefix('the ')}",
            accepted=accepted,
            status=status,
            method=route.method,
            path=where,
            session=self.session,
        )

    async def on_servers(self, servers: list[str] | None, operation_id: str, **kwargs: Any) -> dict[str, Any]:
        """`operation_id` on every server named (all when None), in parallel: per server its answer or its
        `WAHAError` (a server down fails only its own entry)."""
        fleet = self.app.client

        async def one(name: str, _: Any) -> Any:
            return await fleet.call(operation_id, self.session, server=name, **kwargs)

        return await fleet.each(one, servers)

    async def list_sessions(self, all: bool = True) -> tuple[list[Any], dict[str, str]]:
        """Every server's sessions (one request per server, in parallel; each tagged with its `server` when there
        are several) and, per server that did not answer, why. Raises only when no server answers."""
        return await self.app.client.list_everywhere(all)

    async def server_version(self, server: str | None = None) -> ServerVersion | None:
        """The version and tier of the WAHA holding the session (or `server`), read once per server
        (`ServerController_get`); None when it cannot say."""
        return await self.app.client.server_version(self.session, server=server)

    async def require(self, *operation_ids: str) -> None:
        """Before a call that writes several times: refuse, with nothing sent, if this WAHA is known to predate
        any of these operations (a supplement operation's `x-waha-since`), so nothing is half done."""
        for operation_id in operation_ids:
            await self.app.client.require(self.session, operation_id)

    def missing_operations(self) -> set[str]:
        """Operations the session's WAHA answered with NestJS's `Cannot GET` (an older WAHA)."""
        return self.app.client.missing_operations(self.session)

    async def files_path(self, url: str) -> str:
        """`url`'s path on the file server of the WAHA holding the session (for what the path names, before any
        fetch); `NotOnFileServer` for any other URL. To fetch, call `fetch_file`, which checks the same."""
        return await self.app.client.files_path(self.session, url)

    def file_server(self) -> str:
        """The base URL of the session's WAHA, as messages show it."""
        return self.app.client.base_url(self.session)

    async def fetch_file(self, url: str, *, max_bytes: int) -> Binary:
        """A file from the file server of the WAHA holding the session (same API key), at most `max_bytes`;
        `NotOnFileServer` (nothing sent) for a URL elsewhere, which each caller answers in its own words."""
        return await self.app.client.fetch_file(self.session, url, max_bytes=max_bytes)

    def stand_in(self) -> Any:
        """The stand-in transport of the session's server (the built-in sandbox), None over the network."""
        client = self.app.client.client_of(self.session)
        return None if client is None else client.transport

    def reveal(self, value: str) -> None:
        """A secret WAHA just made (a new API key): shown in this result only, hidden everywhere after.

        It is known as a secret at once, so logs written during this call hide it too.
        """
        self.app.secrets.add([value])
        self.revealed.add(value)

    def hide(self, values: list[str]) -> None:
        """Secrets WAHA showed us (keys in a list, its own environment): hidden from now on."""
        self.app.secrets.add(values)

    @contextmanager
    def acting_as(self, session: str | None) -> Iterator[None]:
        """Calls inside the block act for `session`: a server-wide tool visiting each account in turn."""
        acting, self.session = self.session, session
        try:
            yield
        finally:
            self.session = acting

    async def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        if self.context is not None:
            await self.context.report_progress(done, total, message)


LIST_SESSIONS = "SessionsController_list"

# The call in progress, for whatever runs below the pipeline without a reference to it (log records, tests).
CURRENT: ContextVar[Invocation | None] = ContextVar("waha_invocation", default=None)


def note_operation(operation_id: str) -> None:
    """The client's observer: each invocation knows which WAHA operations it reached."""
    inv = CURRENT.get()
    if inv is not None:
        inv.operations.append(operation_id)


Next = Callable[[Invocation], Awaitable[CallToolResult]]
Step = Callable[[Invocation, Next], Awaitable[CallToolResult]]


async def scrub(inv: Invocation, nxt: Next) -> CallToolResult:
    """WAHA or a proxy may quote a credential back (in an error, an echoed config): it is not passed on."""
    inv.app.secrets.add(secrets_in(inv.arguments))  # before the call: its own answer may echo them
    out = await nxt(inv)
    redactor = inv.app.secrets.redactor(keep=inv.revealed)
    if not isinstance(out, CallToolResult):  # an InputRequiredResult holds our own question
        return out
    texts = [block.text for block in out.content if isinstance(block, TextContent)]
    # Nearly every result holds no secret: one search over its text proves it, and nothing is copied.
    if not redactor or not redactor.finds_in(texts, out.structured_content):
        return out
    content = [
        block.model_copy(update={"text": redactor.text(block.text)}) if isinstance(block, TextContent) else block
        for block in out.content
    ]
    structured = redactor.value(out.structured_content) if out.structured_content is not None else None
    return out.model_copy(update={"content": content, "structured_content": structured})


async def contain(inv: Invocation, nxt: Next) -> CallToolResult:
    """Every failure becomes one `isError` line; a traceback only ever reaches the server log."""
    clean = inv.app.secrets.redactor().text  # before any message is shortened
    try:
        return await nxt(inv)
    except ToolInputError as exc:
        return error_result(one_line(f"{inv.spec.name}: {exc}", clean=clean))
    except WAHAError as exc:
        # Explaining may read WAHA's version: the client's bookkeeping, not an operation of any tool (inside
        # a bulk call the outer invocation is still current and would be charged with it).
        token = CURRENT.set(None)
        try:
            return error_result(await explain(exc, inv.client, clean=clean))
        finally:
            CURRENT.reset(token)
    except StoreUnavailable as exc:
        # The audit guard records a write before it goes out: a write refused here never reached WAHA.
        step = "nothing was sent (a write goes out only once the audit log holds it)" if inv.spec.policy.audit else ""
        where = f" (session {inv.session})" if inv.session else ""
        return error_result(one_line(f"{inv.spec.name}{where}: {step}{'; ' if step else ''}{exc}; retry once the"
                                     " store is back (GET /healthz says when)", clean=clean))  # fmt: skip
    except Exception:
        log.exception("tool %s crashed", inv.spec.name)
        return error_result(f"{inv.spec.name} failed with an internal error; details are in the server log")


async def check_arguments(inv: Invocation, nxt: Next) -> CallToolResult:
    """Unknown names are refused (with the closest valid one), then types, bounds and ids are checked."""
    spec = inv.spec
    exposed = spec.schema_for(inv.read_only, fleet=inv.client.several)["properties"]
    for name in inv.arguments:
        # A fleet's argument (`server`) unlisted with one server is still taken, and checked (check_server).
        if name not in exposed and name not in spec.fleet_arguments:
            raise ToolInputError(_unknown_argument(name, list(exposed), spec, inv.read_only))
    try:
        model = spec.arguments.model_validate(inv.arguments)
    except ValidationError as exc:
        raise ToolInputError(f"invalid arguments: {validation_problems(exc)}") from None
    inv.args = {name: getattr(model, name) for name in type(model).model_fields}
    check_fetch_urls(inv)
    return await nxt(inv)


def check_fetch_urls(inv: Invocation) -> None:
    """Every argument marked as a URL WAHA fetches or connects to, at any depth (a session's webhooks): no
    private, loopback or local host (one rule, waha_mcp.fetch_urls)."""
    allowed = inv.settings.allow_fetch_hosts
    preview = inv.args.get("linkPreview") is not False
    for name, kind, value in _marked(inv.spec.markers, inv.args):
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                continue
            if kind == "fetch_url" and is_web_url(item):
                problem = fetch_url_refusal(item, allowed)
            elif kind == "fetch_host":
                problem = proxy_refusal(item, allowed)
            elif kind == "fetch_text" and preview:
                problem = text_url_refusal(item, allowed)
                if problem and "linkPreview" in inv.spec.arguments.model_fields:
                    problem = f"{problem}; or send it with linkPreview=false (no preview is fetched)"
            else:
                continue
            if problem:
                raise ToolInputError(f"{name} refused: {problem}")


_markers = functools.cache(markers_of)


def _marked(markers: dict[str, str], values: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(name, marker kind, value) of every marked value, nested models (and lists of them) included."""
    for name, value in values.items():
        if name in markers:
            yield name, markers[name], value
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                fields = type(item).model_fields
                yield from _marked(_markers(type(item)), {field: getattr(item, field) for field in fields})


def _unknown_argument(name: str, valid: list[str], spec: ToolSpec, read_only: bool) -> str:
    shown = name[:40]
    if read_only and name in spec.writes:
        return f"argument `{shown}` writes, and this connection is read-only (WAHA_READ_ONLY or X-WAHA-Read-Only)"
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6) or difflib.get_close_matches(
        name.lower(), [v.lower() for v in valid], n=1, cutoff=0.6
    )
    if close:
        match = next(v for v in valid if v.lower() == close[0].lower())
        return f"unknown argument `{shown}`: did you mean `{match}`?"
    return f"unknown argument `{shown}`; valid: {', '.join(valid)}"


async def resolve(inv: Invocation, nxt: Next) -> CallToolResult:
    """The account that acts: the explicit `session`, else WAHA_SESSION where the tool's policy allows."""
    given = inv.args.get("session")
    policy = inv.spec.session_policy
    if policy == "none":
        inv.session = given
    else:
        inv.session = await resolve_session(
            inv.client, given, inv.settings.waha_session, tool=inv.spec.name, allow_default=policy == "default"
        )
    inv.args["session"] = inv.session
    if "server" in inv.args:
        inv.server = check_server(inv)
    return await nxt(inv)


def check_server(inv: Invocation) -> str | None:
    """A server-wide tool's `server`: one of the configured names; a write that administers WAHA (keys, apps,
    stopping it) needs it named when there are several (a read without it covers every server)."""
    given, names = inv.args.get("server"), inv.servers
    if given is not None and given not in names:
        if len(names) == 1:  # unlisted then: the caller may not know the one server's name
            raise ToolInputError(
                f"unknown server {given[:40]!r}: this MCP server has one WAHA server, {names[0]!r}; leave `server` out"
            )
        raise ToolInputError(f"unknown server {given[:40]!r}; servers: {', '.join(names)}")
    if given is None and len(names) > 1 and inv.spec.effect == Effect.ADMIN:
        raise ToolInputError(f"name the WAHA server this acts on: server, one of {', '.join(names)}")
    return given


async def run(inv: Invocation, nxt: Next) -> CallToolResult:
    """Call the tool (it calls WAHA and projects); the result names the session that acted."""
    token = CURRENT.set(inv)
    try:
        out = await inv.spec.fn(inv, **inv.args)
    finally:
        CURRENT.reset(token)
    data, blocks = (out.data, out.blocks) if isinstance(out, Rich) else (out, [])
    check_inline(blocks, inv.settings.max_inline_bytes)
    if inv.session is not None and "session" not in data:
        data = {"session": inv.session, **data}
    return shape(data, blocks)


def check_inline(blocks: list[Any], limit: int) -> None:
    """No image or file bigger than WAHA_MCP_MAX_INLINE_BYTES goes into a result (QR, screenshot, pictures,
    media): every tool's blocks pass here."""
    for block in blocks:
        resource = getattr(block, "resource", None)
        encoded = getattr(block, "data", None) if resource is None else getattr(resource, "blob", None)
        if not isinstance(encoded, str):
            continue
        size = len(encoded) // 4 * 3 - encoded[-2:].count("=")  # the decoded size, without decoding
        if size > limit:
            kind = "image" if getattr(block, "type", "") == "image" else "file"
            raise ToolInputError(
                f"the {kind} is {size} bytes, over the {limit}-byte limit for a tool result "
                "(WAHA_MCP_MAX_INLINE_BYTES); nothing was returned"
            )


def shape(data: Mapping[str, Any], blocks: list[Any] | None = None) -> CallToolResult:
    return CallToolResult(
        content=[*(blocks or []), TextContent(type="text", text=dumps(data))], structured_content=data
    )


# Guard slots (allow-lists, confirmation, pacing, audit) go between `resolve` and `run` (waha_mcp.safety).
GUARDS: list[Step] = list(SAFETY_GUARDS)
STEPS: list[Step] = [scrub, contain, check_arguments, resolve, *GUARDS, run]


async def invoke(inv: Invocation, steps: list[Step] | None = None) -> CallToolResult:
    chain = steps if steps is not None else STEPS

    async def at(index: int, current: Invocation) -> CallToolResult:
        if index == len(chain):
            raise RuntimeError("the last step must produce the result")
        return await chain[index](current, lambda nxt_inv: at(index + 1, nxt_inv))

    return await at(0, inv)
