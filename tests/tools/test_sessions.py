"""The sessions and server toolsets, through a real MCP client against the sandbox."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from mcp import Client

from tests.helpers import call, data, error, text
from waha_mcp import projections as view
from waha_mcp.sandbox import Sandbox


async def test_list_sessions_shows_status_and_account(mcp: Client) -> None:
    listed = data(await call(mcp, "waha_list_sessions"))
    names = {s["name"]: s for s in listed["sessions"]}
    assert set(names) == {"default", "business"}
    assert names["default"]["status"] == "WORKING"
    assert names["default"]["me"]["id"].endswith("@c.us")
    assert listed["default"] == "default"


async def test_list_sessions_can_be_narrowed_to_one(mcp: Client) -> None:
    listed = data(await call(mcp, "waha_list_sessions", {"session": "business"}))
    assert [s["name"] for s in listed["sessions"]] == ["business"]


async def test_default_session_is_used_when_none_given(mcp: Client, sandbox: Sandbox) -> None:
    got = data(await call(mcp, "waha_get_session"))
    assert got["name"] == "default"
    assert sandbox.requests[-1].path == "/api/sessions/default"


async def test_explicit_session_wins_over_default(mcp: Client, sandbox: Sandbox) -> None:
    got = data(await call(mcp, "waha_get_session", {"session": "business"}))
    assert got["name"] == "business"
    assert sandbox.requests[-1].path == "/api/sessions/business"


async def test_invalid_session_names_fail_before_any_http_call(mcp: Client, sandbox: Sandbox) -> None:
    for bad in ["../x", "a b", "x/y", "é", "a" * 65]:
        message = error(await call(mcp, "waha_get_session", {"session": bad}))
        assert "invalid session name" in message
    assert sandbox.requests == []


async def test_unknown_session_error_lists_the_existing_ones(mcp: Client) -> None:
    message = error(await call(mcp, "waha_get_session", {"session": "ghost"}))
    assert "'ghost' does not exist" in message
    assert "default (WORKING)" in message and "business (WORKING)" in message
    assert "waha_create_session" in message


async def test_stopped_session_error_says_to_start_it(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.set_status("business", "STOPPED")
    message = error(await call(mcp, "waha_get_session_me", {"session": "business"}))
    assert "session 'business' is STOPPED" in message and "waha_start_session" in message


async def test_starting_session_error_says_to_wait(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.set_status("business", "STARTING")
    message = error(await call(mcp, "waha_get_qr_code", {"session": "business"}))
    assert "'business' is STARTING" in message and "wait a few seconds" in message


async def test_destructive_actions_never_fall_back_to_the_default(mcp: Client, sandbox: Sandbox) -> None:
    for name in ["waha_delete_session", "waha_logout_session", "waha_stop_session"]:
        message = error(await call(mcp, name))
        assert "needs an explicit `session`" in message and "default (WORKING)" in message
    assert all(r.path == "/api/sessions" for r in sandbox.requests)  # only the listing for the message
    assert sandbox.get_session("default").status == "WORKING"


async def test_full_pairing_lifecycle(mcp: Client, sandbox: Sandbox) -> None:
    created = data(await call(mcp, "waha_create_session", {"name": "support", "start": True}))
    assert created["name"] == "support" and "waha_get_qr_code" in created["next"]
    qr = await call(mcp, "waha_get_qr_code", {"session": "support", "raw": True})
    assert not qr.is_error
    image = next(block for block in qr.content if block.type == "image")
    assert image.mime_type == "image/png"
    assert data_of_text(qr)["value"].startswith("2@")
    sandbox.scan("support")
    me = data(await call(mcp, "waha_get_session_me", {"session": "support"}))
    assert me["me"]["id"].endswith("@c.us")
    stopped = data(await call(mcp, "waha_stop_session", {"session": "support"}))
    assert stopped["done"] == "stop"
    started = data(await call(mcp, "waha_start_session", {"session": "support"}))
    assert started["done"] == "start"
    data(await call(mcp, "waha_restart_session", {"session": "support"}))
    data(await call(mcp, "waha_logout_session", {"session": "support"}))
    assert data(await call(mcp, "waha_delete_session", {"session": "support"}))["deleted"] is True
    names = [s["name"] for s in data(await call(mcp, "waha_list_sessions"))["sessions"]]
    assert "support" not in names


def data_of_text(result: object) -> dict[str, object]:
    import json

    texts = [block.text for block in result.content if block.type == "text"]  # type: ignore[attr-defined]
    return json.loads(texts[0])


async def test_create_with_config_then_get_hides_secrets(mcp: Client) -> None:
    config = {
        "metadata": {"team": "sales"},
        "proxy": {"server": "proxy.example:3128", "username": "u", "password": "proxy-pass-1"},
        "webhooks": [{"url": "https://hooks.example/w", "events": ["message"], "hmacKey": "hmac-secret-1"}],
    }
    data(await call(mcp, "waha_create_session", {"name": "sales", "start": False, "config": config}))
    result = await call(mcp, "waha_get_session", {"session": "sales"})
    got = data(result)
    assert got["config"]["metadata"] == {"team": "sales"}
    assert got["config"]["webhooks"][0]["hmac"]["key"] == "***"
    assert got["config"]["proxy"]["password"] == "***"
    assert "hmac-secret-1" not in str(result) and "proxy-pass-1" not in str(result)


async def test_invalid_config_is_refused_before_any_http_call(mcp: Client, sandbox: Sandbox) -> None:
    message = error(await call(mcp, "waha_create_session", {"name": "x", "config": {"webhooks": [{"url": "u"}]}}))
    assert "config.webhooks.0.events" in message
    assert sandbox.requests == []


async def test_update_config_keeps_what_was_not_given(mcp: Client, sandbox: Sandbox) -> None:
    hook = {"url": "https://hooks.example/w", "events": ["message"]}
    data(await call(mcp, "waha_create_session", {"name": "ops", "start": False, "config": {"webhooks": [hook]}}))
    data(await call(mcp, "waha_update_session_config", {"session": "ops", "config": {"metadata": {"a": "1"}}}))
    config = sandbox.get_session("ops").config
    assert config["metadata"] == {"a": "1"}
    assert config["webhooks"][0]["url"] == "https://hooks.example/w"


async def test_pairing_code_validates_the_phone_number(mcp: Client, sandbox: Sandbox) -> None:
    message = error(await call(mcp, "waha_request_pairing_code", {"phoneNumber": "12ab"}))
    assert "phoneNumber" in message
    assert sandbox.requests == []
    sandbox.set_status("business", "SCAN_QR_CODE")
    got = data(await call(mcp, "waha_request_pairing_code", {"session": "business", "phoneNumber": "+1 213 555 0100"}))
    assert got["code"]


async def test_screenshot_is_image_content(mcp: Client) -> None:
    result = await call(mcp, "waha_get_screenshot")
    assert [block.type for block in result.content] == ["image", "text"]
    assert result.content[0].mime_type == "image/jpeg"


async def test_server_info_reports_the_sandbox(mcp: Client) -> None:
    info = data(await call(mcp, "waha_get_server_info"))
    assert info["version"] and info["tier"]
    assert "sandbox" in str(info).lower()


async def test_wrong_argument_types_give_one_line(mcp: Client) -> None:
    message = error(await call(mcp, "waha_list_sessions", {"all": "maybe"}))
    assert "invalid arguments" in message and "all" in message


async def test_server_info_names_times_and_a_sessions_state_by_the_vocabulary(mcp: Client) -> None:
    info = data(await call(mcp, "waha_get_server_info", {"session": "default"}))
    assert info["session"] == "default" and info["sessionInfo"]["name"] == "default"
    assert info["sessionInfo"]["status"] and info["startTime"].endswith("Z")
    assert isinstance(info["uptimeSeconds"], int)


async def test_starting_a_started_session_says_where_it_is_instead_of_failing(mcp: Client, sandbox: Sandbox) -> None:
    # WAHA answers 422 "already started"; the tool is idempotent (its annotations say so) and reports the state.
    again = data(await call(mcp, "waha_start_session", {"session": "business"}))
    assert again["done"] == "already started" and again["status"] == "WORKING" and again["session"] == "business"
    assert [r.method + " " + r.path for r in sandbox.requests[-2:]] == [
        "POST /api/sessions/business/start",
        "GET /api/sessions/business",
    ]


async def test_server_health_runs_waha_checks(mcp: Client, sandbox: Sandbox) -> None:
    plain = data(await call(mcp, "waha_get_server_info"))
    assert "health" not in plain and "environment" not in plain
    healthy = data(await call(mcp, "waha_get_server_info", {"health": True}))
    assert healthy["health"] == {"status": "ok", "checks": {"sandbox": "up"}}
    assert sandbox.requests[-1].path == "/health"
    # Unhealthy: WAHA answers 503 with the same object; the failing check is named.
    sick = {
        "status": "error",
        "info": {"sandbox": {"status": "up"}},
        "error": {"redis": {"status": "down", "message": "Could not connect"}},
        "details": {"sandbox": {"status": "up"}, "redis": {"status": "down"}},
    }
    sandbox.faults.add("HealthController_check", kind="status", status=503, body=sick)
    down = data(await call(mcp, "waha_get_server_info", {"health": True}))
    assert down["health"] == {"status": "error", "checks": {"sandbox": "up", "redis": "down: Could not connect"}}
    # A WAHA without /health (Core before 2026.6 answers 422): ping says it is alive.
    sandbox.faults.clear()
    core = {"statusCode": 422, "message": "Available only in WAHA Plus", "error": "Unprocessable Entity"}
    sandbox.faults.add("HealthController_check", kind="status", status=422, body=core, times=1)
    alive = data(await call(mcp, "waha_get_server_info", {"health": True}))
    assert alive["health"]["status"] == "reachable" and "pong" in alive["health"]["note"]
    assert sandbox.requests[-1].path == "/ping"
    sandbox.faults.add("HealthController_check", kind="status", status=500, times=1)
    assert "500" in error(await call(mcp, "waha_get_server_info", {"health": True}))


async def test_server_environment_hides_every_credential(mcp: Client, sandbox: Sandbox) -> None:
    from waha_mcp.sandbox.routes.server import FAKE_API_KEY, FAKE_SECRETS

    result = await call(mcp, "waha_get_server_info", {"environment": True})
    env = data(result)["environment"]
    assert sandbox.requests[-1].path == "/api/server/environment"
    assert env["WAHA_API_KEY"] == "***" and env["WAHA_DEFAULT_ENGINE"] == "NOWEB"
    assert all(env[name] == "***" for name in FAKE_SECRETS)  # by name: *PASSWORD*, *HMAC*, *SECRET*, *TOKEN*
    assert env["WAHA_DASHBOARD_USERNAME"] == "admin"  # targeted, not wholesale
    assert env["WHATSAPP_HOOK_URL"].endswith("k=***")  # the key where no name says so: known once seen
    shown = text(result) + json.dumps(result.structured_content)
    assert not [value for value in (FAKE_API_KEY, *FAKE_SECRETS.values()) if value in shown]
    # Seen once, known from then on: WAHA quoting one later is hidden too.
    echo = {"message": f"cannot log in with {FAKE_SECRETS['WAHA_DASHBOARD_PASSWORD']}"}
    sandbox.faults.add("SessionsController_get", kind="status", status=400, body=echo)
    assert FAKE_SECRETS["WAHA_DASHBOARD_PASSWORD"] not in error(await call(mcp, "waha_get_session"))


def _assertion(pending: dict, challenge: str | None = None) -> dict:
    client = {
        "type": "webauthn.get",
        "challenge": challenge or pending["challenge"],
        "origin": "https://web.whatsapp.com",
    }
    encoded = base64.urlsafe_b64encode(json.dumps(client).encode()).decode().rstrip("=")
    cred = pending["allowCredentials"][0]["id"]
    response = {"clientDataJSON": encoded, "authenticatorData": "AAAA", "signature": "c2ln"}
    return {"id": cred, "rawId": cred, "response": response}


async def test_passkey_pairing_sign_then_working(mcp: Client, sandbox: Sandbox) -> None:
    data(await call(mcp, "waha_create_session", {"name": "pk"}))
    waiting = error(await call(mcp, "waha_get_passkey_challenge", {"session": "pk"}))
    assert "not waiting for a passkey" in waiting and "waha_get_qr_code" in waiting
    sandbox.set_status("pk", "PASSKEY_REQUIRED")
    step = data(await call(mcp, "waha_get_passkey_challenge", {"session": "pk"}))
    assert step["step"] == "sign" and step["publicKey"]["rpId"] == "web.whatsapp.com"
    assert step["publicKey"] == sandbox.sessions["pk"].passkey_challenge() and "waha_submit_passkey" in step["next"]
    wrong = _assertion(step["publicKey"], challenge="c3RhbGU")
    assert "challenge does not match" in error(
        await call(mcp, "waha_submit_passkey", {"session": "pk", "assertion": wrong})
    )
    sent = data(await call(mcp, "waha_submit_passkey", {"session": "pk", "assertion": _assertion(step["publicKey"])}))
    assert sent["done"] == "submitted" and "waha_get_session" in sent["next"]
    assert (
        sandbox.requests[-1].json["type"] == "public-key" and "userHandle" not in sandbox.requests[-1].json["response"]
    )
    assert data(await call(mcp, "waha_get_session", {"session": "pk"}))["status"] == "WORKING"


async def test_passkey_confirmation_code_then_confirm(mcp: Client, sandbox: Sandbox) -> None:
    data(await call(mcp, "waha_create_session", {"name": "pk2"}))
    sandbox.set_status("pk2", "PASSKEY_CONFIRMATION_REQUIRED")
    state = data(await call(mcp, "waha_get_session", {"session": "pk2"}))
    assert "waha_get_passkey_challenge" in state["next"]
    step = data(await call(mcp, "waha_get_passkey_challenge", {"session": "pk2"}))
    assert step == {
        "session": "pk2",
        "step": "confirm",
        "code": sandbox.sessions["pk2"].passkey_code(),
        "next": step["next"],
    }
    assert "both" in error(await call(mcp, "waha_submit_passkey", {"session": "pk2"}))
    done = data(await call(mcp, "waha_submit_passkey", {"session": "pk2", "confirm": True}))
    assert done["done"] == "confirmed" and sandbox.requests[-1].path == "/api/pk2/auth/passkey/confirm"
    assert sandbox.sessions["pk2"].status == "WORKING"


# --------------------------------------------------------------------------- reach-out timelock (error 463)


async def test_an_active_reachout_timelock_shows_until_when(mcp: Client, sandbox: Sandbox) -> None:
    assert "reachoutTimelock" not in data(await call(mcp, "waha_get_session"))
    sandbox.timelock("default", seconds=7200)
    ends = sandbox.get_session("default").reachout["timeEnforcementEnds"]  # type: ignore[index]
    got = data(await call(mcp, "waha_get_session"))
    expected = datetime.fromtimestamp(ends, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert got["reachoutTimelock"] == {
        "effect": "may not message new contacts (WhatsApp error 463); existing chats still work",
        "untilTime": expected,
        "enforcement": "DEFAULT",
    }
    listed = {s["name"]: s for s in data(await call(mcp, "waha_list_sessions"))["sessions"]}
    assert listed["default"]["reachoutTimelock"]["untilTime"] == expected
    assert "reachoutTimelock" not in listed["business"]


async def test_a_lifted_or_expired_timelock_is_not_shown(mcp: Client, sandbox: Sandbox) -> None:
    sandbox.timelock("default", seconds=None)  # WAHA reports {isActive: false}
    assert "reachoutTimelock" not in data(await call(mcp, "waha_get_session"))
    sandbox.get_session("default").reachout = {"isActive": True, "timeEnforcementEnds": 1_000_000_000}
    assert "reachoutTimelock" not in data(await call(mcp, "waha_get_session"))  # ended in 2001


@pytest.mark.parametrize("ends", [4071006245, 4071006245000])
async def test_the_timelock_end_is_read_in_seconds_or_milliseconds(mcp: Client, sandbox: Sandbox, ends: int) -> None:
    # WAHA's DTO (sessions.dto.ts ReachoutTimelockData) says unix seconds; milliseconds are tolerated.
    sandbox.get_session("default").reachout = {"isActive": True, "timeEnforcementEnds": ends}
    lock = data(await call(mcp, "waha_get_session"))["reachoutTimelock"]
    assert lock["untilTime"] == "2099-01-02T03:04:05Z" and "enforcement" not in lock


@pytest.mark.parametrize("ends", ["2099-01-02T03:04:05Z", "2099-01-02T03:04:05+00:00", "4071006245"])
def test_the_timelock_end_is_read_in_any_time_form(ends: str) -> None:
    # Forms WAHA's document does not allow (so the sandbox, checked against it, never sends them): still read.
    for where in ({"me": {"reachoutTimelock": {"isActive": True, "timeEnforcementEnds": ends}}},
                  {"data": {"reachoutTimelock": {"isActive": True, "timeEnforcementEnds": ends}}}):  # fmt: skip
        lock = view.reachout_timelock(where)
        assert lock is not None and lock["untilTime"] == "2099-01-02T03:04:05Z"
