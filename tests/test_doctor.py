"""`waha-mcp doctor` prints WAHA's words: never a secret among them."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from waha_mcp.config import load_settings
from waha_mcp.doctor import run_doctor
from waha_mcp.sandbox import Sandbox, sandbox_transport

KEY = "doctor-secret-key-7d1e"


@pytest.mark.parametrize("path", ["/ping", "/api/sessions"])
async def test_doctor_output_goes_through_the_redactor(capsys: pytest.CaptureFixture[str], path: str) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == path:
            return httpx2.Response(500, json={"message": f'proxy refused X-Api-Key {KEY} (and "{KEY}")'})
        return httpx2.Response(200, json={"pong": True} if request.url.path == "/ping" else [])

    settings = load_settings(WAHA_BASE_URL="http://waha.example:3000", WAHA_API_KEY=KEY)
    code = await run_doctor(settings, httpx2.MockTransport(answer))
    out = capsys.readouterr().out
    assert code == 1
    assert "proxy refused" in out
    assert KEY not in out and "***" in out


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"WAHA_MCP_TRANSCRIBE": "openai", "WAHA_MCP_TRANSCRIBE_URL": "http://127.0.0.1:9/v1",
             "WAHA_MCP_TRANSCRIBE_API_KEY": "sk-doctor-secret-123456"},
            "ok   transcribe voice notes' audio is sent to http://127.0.0.1:9/v1 (key set (not shown))",
        ),
        (
            {"WAHA_MCP_TRANSCRIBE": "local", "WAHA_MCP_TRANSCRIBE_MODEL": "/nonexistent/model"},
            "transcribe local model '/nonexistent/model' is not a directory",
        ),
    ],
)  # fmt: skip
async def test_doctor_says_where_voice_notes_go(
    capsys: pytest.CaptureFixture[str], env: dict[str, str], expected: str
) -> None:
    from waha_mcp.config import load_settings
    from waha_mcp.doctor import run_doctor
    from waha_mcp.sandbox import Sandbox, sandbox_transport

    settings = load_settings(WAHA_MCP_SANDBOX=True, **env)
    await run_doctor(settings, transport=sandbox_transport(Sandbox(sessions=1)))
    out = capsys.readouterr().out
    assert expected in out and "sk-doctor-secret" not in out


@pytest.fixture
def not_waha(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server that is not WAHA (Python's file server on an empty directory: HTML 404 pages)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *_: None  # type: ignore[attr-defined,method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_server_that_is_not_waha_is_named_so(capsys: pytest.CaptureFixture[str], not_waha: str) -> None:
    code = await run_doctor(load_settings(WAHA_BASE_URL=not_waha))
    out = capsys.readouterr().out
    assert code == 1
    assert "<" not in out and "DOCTYPE" not in out.upper()  # no raw HTML page as the reason
    reachable = next(line for line in out.splitlines() if "reachable" in line)
    assert reachable.startswith("FAIL") and "404" in reachable and "not WAHA" in reachable
    assert "WAHA_BASE_URL" in reachable


async def test_no_key_against_a_waha_that_needs_one_says_to_set_it(capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = Sandbox(api_key="needed-key-3f9a")
    code = await run_doctor(load_settings(WAHA_BASE_URL="http://127.0.0.1:3000"), sandbox_transport(sandbox))
    out = capsys.readouterr().out
    assert code == 1
    assert "rejected" not in out
    key = next(line for line in out.splitlines() if line.startswith("FAIL") and " key " in line)
    assert "no API key was sent" in key and "set WAHA_API_KEY" in key
    # With a wrong key it is still the key that was rejected.
    await run_doctor(
        load_settings(WAHA_BASE_URL="http://127.0.0.1:3000", WAHA_API_KEY="wrong-key-1"), sandbox_transport(sandbox)
    )
    assert "rejected the API key" in capsys.readouterr().out


SECRET = "doctor-path-secret-0123456789"
HMAC = "doctor-hmac-key-0123456789"


async def _doctor(capsys: pytest.CaptureFixture[str], profile: str, **env: str) -> tuple[int, str]:
    from waha_mcp.sandbox import Sandbox, sandbox_transport

    sandbox = Sandbox(profile=profile, time_factor=0.01)
    settings = load_settings(WAHA_BASE_URL="http://127.0.0.1:3000", **env)
    code = await run_doctor(settings, sandbox_transport(sandbox))
    return code, capsys.readouterr().out


async def test_doctor_fails_an_hmac_key_alone_against_a_waha_that_cannot_sign(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = await _doctor(capsys, "core-2024.10", WAHA_MCP_EVENTS="webhook", WAHA_MCP_WEBHOOK_HMAC_KEY=HMAC)
    assert code == 1
    line = next(row for row in out.splitlines() if " webhooks " in row)
    assert line.startswith("FAIL") and "does not sign" in line and "WAHA_MCP_WEBHOOK_SECRET" in line
    assert HMAC not in out


async def test_doctor_accepts_hmac_from_a_waha_that_signs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = await _doctor(capsys, "current", WAHA_MCP_EVENTS="webhook", WAHA_MCP_WEBHOOK_HMAC_KEY=HMAC)
    line = next(row for row in out.splitlines() if " webhooks " in row)
    assert code == 0 and line.startswith("ok") and "signs" in line and HMAC not in out


@pytest.mark.parametrize("profile", ["core-2024.10", "current"])
async def test_doctor_takes_the_secret_path_and_never_prints_it(
    capsys: pytest.CaptureFixture[str], profile: str
) -> None:
    code, out = await _doctor(capsys, profile, WAHA_MCP_EVENTS="webhook", WAHA_MCP_WEBHOOK_SECRET=SECRET)
    line = next(row for row in out.splitlines() if " webhooks " in row)
    assert code == 0 and line.startswith("ok") and "secret path" in line
    # The store line names the store's path, under this test's directory (named "…test_doctor_…").
    shown = "\n".join(row for row in out.splitlines() if not row[5:].startswith("store "))
    assert SECRET not in out and SECRET[:6] not in shown


async def test_doctor_points_an_unauthenticated_loopback_set_up_to_the_secret_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = await _doctor(capsys, "core-2024.10", WAHA_MCP_EVENTS="webhook")
    line = next(row for row in out.splitlines() if " webhooks " in row)
    assert code == 0 and line.startswith("warn") and "loopback" in line and "WAHA_MCP_WEBHOOK_SECRET" in line
    public = {"WAHA_MCP_HOST": "0.0.0.0", "WAHA_MCP_AUTH_TOKEN": "t" * 20}
    code, out = await _doctor(capsys, "core-2024.10", WAHA_MCP_EVENTS="webhook", **public)
    line = next(row for row in out.splitlines() if " webhooks " in row)
    assert code == 1 and line.startswith("FAIL") and "WAHA_MCP_WEBHOOK_SECRET" in line


async def test_doctor_says_a_webhook_setting_is_unused_without_the_webhook_event_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out = await _doctor(capsys, "current", WAHA_MCP_WEBHOOK_PORT="8123", WAHA_MCP_WEBHOOK_SECRET=SECRET)
    line = next(row for row in out.splitlines() if " webhooks " in row)
    assert line.startswith("warn") and "WAHA_MCP_EVENTS=webhook" in line and SECRET not in out


async def test_doctor_says_a_webhook_url_goes_nowhere_without_the_webhook_event_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out = await _doctor(capsys, "current", WAHA_MCP_WEBHOOK_URL="https://mcp.example.com/webhooks/waha")
    line = next(row for row in out.splitlines() if " webhooks " in row)
    assert line.startswith("warn") and "no webhook route" in line
    _, out = await _doctor(capsys, "current")
    assert " webhooks " not in out  # nothing about webhooks when none are in use
