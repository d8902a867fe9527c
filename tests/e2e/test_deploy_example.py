"""deploy/ runs under Docker, which CI lacks; what can drift from the code is checked here without it.

The compose file's waha-mcp service, with only its two network addresses swapped for local ones (the sandbox for
`http://waha:3000`, the test PostgreSQL for `postgres:5432`) and its listen address for a loopback port, starts as
two real replicas; each is then asked what the Caddyfile's proxy asks of it: `/healthz` for its health checks, and
MCP calls carrying the public `Host`, `Origin` and bearer token the proxy passes through.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.replicas import healthy, sandbox_thread
from tests.events.test_kill import EXE, free_port
from tests.pg import pg_dsn
from waha_mcp.config import Settings
from waha_mcp.sandbox import Sandbox

__all__ = ["pg_dsn"]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# deploy/.env as deploy/README.md describes it.
DOTENV = {
    "PUBLIC_HOST": "mcp.example.test",
    "WAHA_API_KEY": "deploy-test-waha-key-0123",
    "PG_PASSWORD": "unused-the-test-store-is-swapped-in",
    "WAHA_MCP_STATE_KEY": "deploy-test-state-key-0123456789abcdef",
    "WAHA_MCP_AUTH_TOKEN": "deploy-test-bearer-token-0123456789",
}


def compose() -> dict[str, Any]:
    found = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(found, dict)
    return found


def filled(value: str) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: DOTENV[m.group(1)], value)


def mcp_service() -> tuple[dict[str, str], list[str]]:
    """The waha-mcp service's environment (variables filled from DOTENV) and its `waha-mcp …` arguments."""
    service = compose()["services"]["mcp"]
    env = {name: filled(str(value)) for name, value in service["environment"].items()}
    command = shlex.split(service["command"][-1] if isinstance(service["command"], list) else service["command"])
    script = command[command.index("-c") + 1]
    args = shlex.split(script.split("exec ", 1)[1])
    assert args[0] == "waha-mcp"
    return env, args[1:]


def test_the_compose_file_names_only_settings_waha_mcp_reads() -> None:
    """A misspelt or retired variable would be ignored silently (WAHA_* names are read, others are not)."""
    env, _ = mcp_service()
    known = {field.alias for field in Settings.model_fields.values() if field.alias}
    assert set(env) <= known, sorted(set(env) - known)
    assert compose()["services"]["mcp"]["deploy"]["replicas"] == 2


def test_the_caddyfile_proxies_to_the_mcp_service_and_checks_healthz() -> None:
    caddy = (DEPLOY / "Caddyfile").read_text()
    upstream = re.search(r"reverse_proxy\s+(\w+):(\d+)", caddy)
    assert upstream is not None
    _, args = mcp_service()
    assert upstream.group(1) in compose()["services"]
    assert args[args.index("--port") + 1] == upstream.group(2)
    assert re.search(r"health_uri\s+/healthz\b", caddy)
    assert "flush_interval -1" in caddy  # event streams handed on as they come


async def test_two_replicas_started_as_compose_starts_them_serve_the_proxied_host(pg_dsn: str, tmp_path: Path) -> None:
    env, args = mcp_service()
    # The two addresses only Docker's network resolves, and the listen address, swapped; nothing else.
    assert env["WAHA_BASE_URL"] == "http://waha:3000" and "waha" in compose()["services"]
    assert re.fullmatch(r"postgresql://waha_mcp:[^@]+@postgres:5432/waha_mcp", env["WAHA_MCP_STORE"])
    assert args[args.index("--host") + 1] == "0.0.0.0"  # hence the bearer token compose sets
    public = DOTENV["PUBLIC_HOST"]
    sandbox = Sandbox(sessions=1)
    procs: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    with sandbox_thread(sandbox) as waha:
        try:
            for index in range(2):
                port = free_port()
                argv = list(args)
                argv[argv.index("--host") + 1] = "127.0.0.1"
                argv[argv.index("--port") + 1] = str(port)
                base = {k: v for k, v in os.environ.items() if not k.startswith("WAHA_")}
                run_env = base | env | {"WAHA_BASE_URL": waha, "WAHA_MCP_STORE": pg_dsn, "WAHA_SESSION": "default"}
                log = tmp_path / f"replica-{index}.log"
                with log.open("wb") as out:
                    proc = subprocess.Popen([EXE, *argv], env=run_env, stderr=out, stdout=subprocess.DEVNULL)
                procs.append((proc, f"http://127.0.0.1:{port}", log))
            token = DOTENV["WAHA_MCP_AUTH_TOKEN"]
            proxied = {"Host": public, "Origin": f"https://{public}", "Authorization": f"Bearer {token}"}
            async with httpx2.AsyncClient(timeout=10) as http:
                deadline = time.monotonic() + 30
                for proc, url, log in procs:
                    assert proc.poll() is None, log.read_text()[-2000:]
                    await healthy(http, url, deadline)  # the proxy's health check
                for _, url, _ in procs:
                    async with httpx2.AsyncClient(timeout=10, headers=proxied) as via_proxy:
                        async with Client(streamable_http_client(f"{url}/mcp", http_client=via_proxy)) as client:
                            listed = await client.call_tool("waha_list_sessions", {})
                    assert not listed.is_error, listed
                    assert "default" in str(listed.structured_content)
                    refusals = {
                        "a foreign Host": ({**proxied, "Host": "evil.example"}, 421),
                        "a foreign Origin": ({**proxied, "Origin": "https://evil.example"}, 403),
                        "no bearer token": ({k: v for k, v in proxied.items() if k != "Authorization"}, 401),
                    }
                    for why, (headers, status) in refusals.items():
                        answer = await http.post(f"{url}/mcp", headers=_mcp_headers(headers), content=_LIST)
                        assert answer.status_code == status, (why, answer.status_code, answer.text[:200])
                        assert token not in answer.text and DOTENV["WAHA_API_KEY"] not in answer.text
        finally:
            for proc, _, _ in procs:
                if proc.poll() is None:
                    proc.terminate()
                proc.wait(10)
    for _, _, log in procs:
        text = log.read_text()
        for secret in (DOTENV["WAHA_MCP_AUTH_TOKEN"], DOTENV["WAHA_API_KEY"], DOTENV["WAHA_MCP_STATE_KEY"]):
            assert secret not in text


_LIST = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'


def _mcp_headers(headers: dict[str, str]) -> dict[str, str]:
    return headers | {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
