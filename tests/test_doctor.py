"""`waha-mcp doctor` prints WAHA's words: never a secret among them."""

from __future__ import annotations

import httpx2
import pytest

from waha_mcp.config import load_settings
from waha_mcp.doctor import run_doctor

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
