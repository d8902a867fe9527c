"""What a write call targets: its session and the chats it touches, read from the argument markers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from waha_mcp.ids import message_key

if TYPE_CHECKING:
    from waha_mcp.tools.registry import ToolSpec

CHAT_KINDS = ("chat", "group", "channel")
# @mentions name people inside a message; they are not where the message goes.
NOT_TARGETS = frozenset({"mentions"})


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def message_chat(message_id: str) -> str | None:
    """The chat a message id names, as WAHA reads it (`waha_mcp.ids.message_key`); None for a bare id."""
    return message_key(message_id).chat


def chats_of(spec: ToolSpec, args: dict[str, Any]) -> list[str]:
    """Every chat, group or channel the call reaches, in argument order (the chat inside a message id too)."""
    found: list[str] = []
    for name, kind in spec.markers.items():
        if name in NOT_TARGETS:
            continue
        if kind in CHAT_KINDS:
            found.extend(_values(args.get(name)))
        elif kind == "message":
            found.extend(chat for v in _values(args.get(name)) if (chat := message_chat(v)))
    return list(dict.fromkeys(found))


def chatless_ids(spec: ToolSpec, args: dict[str, Any]) -> list[str]:
    """The message ids in the call that name no chat (bare engine ids): where they lead cannot be checked."""
    return [
        value
        for name, kind in spec.markers.items()
        if kind == "message"
        for value in _values(args.get(name))
        if message_chat(value) is None
    ]


def target_of(spec: ToolSpec, args: dict[str, Any]) -> str | None:
    """One short target for the audit log: the chats reached, else what the registration names (`target`)."""
    chats = chats_of(spec, args)
    if chats:
        shown = ",".join(chats[:3])
        return shown + (f",+{len(chats) - 3}" if len(chats) > 3 else "")
    named = args.get(spec.target) if spec.target else None
    return f"{spec.target}:{named[:60]}" if isinstance(named, str) else None
