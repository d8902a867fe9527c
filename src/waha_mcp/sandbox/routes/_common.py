"""Helpers shared by route modules (not an area: it registers no handler)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .. import errors
from ..registry import Ctx
from ..state import SandboxSession
from ..world import World

T = TypeVar("T")


def world_of(session: SandboxSession) -> World:
    if session.world is None:  # a WORKING session is always paired; guard for forced states
        raise errors.nest(500, f"Session '{session.name}' has no data (not paired)")
    return session.world


def refuse_if_timelocked(ctx: Ctx, session: SandboxSession, chat_id: str) -> None:
    """WhatsApp's reach-out timelock: a message to someone with no conversation yet fails with error 463,
    which WAHA lets through as an unhandled exception (500), like the engine's other refusals."""
    if session.may_not_reach(chat_id):
        raise ctx.exception("server returned error 463")


def normalize_chat_id(value: str) -> str:
    """WAHA accepts a bare phone number where a person's chat id is expected."""
    value = value.strip()
    if "@" not in value:
        return f"{value.lstrip('+')}@c.us"
    return value


def paginate(items: Sequence[T], ctx: Ctx, default_limit: int | None = None) -> list[T]:
    offset = max(ctx.q_int("offset", 0) or 0, 0)
    limit = ctx.q_int("limit", default_limit)
    end = None if limit is None or limit <= 0 else offset + limit
    return list(items[offset:end])


def sort_items(
    items: list[T],
    ctx: Ctx,
    keys: dict[str, Callable[[T], Any]],
    default: str | None = None,
    default_order: str = "asc",
) -> list[T]:
    sort_by = ctx.q_choice("sortBy", tuple(keys), default)
    order = ctx.q_choice("sortOrder", ("desc", "asc"), default_order)
    if sort_by is None:
        return items
    key = keys[sort_by]
    return sorted(items, key=lambda item: (key(item) is None, key(item) or ""), reverse=order == "desc")
