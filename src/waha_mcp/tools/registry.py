"""The single place where a tool's metadata and policy live, and where filtering happens.

A tool declares one effect; its annotations, session policy, confirmation and audit follow from it
(`POLICY`), so two tools with the same effect can never disagree.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal, get_type_hints

from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, create_model

from waha_mcp.config import ConfigError, Settings
from waha_mcp.errors import ToolInputError
from waha_mcp.safety import CONFIRM_ARGUMENT
from waha_mcp.tools.schema import arguments_schema, markers_of, output_schema


class Effect(StrEnum):
    READ = "read"  # reads only
    LOCAL = "local"  # changes this account or this machine; nobody else sees it
    VISIBLE = "visible"  # other people see it (sends, reactions, receipts, presence)
    DESTRUCTIVE = "destructive"  # removes or resets something that cannot be brought back
    ADMIN = "admin"  # changes WAHA itself (keys, server)


Hints = tuple[bool, bool, bool, bool]  # readOnly, destructive, idempotent, openWorld


@dataclass(frozen=True)
class Policy:
    hints: Hints  # what a client should understand of the tool
    session: Literal["default", "explicit"]  # explicit: never falls back to WAHA_SESSION
    confirm: bool  # needs confirmation (elicitation, or confirm: true) once the guard exists
    audit: bool  # recorded in the audit log once it exists

    @property
    def annotations(self) -> ToolAnnotations:
        """Only the hints that differ from MCP's defaults (every byte is paid on every turn); a read-only
        tool's destructive and idempotent hints are meaningless under the spec and left out."""
        read_only, destructive, idempotent, open_world = self.hints
        return ToolAnnotations(
            read_only_hint=True if read_only else None,
            destructive_hint=None if read_only or destructive else False,
            idempotent_hint=None if read_only or not idempotent else True,
            open_world_hint=None if open_world else False,
        )


def client_view(notes: ToolAnnotations | None) -> Hints:
    """The hints as a client reads them, MCP's defaults applied (readOnly false, destructive true, idempotent
    false, openWorld true; a read-only tool is neither destructive nor anything to repeat carefully)."""
    notes = notes or ToolAnnotations()
    read_only = bool(notes.read_only_hint)
    destructive = False if read_only else notes.destructive_hint is not False
    idempotent = True if read_only else bool(notes.idempotent_hint)
    open_world = notes.open_world_hint is not False
    return read_only, destructive, idempotent, open_world


POLICY: dict[Effect, Policy] = {
    Effect.READ: Policy((True, False, True, False), "default", confirm=False, audit=False),
    Effect.LOCAL: Policy((False, False, True, False), "default", confirm=False, audit=True),
    Effect.VISIBLE: Policy((False, False, False, True), "default", confirm=False, audit=True),
    Effect.DESTRUCTIVE: Policy((False, True, True, True), "explicit", confirm=True, audit=True),
    Effect.ADMIN: Policy((False, True, False, False), "explicit", confirm=True, audit=True),
}

# What to ask before a confirmed call: a template filled from the call's arguments (and `{session}`), or a
# function of the invocation (None: no confirmation needed this time, for tools confirmed only sometimes).
Question = str | Callable[[Any], Awaitable[str | None]] | None
Scope = Literal["session", "server"]
Pacing = Literal["send", "group"] | None
# Who a write reaches beyond its chat, group and channel arguments (for WAHA_MCP_ALLOW_CHATS), given the
# invocation once its session is resolved: the chat ids, or why they cannot be known (a status without
# `contacts` goes to every contact).
Reach = Callable[[Any], Awaitable[list[str] | str]]

