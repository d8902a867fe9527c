"""The single place where a tool's metadata and policy live, and where filtering happens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from waha_mcp.config import ConfigError, Settings

SessionPolicy = Literal["default", "explicit", "none"]

# Toolset name → one-line description, in the order tools are listed.
TOOLSETS: dict[str, str] = {
    "sessions": "Sessions and pairing: list, create, start/stop, QR code, pairing code, screenshot",
    "server": "WAHA server version and status",
    "messages": "Send text, media, locations, contacts, polls; react, star, mark seen, typing",
    "chats": "Chats overview, messages, read/unread, archive, pin, edit, delete",
    "presence": "Online/typing presence: set, get, subscribe",
    "media": "Download received media, convert voice/video, reject calls",
}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    toolset: str
    fn: Callable[..., Awaitable[Any]]
    description: str
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    # default: explicit → WAHA_SESSION; explicit: destructive, never the default; none: optional filter
    session: SessionPolicy
    # WAHA operationIds this tool can reach (coverage report, contract tests)
    operations: tuple[str, ...]


REGISTRY: dict[str, ToolSpec] = {}


def tool(
    name: str,
    toolset: str,
    description: str,
    *,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool | None = None,
    open_world: bool = False,
    session: SessionPolicy = "default",
    operations: tuple[str, ...] = (),
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register a tool function `async def f(w: Deps, session: Session = None, ...)`."""
    if toolset not in TOOLSETS:
        raise ValueError(f"unknown toolset {toolset!r} for {name}")

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        if name in REGISTRY:
            raise ValueError(f"duplicate tool {name}")
        REGISTRY[name] = ToolSpec(
            name=name,
            toolset=toolset,
            fn=fn,
            description=description,
            read_only=read_only,
            destructive=destructive and not read_only,
            idempotent=read_only if idempotent is None else idempotent,
            open_world=open_world,
            session=session,
            operations=operations,
        )
        return fn

    return register


def all_tools() -> list[ToolSpec]:
    """Every registered tool in a stable order: by toolset, then registration order."""
    import waha_mcp.tools  # noqa: F401  (registers every toolset module)

    order = list(TOOLSETS)
    return sorted(REGISTRY.values(), key=lambda spec: order.index(spec.toolset))


def select_tools(
    toolsets: list[str] | None = None, tools: list[str] | None = None, read_only: bool = False
) -> list[ToolSpec]:
    """Apply WAHA_TOOLSETS, WAHA_TOOLS and WAHA_READ_ONLY once; unknown names are a config error."""
    specs = all_tools()
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
    if chosen is not None:
        specs = [spec for spec in specs if spec.name in chosen]
    if read_only:
        # Read-only overrides everything: no write tool is ever registered.
        specs = [spec for spec in specs if spec.read_only]
    return specs


def select_for(settings: Settings) -> list[ToolSpec]:
    return select_tools(settings.waha_toolsets, settings.waha_tools, settings.waha_read_only)
