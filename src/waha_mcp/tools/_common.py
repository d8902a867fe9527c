"""What every tool module shares: the dependencies handed to tools, the `session` argument, results."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Annotated, Any

from mcp_types import CallToolResult, ImageContent, TextContent
from pydantic import Field

from waha_mcp.client import Binary, WAHAClient
from waha_mcp.config import Settings

SESSION_DESCRIPTION = "Default: WAHA_SESSION."

# The same optional `session` on every tool; the runtime replaces it with the resolved name.
Session = Annotated[str | None, Field(description=SESSION_DESCRIPTION)]


# Ids carry no description: their names say enough, and every schema byte is paid on every turn.
ChatId = str
MessageId = str


@dataclass
class Deps:
    """Shared state a tool may use; owned by the server's lifespan."""

    client: WAHAClient
    settings: Settings


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def result(data: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=dumps(data))], structured_content=data)


def image_result(image: Binary, data: dict[str, Any]) -> CallToolResult:
    """An image the model can see, plus a compact JSON line describing it."""
    return CallToolResult(
        content=[
            ImageContent(type="image", data=base64.b64encode(image.data).decode(), mime_type=image.mimetype),
            TextContent(type="text", text=dumps(data)),
        ],
        structured_content=data,
    )


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
