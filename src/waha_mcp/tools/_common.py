"""What every tool module shares: argument markers, result shapes, the invocation type."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_types import CallToolResult, ContentBlock, ImageContent, TextContent

from waha_mcp.client import Binary
from waha_mcp.jsonfast import dumps
from waha_mcp.tools.schema import (
    ChannelId,
    ChannelRef,
    ChatId,
    Cursor,
    FetchHost,
    FetchUrl,
    GroupId,
    Limit,
    MessageId,
    Name,
    Offset,
    PageToken,
    Phone,
    Server,
    Session,
    SessionName,
    StatusId,
    Timestamp,
    fetch_marker,
    preview_marker,
    visible,
)

__all__ = [
    "ChannelId",
    "ChannelRef",
    "ChatId",
    "Cursor",
    "FetchHost",
    "FetchUrl",
    "GroupId",
    "Limit",
    "MessageId",
    "Name",
    "Offset",
    "PageToken",
    "Phone",
    "Rich",
    "Server",
    "Session",
    "SessionName",
    "StatusId",
    "Timestamp",
    "dumps",
    "error_result",
    "fetch_marker",
    "image_result",
    "preview_marker",
    "visible",
]


@dataclass
class Rich:
    """A result with content blocks (an image, a file) before the JSON line that describes it."""

    data: Mapping[str, Any]  # a projection (a TypedDict)
    blocks: list[ContentBlock] = field(default_factory=list)


def image_result(image: Binary, data: Mapping[str, Any]) -> Rich:
    """An image the model can see, plus a compact JSON line describing it."""
    block = ImageContent(type="image", data=base64.b64encode(image.data).decode(), mime_type=image.mimetype)
    return Rich(data, [block])


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
