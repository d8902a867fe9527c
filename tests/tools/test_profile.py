"""Toolset `profile` end to end: name, about text and picture of your own account."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    root.mkdir()
    (root / "me.png").write_bytes(PNG)
    (root / "notes.pdf").write_bytes(b"%PDF-1.4 hello")
    (tmp_path / "outside.png").write_bytes(PNG)
    return root


@pytest.fixture
def settings(files_dir: Path) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all", WAHA_MCP_FILES_DIR=str(files_dir)
    )


def world(sandbox: Sandbox) -> World:
    w = sandbox.sessions["default"].world
    assert w is not None
    return w


async def test_name_and_about_are_set_and_the_profile_shows_the_name(mcp: Client, sandbox: Sandbox) -> None:
    me = data(await call(mcp, "waha_get_my_profile"))
    assert me == {
        "session": "default",
        "me": {"id": world(sandbox).me_id, "name": world(sandbox).me_name, "picture": None},
    }
    out = data(await call(mcp, "waha_set_my_profile_name", {"name": "  Ana's shop "}))
    assert out == {"session": "default", "updated": True, "name": "Ana's shop"}
    request = sandbox.requests[-1]
    assert (request.method, request.path, request.json) == ("PUT", "/api/default/profile/name", {"name": "Ana's shop"})
    assert data(await call(mcp, "waha_get_my_profile"))["me"]["name"] == "Ana's shop"
    assert sandbox.sessions["default"].me["pushName"] == "Ana's shop"  # type: ignore[index]
    out = data(await call(mcp, "waha_set_my_profile_status", {"about": "Open 9-17 🕘"}))
    assert out == {"session": "default", "updated": True, "about": "Open 9-17 🕘"}
    assert sandbox.requests[-1].json == {"status": "Open 9-17 🕘"}
    assert world(sandbox).profile.about == "Open 9-17 🕘"


async def test_picture_from_a_local_file_then_deleted(mcp: Client, sandbox: Sandbox, files_dir: Path) -> None:
    out = data(await call(mcp, "waha_set_my_profile_picture", {"file": "me.png"}))
    assert out == {"session": "default", "updated": True, "picture": True}
    sent = sandbox.requests[-1].json["file"]
    assert sent == {"mimetype": "image/png", "filename": "me.png", "data": base64.b64encode(PNG).decode()}
    picture = data(await call(mcp, "waha_get_my_profile"))["me"]["picture"]
    assert picture.startswith("https://pps.whatsapp.net/")
    out = data(await call(mcp, "waha_delete_my_profile_picture", {"session": "default"}))
    assert out == {"session": "default", "updated": True, "picture": False}
    assert sandbox.requests[-1].method == "DELETE"
    assert data(await call(mcp, "waha_get_my_profile"))["me"]["picture"] is None


async def test_picture_from_a_url_or_base64(mcp: Client, sandbox: Sandbox) -> None:
    data(await call(mcp, "waha_set_my_profile_picture", {"file": "https://example.com/a/me.jpg"}))
    assert sandbox.requests[-1].json == {
        "file": {"mimetype": "image/jpeg", "filename": "me.jpg", "url": "https://example.com/a/me.jpg"}
    }
    data(await call(mcp, "waha_set_my_profile_picture", {"data": base64.b64encode(PNG).decode()}))
    assert sandbox.requests[-1].json["file"]["mimetype"] == "image/png"


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("waha_set_my_profile_picture", {"file": "../outside.png"}, "outside WAHA_MCP_FILES_DIR"),
        ("waha_set_my_profile_picture", {"file": "/etc/passwd"}, "outside WAHA_MCP_FILES_DIR"),
        ("waha_set_my_profile_picture", {"file": "notes.pdf"}, "JPEG or PNG"),
        ("waha_set_my_profile_picture", {}, "give exactly one of"),
        ("waha_set_my_profile_picture", {"file": "ftp://x/y.png"}, "only http(s) URLs"),
        ("waha_set_my_profile_name", {"name": "   "}, "name is empty"),
        ("waha_set_my_profile_name", {"name": "x" * 26}, "name"),
        ("waha_set_my_profile_status", {"about": "x" * 140}, "about"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, object], needle: str
) -> None:
    assert needle in error(await call(mcp, tool, args))
    assert sandbox.requests == []
