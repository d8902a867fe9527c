"""Secrets stay secret: the WAHA API key, webhook HMAC keys and proxy passwords never show up in a tool
result, an error message or a log line, on success paths and failure paths alike."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp_types import CallToolResult

from tests.contract_plugin import ContractRecorder
from tests.e2e.servers import serving
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server

API_KEY = "wk-Api-7c1e5d0b9a"
WRONG_KEY = "wk-Wrong-42f00d1e"
HMAC_KEY = "hm-Secret-3b8e61aa"
PROXY_PASSWORD = "px-Pass-90d2c4ee"
SECRETS = (API_KEY, WRONG_KEY, HMAC_KEY, PROXY_PASSWORD)

CONFIG = {
    "metadata": {"team": "ops"},
    "proxy": {"server": "proxy.example:3128", "username": "bob", "password": PROXY_PASSWORD},
    "webhooks": [{"url": "https://hooks.example/in", "events": ["message"], "hmacKey": HMAC_KEY}],
}


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def shown(result: CallToolResult) -> str:
    """Everything the model gets: text blocks and structured content."""
    parts = [getattr(block, "text", "") for block in result.content]
    parts.append(json.dumps(result.structured_content or {}))
    return "\n".join(parts)


class Scenario:
    """Runs tool calls and collects everything they showed, for one leak check at the end."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: list[tuple[str, str]] = []

    async def run(self, tool: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        result = await self.client.call_tool(tool, arguments or {})
        self.seen.append((tool, shown(result)))
        return result

    def assert_clean(self) -> None:
        found = [(tool, leaks(text)) for tool, text in self.seen if leaks(text)]
        assert not found, f"secrets in tool output: {found}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    records = caplog.get_records("call")
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in records]  # message, args and any traceback
    assert records, "nothing was logged: the log check would be vacuous"
    leaked = [line[:300] for line in lines if leaks(line)]
    assert not leaked, f"secrets in the log: {leaked}"


@pytest.fixture
def keyed(contract: ContractRecorder) -> Sandbox:
    sandbox = Sandbox(api_key=API_KEY, sessions=2)
    sandbox.on_request.append(contract.hook)
    return sandbox


def _server(sandbox: Sandbox | None, key: str = API_KEY, base_url: str = "http://sandbox", **extra: Any) -> Any:
    env = {"WAHA_BASE_URL": base_url, "WAHA_SESSION": "default", "WAHA_API_KEY": key, "WAHA_TOOLSETS": "all"}
    settings = load_settings(**(env | {"WAHA_MCP_LOG_LEVEL": "DEBUG"} | extra))
    return build_server(settings, transport=sandbox_transport(sandbox) if sandbox else None)


async def test_session_config_secrets_never_come_back(keyed: Sandbox, debug_logs: Any) -> None:
    async with Client(_server(keyed)) as client:
        s = Scenario(client)
        assert not (await s.run("waha_list_sessions")).is_error
        created = await s.run("waha_create_session", {"name": "vault", "config": CONFIG})
        assert not created.is_error, shown(created)
        # WAHA did get the secrets (they are needed there) ...
        sent = keyed.requests[-1].json["config"]
        assert sent["proxy"]["password"] == PROXY_PASSWORD and sent["webhooks"][0]["hmac"]["key"] == HMAC_KEY
        assert keyed.requests[-1].headers["x-api-key"] == API_KEY
        # ... and hands them back in the config; the tool shows them redacted.
        got = await s.run("waha_get_session", {"session": "vault"})
        config = json.loads(got.content[0].text)["config"]
        assert config["proxy"]["password"] == "***" and config["webhooks"][0]["hmac"]["key"] == "***"
        assert config["proxy"]["username"] == "bob"  # redaction is targeted, not wholesale
        await s.run("waha_list_sessions", {"all": True})
        updated = await s.run(
            "waha_update_session_config", {"session": "vault", "config": {"debug": True}, "confirm": True}
        )
        assert not updated.is_error, shown(updated)
        merged = keyed.requests[-1].json["config"]
        assert merged["proxy"]["password"] == PROXY_PASSWORD  # kept across the update, never shown
        # Failure paths that carry the same secrets in their arguments.
        assert (await s.run("waha_create_session", {"name": "vault", "config": CONFIG})).is_error  # exists
        broken = {"proxy": {"password": PROXY_PASSWORD}, "webhooks": [{"url": "x", "hmacKey": HMAC_KEY}]}
        assert (await s.run("waha_create_session", {"name": "vault2", "config": broken})).is_error
        assert (await s.run("waha_create_session", {"name": "vault3", "start": PROXY_PASSWORD})).is_error
        assert (
            await s.run("waha_update_session_config", {"session": "vault", "config": HMAC_KEY, "confirm": True})
        ).is_error
        s.assert_clean()


