"""Tool modules, one per toolset; importing this package registers every tool."""

from waha_mcp.tools import sessions  # noqa: F401
from waha_mcp.tools import messages  # noqa: F401
