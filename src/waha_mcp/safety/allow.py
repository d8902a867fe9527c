"""Allow-lists: the sessions and chats write tools may target (WAHA_MCP_ALLOW_SESSIONS / _CHATS)."""

from __future__ import annotations

from fnmatch import fnmatchcase


def allowed(value: str, patterns: list[str]) -> bool:
    """An id or glob pattern; a chat pattern without `@` also matches the id's user part (`4915*`)."""
    user = value.split("@", 1)[0]
    return any(fnmatchcase(value, p) or ("@" not in p and fnmatchcase(user, p)) for p in patterns)


def session_refusal(session: str | None, patterns: list[str]) -> str | None:
    if not patterns or session is None or allowed(session, patterns):
        return None
    return (
        f"session {session!r} is not in WAHA_MCP_ALLOW_SESSIONS ({', '.join(patterns)}); "
        "write tools may only act for those sessions; nothing was sent"
    )


def chat_refusal(chats: list[str], patterns: list[str]) -> str | None:
    if not patterns:
        return None
    refused = [chat for chat in chats if not allowed(chat, patterns)]
    if not refused:
        return None
    shown = ", ".join(refused[:3]) + (f" and {len(refused) - 3} more" if len(refused) > 3 else "")
    return (
        f"{shown} not in WAHA_MCP_ALLOW_CHATS ({', '.join(patterns)}); "
        "write tools may only target those chats; nothing was sent"
    )