async def test_waha_errors_that_echo_a_secret_are_scrubbed(keyed: Sandbox, debug_logs: Any) -> None:
    """WAHA (or a proxy in front of it) may quote a credential in an error; it is not passed on."""
    echo = {
        "statusCode": 500,
        "exception": {
            "message": f"connect ECONNREFUSED http://bob:{PROXY_PASSWORD}@proxy.example:3128 (hmac {HMAC_KEY})",
            "name": "Error",
        },
    }
    keyed.faults.add("SessionsController_create", kind="status", status=500, body=echo)
    keyed.faults.add("SessionsController_get", kind="status", status=400, body={"message": f"bad key {API_KEY}"})
    async with Client(_server(keyed)) as client:
        s = Scenario(client)
        failed = await s.run("waha_create_session", {"name": "vault", "config": CONFIG})
        assert failed.is_error and "ECONNREFUSED" in shown(failed)  # the useful part survives
        assert (await s.run("waha_get_session")).is_error
        s.assert_clean()


async def test_wrong_key_down_and_faults_never_show_the_key(keyed: Sandbox, debug_logs: Any) -> None:
    async with Client(_server(keyed, key=WRONG_KEY)) as client:
        s = Scenario(client)
        for tool in ("waha_list_sessions", "waha_get_session", "waha_restart_session"):
            result = await s.run(tool)
            assert result.is_error and "WAHA_API_KEY" in shown(result), shown(result)
        s.assert_clean()
    async with Client(_server(keyed)) as client:
        s = Scenario(client)
        for kind, extra in [("status", {"status": 500}), ("status", {"status": 503}), ("drop", {}), ("malformed", {})]:
            keyed.faults.clear()
            keyed.faults.add(None, kind=kind, **extra)  # type: ignore[arg-type]
            assert (await s.run("waha_get_session")).is_error
            await s.run("waha_send_message", {"chatId": "14155550123", "text": "hi"})
        s.assert_clean()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # WAHA down, and a base URL that carries a password of its own.
    for base in (f"http://127.0.0.1:{port}", f"http://admin:{PROXY_PASSWORD}@127.0.0.1:{port}"):
        async with Client(_server(None, base_url=base)) as client:
            s = Scenario(client)
            result = await s.run("waha_get_session")
            assert result.is_error and "cannot connect" in shown(result), shown(result)
            s.assert_clean()


def test_stdio_server_stderr_and_stdout_carry_no_secret(keyed: Sandbox, tmp_path: Path) -> None:
    """The real process at DEBUG log level: what it writes to stderr (its log) and stdout holds no secret."""
    exe = str(Path(sys.executable).with_name("waha-mcp"))
    calls = [
        ("waha_list_sessions", {}),
        ("waha_create_session", {"name": "vault", "config": CONFIG}),
        ("waha_get_session", {"session": "vault"}),
        ("waha_create_session", {"name": "vault", "config": CONFIG}),
    ]
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        *(
            {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": name, "arguments": args}}
            for i, (name, args) in enumerate(calls, start=2)
        ),
    ]
    replies: dict[Any, Any] = {}
    with serving(keyed.app) as url:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),  # the default store goes here, never into the real user's
            "WAHA_BASE_URL": url,
            "WAHA_SESSION": "default",
            "WAHA_API_KEY": API_KEY,
            "WAHA_MCP_LOG_LEVEL": "DEBUG",
            "WAHA_TOOLSETS": "all",
        }
        proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdin is not None and proc.stdout is not None
        out_lines: list[str] = []
        try:
            for message in messages:  # one at a time: each call sees the previous one's effect
                proc.stdin.write(json.dumps(message).encode() + b"\n")
                proc.stdin.flush()
                while "id" in message and message["id"] not in replies:
                    line = proc.stdout.readline().decode()
                    assert line, "the server closed stdout early"
                    out_lines.append(line)
                    reply = json.loads(line)
                    replies[reply.get("id")] = reply
            rest, err = proc.communicate(timeout=30)  # stdin EOF: the server exits
        finally:
            if proc.poll() is None:
                proc.kill()
    stdout, stderr = "".join(out_lines) + rest.decode(), err.decode()
    assert set(replies) >= {1, 2, 3, 4, 5}, stdout + stderr
    assert replies[4]["result"]["content"][0]["text"].count("***") == 2  # the config really came back
    assert replies[5]["result"]["isError"] is True
    assert stderr.strip(), "the server logged nothing at DEBUG: the check would be vacuous"
    assert not leaks(stdout), leaks(stdout)
    assert not leaks(stderr), [line for line in stderr.splitlines() if leaks(line)][:5]


