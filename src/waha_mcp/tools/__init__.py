"""Tool modules, one per toolset; importing this package registers every tool."""

from waha_mcp.tools import (
    admin,  # noqa: F401
    chats,  # noqa: F401
    groups,  # noqa: F401
    media,  # noqa: F401
    messages,  # noqa: F401
    presence,  # noqa: F401
    sessions,  # noqa: F401
)
