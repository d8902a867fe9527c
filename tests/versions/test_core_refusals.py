"""What WAHA Core 2024.10 refuses to a working session, and what the agent is told (issue 21).

Its NOWEB session throws AvailableInPlusVersion for media sends and NotImplementedByEngineError for what the
engine lacks, both 422 in that release (src/core/exceptions.ts); the sandbox's core profile answers so.
"""

from __future__ import annotations

import pytest
from mcp import Client

from tests.helpers import call, error, on_profiles
from waha_mcp.sandbox import Sandbox

PERSON = "12025550111@c.us"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@on_profiles("core-2024.10")
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("waha_send_media", {"chatId": PERSON, "data": PNG, "mimetype": "image/png", "type": "image"}),
        ("waha_send_media_status", {"data": PNG, "mimetype": "image/png"}),
    ],
)
async def test_plus_only_features_say_they_need_plus(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, str]
) -> None:
    sandbox.set_status("default", "WORKING")
    told = error(await call(mcp, tool, args))
    assert "422" in told and "The feature is available only in Plus version" in told  # WAHA's words
    assert "This needs WAHA Plus" in told


@on_profiles("core-2024.10")
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("waha_delete_chat", {"chatId": PERSON, "session": "default"}),
        ("waha_clear_chat", {"chatId": PERSON, "session": "default"}),
        ("waha_get_contact_about", {"contactId": PERSON}),
        ("waha_block_contact", {"contactId": PERSON}),
        ("waha_subscribe_presence", {"chatId": PERSON}),
    ],
)
async def test_what_the_engine_lacks_is_about_this_waha_not_the_session(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, str]
) -> None:
    sandbox.set_status("default", "WORKING")
    told = error(await call(mcp, tool, args))
    assert "this WAHA (2024.10.8 CORE) does not support" in told and "not implemented by the engine" in told
    assert "session 'default' is" not in told


@on_profiles("core-2024.10")
async def test_the_session_is_checked_before_the_refusal(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.set_status("default", "STOPPED")
    told = error(await call(mcp, "waha_delete_chat", {"chatId": PERSON, "session": "default"}))
    assert "not implemented" not in told and "STOPPED" in told