async def test_a_secret_cut_by_the_length_limit_is_redacted_before_the_cut(keyed: Sandbox) -> None:
    """The key sits across the 500-character cut: none of its characters may survive in the message."""
    padding = "x" * (500 - len("session 'default': WAHA 400 on GET /api/sessions/default: ") - 6)
    keyed.faults.add("SessionsController_get", kind="status", status=400, body={"message": padding + API_KEY})
    async with Client(_server(keyed)) as client:
        message = shown(await client.call_tool("waha_get_session", {}))
    assert API_KEY[:6] not in message and "***" in message


async def test_a_password_set_in_one_call_is_hidden_when_waha_echoes_it_in_another(keyed: Sandbox) -> None:
    async with Client(_server(keyed)) as client:
        s = Scenario(client)
        assert not (await s.run("waha_create_session", {"name": "vault", "config": CONFIG})).is_error
        # A later call without the password in its arguments: WAHA (or a proxy) quotes it back.
        echo = {"message": f"proxy http://bob:{PROXY_PASSWORD}@proxy.example failed, key {HMAC_KEY}"}
        keyed.faults.add("SessionsController_get", kind="status", status=400, body=echo)
        failed = await s.run("waha_get_session", {"session": "vault"})
        assert failed.is_error and "proxy" in shown(failed)
        s.assert_clean()


async def test_log_records_hide_the_api_key_and_secrets_seen_in_arguments(keyed: Sandbox, debug_logs: Any) -> None:
    log = logging.getLogger("waha_mcp.test")
    async with Client(_server(keyed)) as client:
        await client.call_tool("waha_create_session", {"name": "vault", "config": CONFIG})
        log.warning("WAHA said: key=%s password=%s hmac=%s", API_KEY, PROXY_PASSWORD, HMAC_KEY)
        try:
            raise RuntimeError(f"boom with {API_KEY}")
        except RuntimeError:
            log.exception("a crash")
    messages = [record.getMessage() for record in debug_logs.records if record.name == "waha_mcp.test"]
    assert messages[0] == "WAHA said: key=*** password=*** hmac=***"
    # The debug_logs fixture then checks every record (message, arguments, traceback) for every secret.


async def test_waha_environment_never_shows_its_own_key(keyed: Sandbox, debug_logs: Any) -> None:
    """WAHA answers /api/server/environment with WAHA_API_KEY in clear: by name and by value, it is hidden."""
    from waha_mcp.sandbox.routes.server import FAKE_SECRETS

    async with Client(_server(keyed, WAHA_TOOLSETS="all")) as client:
        s = Scenario(client)
        result = await s.run("waha_get_server_info", {"environment": True, "health": True})
        env = json.loads(result.content[0].text)["environment"]
        assert env["WAHA_API_KEY"] == "***" and env["WHATSAPP_HOOK_URL"].endswith("k=***")
        assert all(env[name] == "***" for name in FAKE_SECRETS)
        s.assert_clean()
        assert not [v for v in FAKE_SECRETS.values() if any(v in text for _, text in s.seen)]
    # WAHA did send it in clear: the redaction is tested against a real echo, not a sandbox that hid it.
    assert any(r.path == "/api/server/environment" for r in keyed.requests)
    async with httpx2.AsyncClient(transport=sandbox_transport(keyed), base_url="http://sandbox") as raw:
        answer = await raw.get("/api/server/environment", headers={"X-Api-Key": API_KEY})
    assert answer.json()["WAHA_API_KEY"] == API_KEY


