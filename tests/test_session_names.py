"""One rule for a session's name (WAHA's: 1-64 letters, digits, '_' or '-'), wherever an argument names one."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from pydantic import BaseModel

from tests.helpers import call, error
from waha_mcp.config import SESSION_NAME_RE, ConfigError, load_settings
from waha_mcp.tools.schema import SessionName, arguments_schema

BAD = "no such"  # a space: no session can have this name
REFUSAL = f"invalid session name {BAD!r}: use 1-64 letters, digits, '_' or '-'"


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("waha_get_session", {"session": BAD}),
        ("waha_for_sessions", {"tool": "waha_get_session", "sessions": [BAD]}),
        ("waha_get_events", {"sessions": [BAD]}),
        ("waha_inbox", {"sessions": ["default", BAD]}),
        ("waha_remove_webhooks", {"sessions": [BAD]}),
    ],
)
async def test_every_argument_naming_a_session_refuses_a_bad_name_alike(
    mcp: Client, tool: str, arguments: dict[str, Any]
) -> None:
    result = await call(mcp, tool, arguments)
    assert result.is_error
    assert REFUSAL in error(result)


def test_the_schemas_pattern_is_the_rule() -> None:
    class Model(BaseModel):
        sessions: list[SessionName]

    schema = arguments_schema(Model)
    assert schema["properties"]["sessions"]["items"]["pattern"] == SESSION_NAME_RE.pattern


def test_waha_session_is_checked_by_the_same_rule() -> None:
    with pytest.raises(ConfigError, match=f"WAHA_SESSION: {REFUSAL}"):
        load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION=BAD)
    assert load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="a-b_c9").waha_session == "a-b_c9"
