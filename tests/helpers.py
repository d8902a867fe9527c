"""Small helpers for calling tools the way a model would and reading what it gets back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult


async def call(client: Client, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
    return await client.call_tool(name, arguments or {})


def text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content if block.type == "text")


def data(result: CallToolResult) -> Any:
    """The JSON payload of a successful call (fails the test on an error result)."""
    assert not result.is_error, text(result)
    return json.loads(text(result))


def error(result: CallToolResult) -> str:
    """The one-line message of an error result (fails the test on success)."""
    assert result.is_error, f"expected an error, got {text(result)}"
    message = text(result)
    assert "\n" not in message and "Traceback" not in message, message
    return message


PROFILES = ("current", "core-2024.10")


def on_profiles(*names: str) -> pytest.MarkDecorator:
    """Run a test on each named sandbox profile (all of them by default): it overrides the `profile` fixture."""
    return pytest.mark.parametrize("profile", names or PROFILES)