async def test_a_new_api_key_is_shown_once_then_never_again(keyed: Sandbox, debug_logs: Any) -> None:
    async with Client(_server(keyed, WAHA_TOOLSETS="all")) as client:
        made = await client.call_tool("waha_create_api_key", {"session": "default", "confirm": True})
        value = json.loads(made.content[0].text)["key"]
        assert value == next(iter(keyed.model.keys.values()))["key"]  # shown, in full, in this one result
        assert made.structured_content is not None and made.structured_content["key"] == value
        logging.getLogger("waha_mcp.test").warning("WAHA made key %s", value)
        later: list[CallToolResult] = [
            await client.call_tool("waha_list_api_keys", {}),
            await client.call_tool(
                "waha_update_api_key", {"keyId": json.loads(made.content[0].text)["keyId"], "active": False}
            ),
        ]
        keyed.faults.add("SessionsController_get", kind="status", status=400, body={"message": f"key {value} refused"})
        later.append(await client.call_tool("waha_get_session", {}))
        for result in later:
            assert value not in shown(result), shown(result)
        assert "key *** refused" in shown(later[-1])
        # A media-only key is "create or get": made again, it is shown again to the caller who asked for it.
        media = await client.call_tool("waha_create_api_key", {"session": "default", "only": "media", "confirm": True})
        again = await client.call_tool("waha_create_api_key", {"session": "default", "only": "media", "confirm": True})
        assert json.loads(media.content[0].text)["key"] == json.loads(again.content[0].text)["key"] != "***"
    lines = [record.getMessage() + (record.exc_text or "") for record in debug_logs.records]
    assert any("WAHA made key ***" in line for line in lines)
    assert not [line for line in lines if value in line]


def test_named_redaction_and_values_kept_for_one_result() -> None:
    from waha_mcp.redact import Secrets, redact_named, secret_named

    assert all(secret_named(n) for n in ("WAHA_API_KEY", "accountToken", "X_SECRET", "DB_PASSWORD", "hmacKey"))
    assert not any(secret_named(n) for n in ("WAHA_DEFAULT_ENGINE", "url", "username", "inboxId"))
    clean, found = redact_named({"a": {"apiKey": "k-1234", "n": 1, "flag": True, "emptyToken": ""}, "l": [{"pw": 2}]})
    assert clean == {"a": {"apiKey": "***", "n": 1, "flag": True, "emptyToken": ""}, "l": [{"pw": 2}]}
    assert found == ["k-1234"]
    known = Secrets(API_KEY)
    known.add(["new-key-5678"])
    assert known.redactor(keep=["new-key-5678"]).text(f"new-key-5678 {API_KEY}") == "new-key-5678 ***"
    assert known.redactor(keep=[API_KEY]).text(API_KEY) == "***"  # the configured key is never kept
    assert known.redactor().text("new-key-5678") == "***"


async def test_debug_logs_never_print_waha_response_headers(keyed: Sandbox, debug_logs: Any) -> None:
    # Over a real socket, where the HTTP transport's own DEBUG records would print every header WAHA sent.
    with serving(keyed.app) as url:
        async with Client(_server(None, base_url=url)) as client:
            assert not (await client.call_tool("waha_list_sessions", {})).is_error
    lines = [record.getMessage() for record in debug_logs.records]
    assert lines and not [line for line in lines if "content-type" in line.lower() or "headers.complete" in line]


async def test_a_secret_with_quotes_and_backslashes_is_hidden_in_the_json_text_too(keyed: Sandbox) -> None:
    odd = 'px"Pa\\ss-77c1'  # in the JSON text it appears escaped: px\"Pa\\\\ss-77c1
    config = {"proxy": {"server": "proxy.example:3128", "password": odd}, "metadata": {"note": odd}}
    async with Client(_server(keyed)) as client:
        assert not (await client.call_tool("waha_create_session", {"name": "quoted", "config": config})).is_error
        got = await client.call_tool("waha_get_session", {"session": "quoted"})
    text = shown(got)
    assert json.dumps(odd)[1:-1] not in text and odd not in text
    assert json.loads(got.content[-1].text)["config"]["metadata"]["note"] == "***"