# Toolset name → one-line description, in the order tools are listed.
TOOLSETS: dict[str, str] = {
    "sessions": "Sessions and pairing: list, create, start/stop, QR code, pairing code, passkey, screenshot",
    "server": "WAHA server version, status, health and settings",
    "messages": "Send text, media, locations, contacts, polls; react, star, mark seen",
    "chats": "Chats overview, messages, read/unread, archive, pin, edit, delete",
    "presence": "Online/typing presence: set, get, subscribe",
    "groups": "Groups: list, create, join/leave, info, picture, settings, invite link, members",
    "channels": "Channels: yours and followed, create/delete, preview posts, follow, mute, search",
    "media": "Download received media, transcribe voice notes, convert voice/video, reject calls",
    "profile": "Your own profile: name, about text, picture",
    "labels": "WhatsApp Business labels: list, create, update, delete, put on chats",
    "contacts": "Contacts: list, get, number on WhatsApp, about, picture, block, save; LID ⇄ phone",
    "status": "Your status (stories): post text, image, voice, video; delete",
    "admin": "WAHA administration: API keys, apps, stopping the server",
    "audit": "The audit log of write calls: time, session, tool, target, outcome, message id",
    "bulk": "Across sessions in one call: any tool for many sessions (resumable), unread chats everywhere",
    "events": "Events WAHA delivers (messages, acks, status): query the inbox, wait for a reply, webhooks",
    # Only with --sandbox, and then always on: there is nothing else to pair a session with.
    "sandbox": "Built-in emulator only: pair a session, receive a message, force a state, inject a fault",
}
# Toolsets that exist only in sandbox mode (and are always on there).
SANDBOX_ONLY = frozenset({"sandbox"})
# When a tool is in the default set (neither WAHA_TOOLSETS nor WAHA_TOOLS set), said at its registration. The
# default is the common case (accounts, reading and answering chats, contacts, groups to read), small because
# every tool schema is paid on every turn; a toolset by name, or `all`, brings the rest.
# always: everywhere; sandbox: with --sandbox too (a newcomer trying the emulator walks the guide: create a
# session, pair it, use it, send and wait for the reply); transcribe: when WAHA_MCP_TRANSCRIBE is on.
Default = Literal["always", "sandbox", "transcribe"] | None
# A tool's `server` argument names one WAHA server of a fleet (WAHA_SERVERS; its type is `schema.Server`). With one
# server configured it could only name that one, so it is left out of the listed schema (every schema byte is paid
# on every turn); a call that still passes it is checked like any other (waha_mcp.tools.pipeline.check_server).
FLEET_ARGUMENTS = ("server",)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    toolset: str
    fn: Callable[..., Awaitable[Any]]
    description: str
    effect: Effect
    # session: `session` picks the account (policy decides whether WAHA_SESSION may stand in);
    # server: not about one session (`session`, if the tool takes it, is a name or a filter).
    scope: Scope
    # WAHA operationIds this tool can reach (coverage report; a test checks the reached ones match).
    operations: tuple[str, ...]
    pacing: Pacing = None
    # Arguments that turn this read into a local write: hidden and refused in read-only mode.
    writes: tuple[str, ...] = ()
    # What the tool returns (a TypedDict; None: the return annotation): its schema is built on first use, as
    # output schemas are off by default and building 120 of them at start-up was a third of the registry's cost.
    output: Any = field(default=None, repr=False)
    reach: Reach | None = field(default=None, repr=False)
    # A write-capable tool that still serves reads in read-only mode, refusing the writes itself (bulk).
    reads_in_read_only: bool = False
    # The confirmation question (waha_mcp.safety.confirm); None: the generic one, when the policy confirms.
    question: Question = field(default=None, repr=False)
    default: Default = None
    # A server-wide write that makes a session names it in this argument (else `session`): the session
    # allow-list (WAHA_MCP_ALLOW_SESSIONS) applies to that name.
    session_argument: str | None = None
    # The argument naming what a write acts on, for the audit log when it reaches no chat (a label, a key).
    target: str | None = None
    # Runs another tool once per session, each call through the whole pipeline (allow-lists, pacing, audit
    # apply to each): its own call is not checked against the allow-lists, and it never runs inside itself.
    fans_out: bool = False
    # Arguments listed only when several WAHA servers are configured (FLEET_ARGUMENTS the tool takes).
    fleet_arguments: tuple[str, ...] = ()

    # Built on first use, not at start-up (issue 19's cold start): a call needs its argument model, tools/list
    # only the input schemas, which are shipped prebuilt (waha_mcp.tools.shipped).
    @cached_property
    def arguments(self) -> type[BaseModel]:
        return _arguments_model(self.name, self.fn, confirm=self.policy.confirm)

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        from waha_mcp.tools.shipped import shipped_schema  # here: `python -m waha_mcp.tools.shipped` rebuilds it

        return shipped_schema(self.name) or arguments_schema(self.arguments)

    @cached_property
    def markers(self) -> dict[str, str]:
        """Argument name → marker kind ("chat", "message", ...), for guards that need the target."""
        return markers_of(self.arguments)

    @cached_property
    def output_schema(self) -> dict[str, Any] | None:
        return output_schema(self.output or get_type_hints(self.fn, include_extras=True).get("return"))

    @property
    def policy(self) -> Policy:
        return POLICY[self.effect]

    @property
    def read_only(self) -> bool:
        return self.effect is Effect.READ

    @property
    def in_read_only(self) -> bool:
        """Exposed in read-only mode (WAHA_READ_ONLY, X-WAHA-Read-Only)."""
        return self.read_only or self.reads_in_read_only

    @property
    def session_policy(self) -> Literal["default", "explicit", "none"]:
        return "none" if self.scope == "server" else self.policy.session

    @property
    def annotations(self) -> ToolAnnotations:
        return self.policy.annotations

    def annotations_for(self, read_only: bool) -> ToolAnnotations:
        """As listed: in read-only mode a tool kept for its reads can only read."""
        return POLICY[Effect.READ].annotations if read_only and not self.read_only else self.annotations

    def schema_for(self, read_only: bool, fleet: bool) -> dict[str, Any]:
        """The input schema as exposed: read-only mode drops the arguments that would write, a single WAHA server
        (not a `fleet`) the arguments that name one of several. Derived from the shipped schema, once each."""
        hidden = (self.writes if read_only else ()) + (() if fleet else self.fleet_arguments)
        if not hidden:
            return self.input_schema
        known = self._narrowed
        if hidden not in known:
            props = {k: v for k, v in self.input_schema["properties"].items() if k not in hidden}
            known[hidden] = self.input_schema | {"properties": props}
        return known[hidden]

    @cached_property
    def _narrowed(self) -> dict[tuple[str, ...], dict[str, Any]]:
        """schema_for's answers by the arguments they hide (a call asks on every run)."""
        return {}


