"""The (session state × kind of tool) → next step table, written once in errors.py, read here as a table."""

from __future__ import annotations

import pytest

from waha_mcp.errors import NEXT_STEP, PAIR, START, STEPS, WORK, kind_of, next_step

STATES = (
    "STOPPED",
    "STARTING",
    "SCAN_QR_CODE",
    "PASSKEY_REQUIRED",
    "PASSKEY_CONFIRMATION_REQUIRED",
    "WORKING",
    "FAILED",
)
KINDS = (WORK, PAIR, START)

# (state, kind) → a tool (or word) the step must name, and what it must never suggest there.
EXPECTED = {
    ("FAILED", WORK): ("waha_restart_session", "waha_get_qr_code"),
    ("FAILED", PAIR): ("waha_restart_session", "waha_get_qr_code"),
    ("FAILED", START): ("waha_restart_session", "waha_start_session"),
    ("STOPPED", WORK): ("waha_start_session", "waha_restart_session"),
    ("STOPPED", PAIR): ("waha_start_session", "waha_get_qr_code"),
    ("STOPPED", START): ("waha_start_session", "waha_restart_session"),
    ("STARTING", WORK): ("wait", "waha_start_session"),
    ("STARTING", PAIR): ("wait", "waha_start_session"),
    ("STARTING", START): ("wait", "waha_start_session"),
    ("SCAN_QR_CODE", WORK): ("waha_get_qr_code", "waha_start_session"),
    ("SCAN_QR_CODE", PAIR): ("waha_request_pairing_code", "waha_start_session"),
    ("SCAN_QR_CODE", START): ("waha_get_qr_code", "waha_start_session"),
    ("WORKING", PAIR): ("nothing to pair", "waha_get_qr_code"),
    ("WORKING", START): ("nothing to start", "waha_start_session"),
    ("PASSKEY_REQUIRED", PAIR): ("waha_get_passkey_challenge", "waha_get_qr_code"),
}


def test_the_table_has_one_step_for_every_state_and_kind() -> None:
    assert set(STEPS) == {(state, kind) for state in STATES for kind in KINDS}
    assert all(step and "\n" not in step for step in STEPS.values())


@pytest.mark.parametrize(("state", "kind"), list(EXPECTED))
def test_each_step_fits_its_state(state: str, kind: str) -> None:
    named, never = EXPECTED[(state, kind)]
    step = next_step(state, kind)
    assert named in step and never not in step, step


def test_working_tools_read_the_work_column() -> None:
    assert NEXT_STEP["FAILED"] == next_step("FAILED") and "WORKING" not in NEXT_STEP
    assert next_step("SOMETHING_NEW", PAIR) == "check it with waha_get_session"


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        ("AuthController_getQR", PAIR),
        ("AuthController_requestCode", PAIR),
        ("SessionsController_start", START),
        ("SessionsController_restart", START),
        ("ChattingController_sendText", WORK),
        ("SessionsController_getMe", WORK),
    ],
)
def test_the_failing_operation_says_which_kind_of_tool_it_was(operation: str, kind: str) -> None:
    assert kind_of(operation) == kind
