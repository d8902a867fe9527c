"""Problems 2–5 of issue 8: what the agent is told fits the WAHA and the session's state, on either profile."""

from __future__ import annotations

import time

import anyio
import pytest
from mcp import Client

from tests.helpers import call, data, error, on_profiles
from waha_mcp.sandbox import Sandbox
from waha_mcp.tools import sessions as session_tools


@on_profiles("core-2024.10")
@pytest.mark.parametrize("tool", ["waha_create_session", "waha_get_session", "waha_start_session"])
async def test_core_keeps_its_only_default_reason_and_gives_the_right_step(mcp: Client, tool: str) -> None:
    args = {"name": "work"} if tool == "waha_create_session" else {"session": "work"}
    told = error(await call(mcp, tool, args))
    assert "WAHA 2024.10.8 CORE has only the session 'default'" in told
    if tool != "waha_get_session":  # GET answers Core's plain 404 `Session not found`
        assert "WAHA Core support only 'default' session" in told  # WAHA's own words
    assert "use session 'default'" in told and "upgrade WAHA" in told
    assert "does not exist" not in told and "create it with" not in told


@on_profiles("core-2024.10")
async def test_an_empty_201_is_never_taken_for_a_session(mcp: Client, sandbox: Sandbox) -> None:
    data(await call(mcp, "waha_delete_session", {"session": "default"}))
    told = error(await call(mcp, "waha_create_session", {"name": "default", "start": False}))
    assert "did not create session 'default'" in told and "start=true" in told
    assert "STOPPED" not in told and "waha_start_session" not in told
    assert "default" not in sandbox.sessions
    created = data(await call(mcp, "waha_create_session", {"name": "default", "start": True}))
    assert created["status"] == "STARTING" and "waha_get_qr_code" in created["next"]


@on_profiles()
async def test_the_pairing_code_is_not_asked_of_a_starting_session(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.set_status("default", "STARTING")  # held: as offline, it never ends
    began = time.monotonic()
    with anyio.fail_after(10):  # the old code waited for WAHA, which never answers on core-2024.10
        told = error(await call(mcp, "waha_request_pairing_code", {"phoneNumber": "12025550100"}))
    assert time.monotonic() - began < 2
    assert "session 'default' is STARTING, not waiting to be paired" in told and "wait" in told
    assert not any(r.path.endswith("/auth/request-code") for r in sandbox.requests)


@on_profiles()
async def test_a_pairing_code_that_does_not_come_is_waited_for_a_bounded_time(
    mcp: Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_tools, "PAIRING_WAIT", 0.2)
    sandbox.set_status("default", "SCAN_QR_CODE")
    sandbox.faults.add("AuthController_requestCode", kind="latency", delay=30)
    with anyio.fail_after(10):
        told = error(await call(mcp, "waha_request_pairing_code", {"phoneNumber": "12025550100"}))
    assert "gave no pairing code for session 'default' within 0.2 s (it is SCAN_QR_CODE)" in told


@on_profiles()
async def test_me_on_a_failed_session_says_restart_not_scan(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.set_status("default", "FAILED")
    me = data(await call(mcp, "waha_get_session_me"))
    assert me["me"] is None and "FAILED" in me["next"] and "waha_restart_session" in me["next"]
    assert "waha_get_qr_code" not in me["next"]


@on_profiles()
async def test_start_on_a_failed_session_says_where_it_is_and_what_to_do(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.set_status("default", "FAILED")
    started = data(await call(mcp, "waha_start_session"))
    assert started["done"] == "already started" and started["status"] == "FAILED"
    assert "waha_restart_session" in started["next"]


@on_profiles()
async def test_config_update_says_restarted_only_for_a_running_session(mcp: Client, sandbox: Sandbox) -> None:
    data(await call(mcp, "waha_stop_session", {"session": "default"}))
    stopped = data(await call(mcp, "waha_update_session_config", {"session": "default", "config": {"debug": True}}))
    assert stopped["restarted"] is False and sandbox.sessions["default"].status == "STOPPED"
    data(await call(mcp, "waha_start_session"))
    running = data(await call(mcp, "waha_update_session_config", {"session": "default", "config": {"debug": False}}))
    assert running["restarted"] is True


@on_profiles()
async def test_an_existing_session_names_the_update_tool_not_an_http_verb(mcp: Client) -> None:
    told = error(await call(mcp, "waha_create_session", {"name": "default"}))
    assert "session 'default' already exists" in told and "waha_update_session_config" in told
    assert "PUT" not in told