REGISTRY: dict[str, ToolSpec] = {}


def tool(
    description: str,
    *,
    effect: Effect,
    operations: tuple[str, ...] = (),
    scope: Scope = "session",
    pacing: Pacing = None,
    writes: tuple[str, ...] = (),
    output: type | None = None,
    reach: Reach | None = None,
    reads_in_read_only: bool = False,
    question: Question = None,
    default: Default = None,
    session_argument: str | None = None,
    target: str | None = None,
    fans_out: bool = False,
    toolset: str | None = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register `async def f(w: Invocation, session: Session = None, ...) -> Out` as the tool `waha_f`, in the
    toolset its module is named for (`toolset` only where they differ); its signature is its schema.

    The output schema comes from `output`, else from the return annotation when it is a TypedDict. Only what is
    cheap is checked here; the argument model is built on the first call (a test builds every one).
    """

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        name = f"waha_{fn.__name__}"
        where = toolset or fn.__module__.rsplit(".", 1)[-1]
        if where not in TOOLSETS:
            raise ValueError(f"unknown toolset {where!r} for {name}")
        if name in REGISTRY:
            raise ValueError(f"duplicate tool {name}")
        if question is not None and not POLICY[effect].confirm and not callable(question):
            raise TypeError(f"{name}: a fixed question needs an effect that confirms")
        signature = inspect.signature(fn).parameters
        params = list(signature)[1:]
        if "session" not in params:
            raise TypeError(f"{name} must take a `session` parameter")
        if POLICY[effect].confirm and CONFIRM_ARGUMENT in params:
            raise TypeError(f"{name}: `{CONFIRM_ARGUMENT}` is added by the confirmation policy; rename the parameter")
        unknown = sorted({*writes, *filter(None, (session_argument, target))} - set(params))
        if unknown:
            raise TypeError(f"{name}: names unknown arguments {unknown}")
        fleet_arguments = tuple(arg for arg in FLEET_ARGUMENTS if arg in params)
        if any(signature[arg].default is inspect.Parameter.empty for arg in fleet_arguments):
            raise TypeError(f"{name}: {', '.join(fleet_arguments)} must be optional (unlisted with one WAHA server)")
        REGISTRY[name] = ToolSpec(
            name=name,
            toolset=where,
            fn=fn,
            description=description,
            effect=effect,
            scope=scope,
            operations=operations,
            pacing=pacing,
            writes=writes,
            output=output,
            reach=reach,
            reads_in_read_only=reads_in_read_only,
            question=question,
            default=default,
            session_argument=session_argument,
            target=target,
            fans_out=fans_out,
            fleet_arguments=fleet_arguments,
        )
        return fn

    return register


CONFIRM_FIELD = (bool, Field(default=False, description="Must be true unless your client asks the user itself."))


def _arguments_model(name: str, fn: Callable[..., Any], *, confirm: bool = False) -> type[BaseModel]:
    """A pydantic model of the function's parameters after the first (the invocation); extras forbidden.

    A tool whose policy needs confirmation also takes `confirm` (see waha_mcp.safety.confirm).
    """
    hints = get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for param in list(inspect.signature(fn).parameters.values())[1:]:
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (hints[param.name], default)
    if confirm:
        fields[CONFIRM_ARGUMENT] = CONFIRM_FIELD
    return create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid", populate_by_name=False), **fields)


def all_tools() -> list[ToolSpec]:
    """Every registered tool in a stable order: by toolset, then registration order."""
    import waha_mcp.tools  # noqa: F401  (registers every toolset module)

    order = list(TOOLSETS)
    return sorted(REGISTRY.values(), key=lambda spec: order.index(spec.toolset))


def select_tools(
    toolsets: Iterable[str] | None = None,
    tools: Iterable[str] | None = None,
    read_only: bool = False,
    sandbox: bool = False,
    transcribe: bool = False,
) -> list[ToolSpec]:
    """Apply WAHA_TOOLSETS, WAHA_TOOLS and WAHA_READ_ONLY; unknown names are a config error.

    The default set is each tool's `default` (`transcribe`: WAHA_MCP_TRANSCRIBE is on).
    The `sandbox` toolset is listed only with `sandbox` (the built-in emulator), and then always.
    Pure and cheap, so it can run per request as well as at start-up.
    """
    specs = [spec for spec in all_tools() if sandbox or spec.toolset not in SANDBOX_ONLY]
    toolsets, tools = list(toolsets or ()), list(tools or ())
    chosen: set[str] | None = None
    if toolsets:
        wanted = set(TOOLSETS) if "all" in toolsets else set(toolsets)
        unknown = sorted(wanted - set(TOOLSETS))
        if unknown:
            raise ConfigError(
                f"unknown toolset(s) {', '.join(unknown)} in WAHA_TOOLSETS; valid: all, {', '.join(TOOLSETS)}"
            )
        chosen = {spec.name for spec in specs if spec.toolset in wanted}
    if tools:
        unknown = sorted(set(tools) - {spec.name for spec in specs})
        if unknown:
            raise ConfigError(f"unknown tool(s) {', '.join(unknown)} in WAHA_TOOLS; see `waha-mcp tools`")
        # WAHA_TOOLS adds single tools to the chosen toolsets, or alone is the whole list.
        chosen = (chosen or set()) | set(tools)
    if chosen is None:
        when = {"always", *(["sandbox"] if sandbox else []), *(["transcribe"] if transcribe else [])}
        chosen = {spec.name for spec in specs if spec.default in when}
    chosen |= {spec.name for spec in specs if spec.toolset in SANDBOX_ONLY}
    specs = [spec for spec in specs if spec.name in chosen]
    if read_only:
        # Read-only overrides everything: no write tool is ever exposed.
        specs = [spec for spec in specs if spec.in_read_only]
    return specs


def select_for(settings: Settings) -> list[ToolSpec]:
    return select_tools(
        settings.waha_toolsets,
        settings.waha_tools,
        settings.waha_read_only,
        settings.sandbox,
        transcribe=settings.transcribe != "off",
    )


TOOLSETS_HEADER = "x-waha-toolsets"
READ_ONLY_HEADER = "x-waha-read-only"


def header_lines(headers: Any, name: str) -> list[str]:
    """Every line of a header sent once or more (Starlette's Headers keeps them all; a plain mapping has one)."""
    if not headers:
        return []
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):
        return [str(value) for value in getlist(name)]
    value = headers.get(name)
    return [] if value is None else [str(value)]


def asked_read_only(headers: Any) -> bool:
    """`X-WAHA-Read-Only`: read-only if any line (or any comma-separated part of one) says true; the strictest wins.

    A value other than true/false/1/0 is a ConfigError naming it."""
    asked = False
    for line in header_lines(headers, READ_ONLY_HEADER):
        for part in line.split(",") if line.strip() else [""]:
            value = part.strip().lower()
            if value not in ("", "true", "false", "1", "0"):
                raise ConfigError(f"{READ_ONLY_HEADER} must be true or false, not {value[:20]!r}")
            asked = asked or value in ("true", "1")
    return asked


def asked_toolsets(headers: Any) -> set[str] | None:
    """`X-WAHA-Toolsets`: the toolsets every line allows (a repeated header narrows to the intersection), or None
    when no line narrows (absent, or `all`). An unknown toolset is a ConfigError naming it."""
    wanted: set[str] | None = None
    for line in header_lines(headers, TOOLSETS_HEADER):
        names = {part.strip() for part in line.split(",") if part.strip()}
        unknown = sorted(names - set(TOOLSETS) - {"all"})
        if unknown:
            shown = ", ".join(name[:30] for name in unknown[:5])
            raise ConfigError(f"unknown toolset(s) {shown} in {TOOLSETS_HEADER}; valid: all, {', '.join(TOOLSETS)}")
        if "all" not in names:
            wanted = names if wanted is None else wanted & names
    return wanted


def narrow(specs: list[ToolSpec], headers: Any) -> list[ToolSpec]:
    """What one HTTP connection asked for: `X-WAHA-Toolsets` and `X-WAHA-Read-Only` narrow, never widen; a header
    sent more than once narrows by every line (issue 18: the first line must not win).

    An unknown toolset or a read-only value other than true/false is a ConfigError naming it.
    """
    if not headers:
        return specs
    read_only = asked_read_only(headers)
    wanted = asked_toolsets(headers)
    if wanted is not None:
        specs = [spec for spec in specs if spec.toolset in wanted]
    if read_only:
        specs = [spec for spec in specs if spec.in_read_only]
    return specs


def not_exposed(name: str, settings: Settings) -> str:
    """Why this server does not expose the tool `name`, and how to turn it on (one line)."""
    every = {spec.name: spec for spec in all_tools()}
    spec = every.get(name)
    if spec is None:
        return f"unknown tool {name[:80]!r}: see tools/list"
    if spec.toolset in SANDBOX_ONLY and not settings.sandbox:
        return f"{name} exists only with --sandbox (the built-in WAHA emulator)"
    if settings.waha_read_only and not spec.in_read_only:
        return f"{name} writes, and this server is read-only (WAHA_READ_ONLY)"
    chosen = list(settings.waha_toolsets or ())
    if chosen:
        how = f"set WAHA_TOOLSETS={','.join([*chosen, spec.toolset])} (--toolsets)"
    else:  # the default set: naming toolsets replaces it
        how = f"set WAHA_TOOLSETS={spec.toolset} (--toolsets; it replaces the default set, `all` for everything)"
    return (
        f"{name} is in the toolset `{spec.toolset}`, which this server does not expose: {how}, "
        f"or add {name} to WAHA_TOOLS (--tools)"
    )


def narrows(headers: Any) -> bool:
    """The request carries a narrowing header (most carry none: nothing to parse then)."""
    return bool(headers) and (TOOLSETS_HEADER in headers or READ_ONLY_HEADER in headers)


def exposed_tool(
    name: str, specs: list[ToolSpec], settings: Settings, headers: Any, by_name: Mapping[str, ToolSpec] | None = None
) -> ToolSpec:
    """The tool `name` as this server (`specs`: what it lists; `by_name`: the same, by name) and this connection
    (its narrowing headers) expose it, or a ToolInputError saying in one line why not: unknown (with the closest
    name), switched off (and how to switch it on), or narrowed away by the connection. The one visibility check,
    for a call and for the tool a bulk call runs."""
    spec = (by_name if by_name is not None else {spec.name: spec for spec in specs}).get(name)
    if spec is None:
        if name not in REGISTRY and (close := closest_tool(name, [spec.name for spec in specs])):
            raise ToolInputError(f"unknown tool {name[:60]!r}: did you mean {close}?")
        raise ToolInputError(not_exposed(name, settings))
    if narrows(headers):
        try:
            visible = narrow(specs, headers)
        except ConfigError as exc:
            raise ToolInputError(str(exc)) from None
        if spec not in visible:
            raise ToolInputError(not_for_connection(spec, headers))
    return spec


def not_for_connection(spec: ToolSpec, headers: Any) -> str:
    """Why a connection's own narrowing (X-WAHA-Toolsets, X-WAHA-Read-Only) leaves `spec` out."""
    if asked_read_only(headers) and not spec.in_read_only:
        return f"{spec.name} writes, and this connection is read-only (X-WAHA-Read-Only)"
    return f"{spec.name} is not enabled for this connection: its toolset `{spec.toolset}` is not in X-WAHA-Toolsets"


def closest_tool(name: str, names: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(names), n=1)
    return close[0] if close else None
