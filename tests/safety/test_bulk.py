"""waha_for_sessions and waha_get_unread_everywhere: one call across sessions, every rule per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client

from tests.conftest import CheckedTransport
from tests.contract_plugin import ContractRecorder
from tests.helpers import call, data, error
from tests.pg import BACKENDS, pg_dsn, store_setting  # noqa: F401  (pg_dsn: a fixture)
from tests.safety.test_confirm import User
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server

PERSON = "4915112345678@c.us"
SEND = {"tool": "waha_send_message", "arguments": {"chatId": PERSON, "text": "hello from every account"}}


@pytest.fixture
def sandbox(contract: ContractRecorder) -> Sandbox:
    sb = Sandbox(sessions=5)
    sb.on_request.append(contract.hook)
    sb.set_status("sandbox5", "STOPPED")
    return sb


@pytest.fixture
def transport(sandbox: Sandbox, contract: ContractRecorder) -> httpx2.AsyncBaseTransport:
    return CheckedTransport(sandbox, contract)


def make(store: str, **extra: str) -> Settings:
    return load_settings(
        WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all", WAHA_MCP_STORE=store, **extra
    )


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every bulk test on SQLite and on PostgreSQL (tests/pg.py): bulk runs live in the audit log."""
    return store_setting(request, str(tmp_path / "store.sqlite3"))


@pytest.fixture
def settings(store: str) -> Settings:
    return make(store)


def sends(sandbox: Sandbox) -> list[str]:
    return sorted(
        r.path.split("/")[2] if r.path.count("/") > 2 else r.json["session"]
        for r in sandbox.requests
        if r.path == "/api/sendText"
    )


WORKING = ["business", "default", "sandbox3", "sandbox4"]


async def test_a_send_over_every_working_session(mcp: Client, sandbox: Sandbox) -> None:
    updates: list[float] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        updates.append(done)

    out = data(await mcp.call_tool("waha_for_sessions", SEND, progress_callback=progress))
    assert out["tool"] == "waha_send_message" and out["counts"] == {"ok": 4}
    assert sorted(row["session"] for row in out["rows"]) == WORKING
    for row in out["rows"]:
        assert row["status"] == "ok" and row["result"]["chatId"] == PERSON and row["result"]["messageId"]
        assert "session" not in row["result"]
    assert sends(sandbox) == WORKING
    assert updates == [1, 2, 3, 4]  # one increasing count, as MCP requires
    logged = data(await call(mcp, "waha_get_audit_log", {"bulkId": out["bulkId"]}))["entries"]
    assert sorted(e["session"] for e in logged if e["tool"] == "waha_send_message") == WORKING
    assert {e["messageId"] for e in logged if e["tool"] == "waha_send_message"} == {
        row["result"]["messageId"] for row in out["rows"]
    }


