"""A 2xx from WAHA without what the operation promises (a QR image, a screenshot, a converted file, an invite code,
a new API key, the message asked for) takes one error path: Invocation.no_answer, worded by the pipeline's error
mapping (the session, the route, whether it probably took effect), not a message each tool spells."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, error
from waha_mcp.sandbox import Sandbox

RETRY = "; retry, and check WAHA's logs (or a proxy in front of it) if it persists"
TOOK_EFFECT = ": it has probably taken effect, but the result is unknown; check before repeating it"


def group(sandbox: Sandbox) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return next(iter(world.groups))


def person(sandbox: Sandbox) -> str:
    world = sandbox.sessions["default"].world
    assert world is not None
    return next(iter(world.contacts))


@pytest.mark.parametrize(
    ("operation", "tool", "arguments", "expected"),
    [
        (
            "ScreenshotController_screenshot",
            "waha_get_screenshot",
            {},
            "session 'default': WAHA answered GET /api/screenshot (200) without a screenshot" + RETRY,
        ),
        (
            "MediaController_convertVoice",
            "waha_convert_media",
            {"kind": "voice", "url": "https://example.com/a.mp3"},
            # A POST: the client's rule for a garbled 2xx to a write (client._http.READ_POSTS) applies.
            "session 'default': WAHA accepted POST /api/default/media/convert/voice (200) but answered with no"
            " converted file" + TOOK_EFFECT,
        ),
        (
            "GroupsController_getInviteCode",
            "waha_get_group_invite",
            {"groupId": "{group}"},
            "session 'default': WAHA answered GET /api/default/groups/{group_path}/invite-code (200) without an "
            "invite code" + RETRY,
        ),
        (
            "GroupsController_revokeInviteCode",
            "waha_revoke_group_invite",
            {"groupId": "{group}", "session": "default"},
            "session 'default': WAHA accepted POST /api/default/groups/{group_path}/invite-code/revoke (200) "
            "but answered with no new invite code" + TOOK_EFFECT,
        ),
        (
            "ApiKeysController_create",
            "waha_create_api_key",
            {"session": "default", "rights": {"read": True}},
            "session 'default': WAHA accepted POST /api/keys (201) but answered with no key (waha_list_api_keys "
            "shows whether one was made)" + TOOK_EFFECT,
        ),
        (
            "ChatsController_getChatMessage",
            "waha_get_message",
            {"chatId": "{person}", "messageId": "true_{person}_ABC"},
            "session 'default': WAHA answered GET /api/default/chats/{person_path}/messages/"
            "true_{person_path}_ABC (200) without the message" + RETRY,
        ),
    ],
)
async def test_a_2xx_without_the_promised_answer_takes_the_one_error_path(
    mcp: Client, sandbox: Sandbox, operation: str, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    values = {"group": group(sandbox), "person": person(sandbox)}
    # Paths as the client sends them (each value one percent-encoded segment) and WAHA's errors show them.
    values |= {"group_path": values["group"].replace("@", "%40"), "person_path": values["person"].replace("@", "%40")}
    filled = {k: v.format(**values) if isinstance(v, str) else v for k, v in arguments.items()}
    status = 201 if " (201) " in expected else 200
    sandbox.faults.add(operation, kind="status", status=status, body=[], times=1)
    message = error(await call(mcp, tool, filled))
    assert message == expected.format(**values), message
