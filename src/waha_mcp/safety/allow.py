"""Allow-lists: the sessions and chats write tools may target (WAHA_MCP_ALLOW_SESSIONS / _CHATS)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from waha_mcp.ids import c_us


def allowed(value: str, patterns: list[str]) -> bool:
    """A session name against names or glob patterns."""
    return any(fnmatchcase(value, p) for p in patterns)


def chat_allowed(chat: str, patterns: list[str]) -> bool:
    """A chat id against ids or glob patterns; a pattern without `@` matches the number of a phone chat (a LID, a
    group or a channel with the same digits is someone or something else). A user JID is read as its @c.us id."""
    chat = c_us(chat)
    user, _, server = chat.partition("@")
    phone = server == "c.us"
    return any(fnmatchcase(chat, p) if "@" in p else phone and fnmatchcase(user, p) for p in patterns)


def session_refusal(session: str | None, patterns: list[str]) -> str | None:
    if not patterns or session is None or allowed(session, patterns):
        return None
    return (
        f"session {session!r} is not in WAHA_MCP_ALLOW_SESSIONS ({', '.join(patterns)}); "
        "write tools may only act for those sessions; nothing was sent"
    )


def chat_refusal(chats: list[str], patterns: list[str], aliases: dict[str, str] | None = None) -> str | None:
    """Why a write reaching `chats` is refused, or None. `aliases`: a LID → the phone id of that person."""
    if not patterns:
        return None
    known = aliases or {}
    refused = [c for c in chats if not (chat_allowed(c, patterns) or (c in known and chat_allowed(known[c], patterns)))]
    if not refused:
        return None
    shown = ", ".join(refused[:3]) + (f" and {len(refused) - 3} more" if len(refused) > 3 else "")
    return (
        f"{shown} not in WAHA_MCP_ALLOW_CHATS ({', '.join(patterns)}); "
        "write tools may only target those chats; nothing was sent"
    )


def unknown_refusal(why: str, patterns: list[str]) -> str:
    """A write whose chats cannot be known while WAHA_MCP_ALLOW_CHATS is set."""
    return (
        f"{why}, so it cannot be checked against WAHA_MCP_ALLOW_CHATS ({', '.join(patterns)}); "
        "write tools may only target those chats; nothing was sent"
    )