async def test_over_the_threshold_needs_confirmation(
    settings: Settings, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    async with Client(build_server(settings, transport=transport)) as plain:  # no elicitation
        message = error(await call(plain, "waha_for_sessions", SEND))
        assert "needs confirmation" in message and "Confirm waha_send_message for 4 sessions" in message
        assert sends(sandbox) == []
        few = data(await call(plain, "waha_for_sessions", SEND | {"sessions": ["default", "business", "sandbox3"]}))
        assert few["counts"] == {"ok": 3}  # up to WAHA_MCP_BULK_CONFIRM_OVER (3) goes without asking
        assert data(await call(plain, "waha_for_sessions", SEND | {"confirm": True}))["counts"] == {"ok": 4}
    user = User("decline")
    async with Client(build_server(settings, transport=transport), elicitation_callback=user) as asking:
        assert "the user did not confirm" in error(await call(asking, "waha_for_sessions", SEND))
    assert user.asked == ["Confirm waha_send_message for 4 sessions (default, business, sandbox3, sandbox4)?"]
    assert len(sends(sandbox)) == 7


async def test_a_destructive_tool_is_confirmed_once_for_all(
    settings: Settings, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    user = User("accept")
    async with Client(build_server(settings, transport=transport), elicitation_callback=user) as client:
        args = {"tool": "waha_delete_my_profile_picture", "sessions": ["default", "business"]}
        out = data(await call(client, "waha_for_sessions", args))
    assert out["counts"] == {"ok": 2} and len(user.asked) == 1


async def test_allow_lists_apply_per_session_and_dry_run_sends_nothing(
    store: str, transport: httpx2.AsyncBaseTransport, sandbox: Sandbox
) -> None:
    settings = make(store, WAHA_MCP_ALLOW_SESSIONS="default,business")
    async with Client(build_server(settings, transport=transport)) as client:
        dry = data(await call(client, "waha_for_sessions", SEND | {"sessions": "all", "dryRun": True}))
        rows = {row["session"]: row for row in dry["rows"]}
        assert rows["default"]["status"] == rows["business"]["status"] == "would run"
        assert rows["sandbox3"]["status"] == "skipped" and "not in WAHA_MCP_ALLOW_SESSIONS" in rows["sandbox3"]["why"]
        assert sends(sandbox) == []
        real = data(await call(client, "waha_for_sessions", SEND | {"confirm": True}))
    rows = {row["session"]: row for row in real["rows"]}
    assert rows["sandbox4"]["status"] == "error" and "not in WAHA_MCP_ALLOW_SESSIONS" in rows["sandbox4"]["error"]
    assert real["counts"] == {"ok": 2, "error": 2}
    assert sends(sandbox) == ["business", "default"]


async def test_the_same_bulk_id_resumes_without_repeating(mcp: Client, sandbox: Sandbox) -> None:
    # The first run got through two sessions (and failed on a third) before it was cut short.
    first = data(await call(mcp, "waha_for_sessions", SEND | {"sessions": ["default", "business"], "bulkId": "b1"}))
    assert first["bulkId"] == "b1" and first["counts"] == {"ok": 2}
    sandbox.faults.add("ChattingController_sendText", kind="status", status=500, times=1)
    failed = data(await call(mcp, "waha_for_sessions", SEND | {"sessions": ["sandbox3"], "bulkId": "b1"}))
    assert failed["counts"] == {"error": 1}
    again = data(await call(mcp, "waha_for_sessions", SEND | {"bulkId": "b1"}))
    rows = {row["session"]: row for row in again["rows"]}
    assert rows["default"] == {
        "session": "default",
        "status": "skipped",
        "why": "done in an earlier run of this bulkId",
    }
    assert rows["business"]["status"] == "skipped"
    assert rows["sandbox3"]["status"] == rows["sandbox4"]["status"] == "ok"  # a failed session is tried again
    assert sends(sandbox) == ["business", "default", "sandbox3", "sandbox3", "sandbox4"]


async def test_an_interrupted_session_is_not_repeated_blindly(
    mcp: Client, sandbox: Sandbox, settings: Settings
) -> None:
    from waha_mcp.store import AuditStart, open_store

    assert settings.store is not None
    other = open_store(settings.store)  # as a process killed mid-call leaves it: started, never finished
    try:
        await other.audit.start(AuditStart(1.0, "default", "waha_send_message", None, "{}", "b2"))
    finally:
        other.close()
    out = data(await call(mcp, "waha_for_sessions", SEND | {"bulkId": "b2"}))
    rows = {row["session"]: row for row in out["rows"]}
    assert rows["default"]["status"] == "skipped" and "interrupted mid-call" in rows["default"]["why"]
    assert sends(sandbox) == ["business", "sandbox3", "sandbox4"]


async def test_refusals(mcp: Client, sandbox: Sandbox) -> None:
    assert "did you mean waha_send_message" in error(await call(mcp, "waha_for_sessions", {"tool": "waha_send_mesage"}))
    assert "itself a bulk tool" in error(await call(mcp, "waha_for_sessions", {"tool": "waha_for_sessions"}))
    bad = SEND | {"arguments": {"chatId": PERSON, "text": "x", "session": "default"}}
    assert "put sessions in `sessions`" in error(await call(mcp, "waha_for_sessions", bad))
    rows = data(await call(mcp, "waha_for_sessions", {"tool": "waha_send_message", "sessions": ["default"]}))["rows"]
    assert rows[0]["status"] == "error" and "chatId" in rows[0]["error"]  # the tool's own argument check
    assert sends(sandbox) == []


async def test_read_only_keeps_bulk_for_reads(tmp_path: Path, transport: httpx2.AsyncBaseTransport) -> None:
    """Bulk reads are the common cross-account need: read-only mode lists waha_for_sessions as a read tool
    (it refuses writes inside, tests/tools/test_enabling.py)."""
    settings = make(str(tmp_path / "store.sqlite3"), WAHA_READ_ONLY="true")
    async with Client(build_server(settings, transport=transport)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "waha_get_unread_everywhere" in tools and tools["waha_for_sessions"].annotations.read_only_hint


async def test_a_read_across_sessions(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_for_sessions", {"tool": "waha_get_chats", "arguments": {"limit": 2}}))
    assert out["counts"] == {"ok": 4} and all(len(row["result"]["chats"]) == 2 for row in out["rows"])


async def test_unread_everywhere(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_get_unread_everywhere", {}))
    assert sorted(s["session"] for s in out["sessions"]) == WORKING
    unread: list[Any] = [chat for s in out["sessions"] for chat in s["chats"]]
    assert unread and all(chat["unread"] for chat in unread)
    assert out["unreadChats"] == len(unread)


async def test_a_failure_explained_inside_a_bulk_read_charges_no_operation_to_it(mcp: Client, sandbox: Sandbox) -> None:
    """Explaining a route WAHA lacks reads WAHA's version: the client's bookkeeping, not an operation the bulk
    tool sends (the operations check fails this test if it were counted)."""
    missing = {"statusCode": 404, "message": "Cannot GET /api/default/chats/overview", "error": "Not Found"}
    for operation in ("ChatsController_getChatsOverview", "ChatsController_getChats"):
        sandbox.faults.add(operation, kind="status", status=404, body=missing)
    out = data(await call(mcp, "waha_get_unread_everywhere", {}))
    assert out["sessions"]  # each session's error is in its row; the call itself succeeded
    assert any(r.path == "/api/server/version" for r in sandbox.requests)
