"""The sandbox over a real socket under uvicorn, including a real connection reset."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import httpx2
import pytest

from tests.e2e.servers import sandbox_on_socket
from waha_mcp.sandbox import Sandbox


@pytest.fixture
async def served() -> AsyncIterator[tuple[Sandbox, str]]:
    sb = Sandbox(api_key="key")
    async with sandbox_on_socket(sb) as url:
        yield sb, url


async def test_real_socket_round_trip_and_reset(served: tuple[Sandbox, str]) -> None:
    sb, url = served
    async with httpx2.AsyncClient(base_url=url, headers={"X-Api-Key": "key"}) as c:
        assert (await c.get("/ping")).json() == {"message": "pong"}
        r = await c.post("/api/sendText", json={"session": "default", "chatId": "1@c.us", "text": "over tcp"})
        assert r.status_code == 201
        sb.faults.add("SessionsController_get", kind="drop", times=1)
        with pytest.raises(httpx2.ReadError):
            await c.get("/api/sessions/default")
        assert (await c.get("/api/sessions/default")).json()["status"] == "WORKING"
    assert [r.path for r in sb.requests] == ["/ping", "/api/sendText", "/api/sessions/default", "/api/sessions/default"]


def test_cli_prints_that_it_is_not_whatsapp() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv=['x','--port','1']; "
            "from waha_mcp.sandbox import runner; runner.uvicorn.Server.run=lambda self: None; "
            "from waha_mcp.sandbox.__main__ import main; main()",
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 0, proc.stderr
    assert "NOT WhatsApp" in proc.stderr and "emulator" in proc.stderr and proc.stdout == ""
