"""Client: path values percent-encoded, and files fetched only from WAHA's file server, within a size cap."""

from __future__ import annotations

import pytest

from waha_mcp.client import Binary, NotOnFileServer, TooLarge, WAHAClient, WAHAError
from waha_mcp.sandbox import Sandbox


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        ("http://waha:3000", "http://waha:3000/api/files/default/x.jpeg", "/api/files/default/x.jpeg"),
        ("http://waha:3000", "/api/files/default/x.jpeg?a=1", "/api/files/default/x.jpeg?a=1"),
        # WAHA names itself by its own WAHA_BASE_URL: its file server is still fetched from ours.
        ("http://waha:3000", "http://localhost:3000/api/files/default/x.oga", "/api/files/default/x.oga"),
        ("http://h/waha", "http://h/waha/api/files/s/x.jpeg", "/api/files/s/x.jpeg"),
        ("http://h/waha", "http://h/other/x.jpeg", None),
        ("http://waha:3000", "http://evil.example/x.jpeg", None),
        ("http://waha:3000", "http://169.254.169.254/latest/meta-data", None),
        ("http://waha:3000", "https://waha:3000/api/x", None),  # another scheme is another origin
        ("http://waha:3000", "http://user:pw@waha:3000/api/files/x", None),
        ("http://waha:3000", "file:///etc/passwd", None),
        ("http://waha:3000", "http://waha:3000/api/files/../../etc/passwd", None),
        ("http://waha:3000", "http://waha:3000/api/files/%2e%2e/x", None),
        ("http://waha:3000", "x.jpeg", None),
        # Only WAHA's file server is fetched with the key, never another route of its API.
        ("http://waha:3000", "http://waha:3000/api/sessions", None),
        ("http://waha:3000", "http://waha:3000/api/default/chats?limit=1000", None),
        ("http://waha:3000", "/api/server/environment", None),
        ("http://waha:3000", "http://waha:3000/__sandbox/files/default/x.jpeg", None),
        ("http://waha:3000", "http://waha:3000/api/filesystem/x", None),
        ("http://waha:3000", "http://waha:3000/api/files/..%2fsessions", None),
        ("http://h/waha", "http://h/waha/api/sessions", None),
    ],
)
def test_files_path_only_for_the_waha_host(base: str, url: str, expected: str | None) -> None:
    if expected is not None:
        assert WAHAClient(base).files_path(url) == expected
        return
    with pytest.raises(NotOnFileServer) as refused:
        WAHAClient(base).files_path(url, "s1")
    assert (refused.value.url, refused.value.file_server, refused.value.session) == (url, base, "s1")
    assert refused.value.message.endswith(f"is not on WAHA's file server ({base}/api/files/...): not fetched")


async def test_fetch_file_refuses_other_hosts_and_caps_size(waha: WAHAClient, sandbox: Sandbox) -> None:
    for url in ["http://elsewhere/x", "http://sandbox/api/sessions", "http://sandbox/api/server/environment",
                "/__sandbox/state"]:  # fmt: skip
        with pytest.raises(NotOnFileServer) as refused:
            await waha.fetch_file("default", url, max_bytes=10**6)
        assert refused.value.session == "default" and refused.value.status == 0 and "file server" in str(refused.value)
    assert sandbox.requests == []
    world = sandbox.sessions["default"].world
    assert world is not None
    msg = next(m for c in world.chats.values() for m in c.messages if m.media)
    got = await waha.call(
        "ChatsController_getChatMessage",
        "default",
        path={"chatId": msg.chat_id, "messageId": msg.id},
        query={"downloadMedia": True},
    )
    assert got is not None
    url = got["media"]["url"]
    assert url.startswith("http://sandbox/api/files/default/")  # where WAHA serves them
    file = await waha.fetch_file("default", url, max_bytes=10**7)
    assert isinstance(file, Binary) and file.mimetype == "image/jpeg" and len(file.data) == msg.media.size
    with pytest.raises(WAHAError) as caught:
        await waha.fetch_file("default", url, max_bytes=1024)
    assert isinstance(caught.value, TooLarge) and "1024" in caught.value.message
    msg.media.downloaded_at = None
    with pytest.raises(WAHAError) as gone:
        await waha.fetch_file("default", url, max_bytes=10**7)
    assert gone.value.status == 404


async def test_chat_paths_are_percent_encoded(waha: WAHAClient, sandbox: Sandbox) -> None:
    world = sandbox.sessions["default"].world
    assert world is not None
    chat = next(iter(world.chats.values()))
    msg = chat.messages[0]
    path = {"chatId": chat.id, "messageId": msg.id}
    await waha.call("ChatsController_pinMessage", "default", path=path, body={"duration": 2592000})
    request = sandbox.requests[-1]
    assert request.path == f"/api/default/chats/{chat.id.replace('@', '%40')}/messages/{msg.id.replace('@', '%40')}/pin"
    assert request.json == {"duration": 2592000}
    await waha.call("ChatsController_unarchiveChat", "default", path={"chatId": chat.id})
    assert sandbox.requests[-1].path.endswith("%40" + chat.id.split("@")[1] + "/unarchive")


async def test_a_dot_segment_is_encoded_not_resolved_into_another_route(waha: WAHAClient, sandbox: Sandbox) -> None:
    for value in (".", ".."):
        with pytest.raises(WAHAError, match="not found"):
            await waha.call("AppsController_get", path={"id": value})
        assert sandbox.requests[-1].path == "/api/apps/" + "%2E" * len(value)
    await waha.call("ApiKeysController_list")
    assert sandbox.requests[-1].path == "/api/keys"
