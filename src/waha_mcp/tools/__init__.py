"""Tool modules, one per toolset; importing this package registers every tool."""

from waha_mcp.tools import (
    admin,  # noqa: F401
    audit,  # noqa: F401
    bulk,  # noqa: F401
    channels,  # noqa: F401
    chats,  # noqa: F401
    contacts,  # noqa: F401
    events,  # noqa: F401
    groups,  # noqa: F401
    labels,  # noqa: F401
    media,  # noqa: F401
    messages,  # noqa: F401
    presence,  # noqa: F401
    profile,  # noqa: F401
    sandbox,  # noqa: F401
    sessions,  # noqa: F401
    status,  # noqa: F401
    transcribe,  # noqa: F401
)
