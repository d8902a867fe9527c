"""Session-name validation and resolution: explicit `session` → `WAHA_SESSION` → a listing error."""

from __future__ import annotations

from waha_mcp.client import WAHAClient, WAHAError
from waha_mcp.client.fleet import Fleet
from waha_mcp.config import SESSION_NAME_RE, SESSION_NAME_RULE
from waha_mcp.errors import ToolInputError


def validate_session_name(name: str) -> str:
    if not isinstance(name, str) or not SESSION_NAME_RE.fullmatch(name):
        shown = repr(name)[:70]
        raise ToolInputError(f"invalid session name {shown}: {SESSION_NAME_RULE} (see waha_list_sessions)")
    return name


async def describe_sessions(client: WAHAClient | Fleet) -> str:
    """`a (WORKING), b (STOPPED)` for error messages; never raises."""
    try:
        sessions = await client.list_sessions(all=True)
    except WAHAError as exc:
        return f"(could not list sessions: {exc.message})"
    if not sessions:
        return "none yet (create one with waha_create_session)"
    return ", ".join(f"{s.get('name')} ({s.get('status')})" for s in sessions if isinstance(s, dict))


async def resolve_session(
    client: WAHAClient | Fleet, explicit: str | None, default: str | None, *, tool: str, allow_default: bool = True
) -> str:
    if explicit is not None and explicit != "":
        return validate_session_name(explicit)
    if not allow_default:
        raise ToolInputError(
            f"{tool} needs an explicit `session` (destructive session actions never use WAHA_SESSION); "
            f"sessions: {await describe_sessions(client)}"
        )
    if default:
        return default
    raise ToolInputError(
        f"no session given and WAHA_SESSION is not set: pass `session`; sessions: {await describe_sessions(client)}"
    )
