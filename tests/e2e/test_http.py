"""Streamable HTTP transport over a real socket: bearer token, Host/Origin checks, stateless mode."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.servers import ok, raw_server, serving
from tests.helpers import data
from waha_mcp.config import ConfigError, Settings, load_settings
from waha_mcp.http_app import build_http_app, security_settings, uvicorn_options
from waha_mcp.http_limits import MAX_HEAD_BYTES
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server
from waha_mcp.tools.registry import select_tools

TOKEN = "test-token-4f1c-9a7e2d"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def http_settings(**extra: object) -> Settings:
    return load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", **extra)


@pytest.fixture
def mcp_url(sandbox: Sandbox) -> Iterator[str]:
    settings = http_settings(WAHA_MCP_AUTH_TOKEN=TOKEN)
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    with serving(app) as url:
        yield url + "/mcp"


async def test_request_without_token_is_401(mcp_url: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(mcp_url, json=INIT, headers=HEADERS)
        assert response.status_code == 401
        wrong = await http.post(mcp_url, json=INIT, headers=HEADERS | {"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    assert TOKEN not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/mcp",
        "/.well-known/openid-configuration",
    ],
)
async def test_oauth_discovery_finds_nothing_so_clients_ask_for_the_token(mcp_url: str, path: str) -> None:
    """This server has a bearer token, not OAuth: discovery answers 404 without a challenge, so a client such as
    the MCP Inspector does not start an OAuth flow; /mcp itself still answers 401 with `WWW-Authenticate`."""
    base = mcp_url.removesuffix("/mcp")
    async with httpx2.AsyncClient() as http:
        found = await http.get(base + path)
        challenged = await http.post(mcp_url, json=INIT, headers=HEADERS)
    assert found.status_code == 404 and "www-authenticate" not in found.headers
    assert "WAHA_MCP_AUTH_TOKEN" in found.json()["error"]
    assert challenged.status_code == 401 and challenged.headers["www-authenticate"] == "Bearer"


async def test_bad_origin_is_403_even_with_the_token(mcp_url: str) -> None:
    headers = HEADERS | {"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"}
    async with httpx2.AsyncClient() as http:
        response = await http.post(mcp_url, json=INIT, headers=headers)
    assert response.status_code == 403


async def test_mcp_client_with_token_lists_and_calls_tools(mcp_url: str) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    async with http, Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as client:
        assert "waha_get_session" in {tool.name for tool in (await client.list_tools()).tools}
        assert data(await client.call_tool("waha_get_session", {}))["name"] == "default"


async def test_stateless_mode_serves_calls(sandbox: Sandbox) -> None:
    settings = http_settings(WAHA_MCP_STATELESS=True)
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    with serving(app) as url:
        http = httpx2.AsyncClient(timeout=30)
        async with http, Client(streamable_http_client(url + "/mcp", http_client=http), mode="legacy") as client:
            assert data(await client.call_tool("waha_list_sessions", {}))["sessions"]


async def test_stateless_requests_share_one_pool_of_connections_to_waha() -> None:
    """Stateless requests share the server's one WAHA client: their requests go out on its keep-alive
    connections instead of each opening (and closing) its own."""
    pytest.importorskip("httptools")
    async with raw_server(lambda request: ok(b"[]")) as waha:
        settings = load_settings(
            WAHA_BASE_URL=waha.url, WAHA_SESSION="default", WAHA_MCP_STATELESS=True, WAHA_MCP_EVENTS="off"
        )
        with serving(build_http_app(build_server(settings), settings)) as url:
            http = httpx2.AsyncClient(timeout=30)
            async with http, Client(streamable_http_client(url + "/mcp", http_client=http), mode="legacy") as client:
                for _ in range(5):
                    assert data(await client.call_tool("waha_get_chats", {}))["chats"] == []
    assert len(waha.requests) == 5 and waha.connections == 1


def test_non_loopback_bind_without_token_refuses_to_start() -> None:
    settings = http_settings(WAHA_MCP_HOST="0.0.0.0")
    with pytest.raises(ConfigError, match="without WAHA_MCP_AUTH_TOKEN"):
        build_http_app(build_server(settings), settings)


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_an_empty_or_blank_token_is_no_token(blank: str) -> None:
    settings = http_settings(WAHA_MCP_HOST="0.0.0.0", WAHA_MCP_AUTH_TOKEN=blank)
    assert settings.auth_token is None
    with pytest.raises(ConfigError, match="without WAHA_MCP_AUTH_TOKEN"):
        build_http_app(build_server(settings), settings)


def test_a_short_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="WAHA_MCP_AUTH_TOKEN: must be at least 16 characters"):
        http_settings(WAHA_MCP_AUTH_TOKEN="short-token")


@pytest.mark.parametrize("header", [b"Bearer", b"Bearer ", b"Bearer    ", b"bearer \t"])
async def test_bearer_with_nothing_after_it_is_refused(header: bytes) -> None:
    from waha_mcp.http_app import BearerAuth

    reached, sent = [], []

    async def inner(scope: object, receive: object, send: object) -> None:
        reached.append(scope)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"authorization", header)]}
    await BearerAuth(inner, TOKEN)(scope, None, send)  # type: ignore[arg-type]
    assert not reached and sent[0]["status"] == 401


def test_bearer_auth_refuses_an_empty_token() -> None:
    from waha_mcp.http_app import BearerAuth

    with pytest.raises(ValueError, match="non-empty token"):
        BearerAuth(lambda *_: None, "  ")


def test_non_loopback_bind_with_token_is_allowed() -> None:
    settings = http_settings(WAHA_MCP_HOST="0.0.0.0", WAHA_MCP_AUTH_TOKEN=TOKEN)
    assert build_http_app(build_server(settings), settings) is not None


async def test_health_answers_without_the_token_and_says_nothing_else(mcp_url: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.get(mcp_url.removesuffix("/mcp") + "/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}


def _narrowed(mcp_url: str, **headers: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}", **headers}, timeout=30)
    return Client(streamable_http_client(mcp_url, http_client=http))


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_connection_can_narrow_its_toolsets(mcp_url: str, mode: str) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}", "X-WAHA-Toolsets": "chats"}, timeout=30)
    async with http, Client(streamable_http_client(mcp_url, http_client=http), mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "waha_get_chats" in names and "waha_send_message" not in names and "waha_get_session" not in names
        refused = await client.call_tool("waha_get_session", {})
        assert refused.is_error and "not enabled for this connection" in refused.content[0].text
        assert not (await client.call_tool("waha_get_chats", {"limit": 1})).is_error


async def test_a_read_only_connection_sees_and_runs_reads_only(mcp_url: str, sandbox: Sandbox) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}", "X-WAHA-Read-Only": "true"}, timeout=30)
    async with http, Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert tools and all(tool.annotations.read_only_hint for tool in tools.values())
        assert "save" not in tools["waha_download_media"].input_schema["properties"]
        before = len(sandbox.requests)
        sent = await client.call_tool("waha_send_message", {"chatId": "123456789", "text": "hi"})
        assert sent.is_error and "writes, and this connection is read-only (X-WAHA-Read-Only)" in sent.content[0].text
        assert len(sandbox.requests) == before  # nothing reached WAHA


async def test_narrowing_never_widens_and_unknown_toolsets_are_named(sandbox: Sandbox) -> None:
    settings = http_settings(WAHA_MCP_AUTH_TOKEN=TOKEN, WAHA_TOOLSETS="chats")
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    with serving(app) as url:
        async with _narrowed(url + "/mcp", **{"X-WAHA-Toolsets": "chats,messages"}) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert names == [spec.name for spec in select_tools(toolsets=["chats"])]  # messages not added
        async with _narrowed(url + "/mcp", **{"X-WAHA-Toolsets": "chats,nope"}) as client:
            with pytest.raises(Exception, match=r"unknown toolset.*nope"):
                await client.list_tools()


def _serve(sandbox: Sandbox, **env: object) -> AbstractContextManager[str]:
    settings = http_settings(**env)
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    options = {k: v for k, v in uvicorn_options(settings).items() if k not in ("host", "port", "log_level")}
    return serving(app, **options)


async def _open_session(http: httpx2.AsyncClient, url: str) -> httpx2.Response:
    return await http.post(url, json=INIT, headers=HEADERS)


async def test_sessions_over_the_cap_are_refused_until_one_ends(sandbox: Sandbox) -> None:
    with _serve(sandbox, WAHA_MCP_HTTP_MAX_SESSIONS="2") as url:
        async with httpx2.AsyncClient(timeout=10) as http:
            first, second = [await _open_session(http, url + "/mcp") for _ in range(2)]
            assert first.status_code == second.status_code == 200
            third = await _open_session(http, url + "/mcp")
            assert third.status_code == 503 and "Too many open sessions" in third.text
            # The open ones still work; ending one makes room.
            session = {"mcp-session-id": first.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
            assert (await http.delete(url + "/mcp", headers=HEADERS | session)).status_code == 200
            assert (await _open_session(http, url + "/mcp")).status_code == 200


async def test_an_idle_session_expires(sandbox: Sandbox) -> None:
    with _serve(sandbox, WAHA_MCP_HTTP_SESSION_IDLE="0.5") as url:
        async with httpx2.AsyncClient(timeout=10) as http:
            opened = await _open_session(http, url + "/mcp")
            session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
            ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
            assert (await http.post(url + "/mcp", json=ping, headers=HEADERS | session)).status_code == 200
            await anyio.sleep(1.5)
            expired = await http.post(url + "/mcp", json=ping, headers=HEADERS | session)
            assert expired.status_code == 404


def _host_port(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("http://").partition(":")
    return host, int(port)


@pytest.fixture(params=["h11", "httptools"])
def protocol(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each head-limit test runs on both HTTP parsers uvicorn may be given (httptools, a dependency; h11 without it)."""
    from waha_mcp import http_limits as http_app

    if request.param == "httptools":
        pytest.importorskip("httptools")
        from waha_mcp.http_httptools import HeadLimitsHttpToolsProtocol

        monkeypatch.setattr(http_app, "protocol_class", lambda: HeadLimitsHttpToolsProtocol)
    else:
        monkeypatch.setattr(http_app, "protocol_class", lambda: http_app.HeadTimeoutProtocol)
    return str(request.param)


def test_the_parser_is_httptools_when_installed_else_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    from waha_mcp import http_limits as http_app

    pytest.importorskip("httptools")
    assert http_app.protocol_class().__name__ == "HeadLimitsHttpToolsProtocol"
    monkeypatch.setitem(__import__("sys").modules, "waha_mcp.http_httptools", None)  # as if not installed
    assert http_app.protocol_class() is http_app.HeadTimeoutProtocol


def test_a_big_body_after_a_small_head_is_not_taken_for_a_big_head(sandbox: Sandbox, protocol: str) -> None:
    body = b"x" * (3 * MAX_HEAD_BYTES)
    with _serve(sandbox) as url:
        with socket.create_connection(_host_port(url), timeout=10) as sock:
            head = f"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n"
            sock.sendall(head.encode() + body)  # one write: the server reads head and body together
            answer = sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 404")  # no such route: the head was read, body and all


def test_a_head_whose_blank_line_is_split_across_reads_ends_there(sandbox: Sandbox, protocol: str) -> None:
    body = b"x" * (2 * MAX_HEAD_BYTES)
    with _serve(sandbox) as url:
        with socket.create_connection(_host_port(url), timeout=10) as sock:
            head = f"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r".encode()
            sock.sendall(head)
            time.sleep(0.2)  # two reads: the blank line's last byte comes with the body
            sock.sendall(b"\n" + body)
            answer = sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 404")


def test_a_request_head_sent_too_slowly_is_cut_off(sandbox: Sandbox, protocol: str) -> None:
    with _serve(sandbox, WAHA_MCP_HTTP_HEADER_TIMEOUT="1") as url:
        with socket.create_connection(_host_port(url), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            closed = False
            while time.monotonic() - started < 6:  # a header line every 0.3 s: never idle, never finished
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    closed = True
                    break
                time.sleep(0.3)
                sock.settimeout(0.01)
                try:
                    if sock.recv(1024) == b"":
                        closed = True
                        break
                except TimeoutError:
                    pass
                except OSError:
                    closed = True
                    break
            assert closed and time.monotonic() - started < 4


@pytest.mark.parametrize("complete", [False, True], ids=["unfinished", "whole"])
def test_an_oversized_request_head_is_refused(sandbox: Sandbox, protocol: str, complete: bool) -> None:
    with _serve(sandbox) as url:
        with socket.create_connection(_host_port(url), timeout=10) as sock:
            big = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 1024)
            sock.sendall(big + (b"\r\n\r\n" if complete else b""))
            answer = sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 400")


def test_connections_over_the_cap_get_503(sandbox: Sandbox) -> None:
    with _serve(sandbox, WAHA_MCP_HTTP_MAX_CONNECTIONS="3") as url:
        idle = [socket.create_connection(_host_port(url), timeout=10) for _ in range(3)]
        try:
            time.sleep(0.2)
            with socket.create_connection(_host_port(url), timeout=10) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert sock.recv(1024).startswith(b"HTTP/1.1 503")
        finally:
            for conn in idle:
                conn.close()
        time.sleep(0.2)
        assert httpx2.get(url + "/healthz").status_code == 200


def test_the_cli_serves_with_the_limits() -> None:
    settings = http_settings(WAHA_MCP_HTTP_MAX_CONNECTIONS="50", WAHA_MCP_HTTP_HEADER_TIMEOUT="7")
    options = uvicorn_options(settings)
    assert options["limit_concurrency"] == 50 and options["timeout_keep_alive"] == 7
    assert options["h11_max_incomplete_event_size"] == MAX_HEAD_BYTES
    defaults = http_settings()
    assert (defaults.http_max_sessions, defaults.http_session_idle) == (100, 1800)
    assert (defaults.http_max_connections, defaults.http_header_timeout) == (200, 10)


@pytest.mark.parametrize("bind", ["0.0.0.0", "::"])
def test_a_wildcard_bind_accepts_this_machines_names(bind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "Box7")
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "box7.lan.example")
    security = security_settings(http_settings(WAHA_MCP_HOST=bind, WAHA_MCP_AUTH_TOKEN=TOKEN))
    for name in ["Box7", "box7", "box7.lan.example"]:
        assert {name, f"{name}:*"} <= set(security.allowed_hosts)
        assert {f"http://{name}:*", f"https://{name}"} <= set(security.allowed_origins)
    # A loopback bind does not answer to the machine's names; an explicit address answers to itself.
    assert "box7:*" not in security_settings(http_settings()).allowed_hosts
    explicit = security_settings(http_settings(WAHA_MCP_HOST="10.1.2.3", WAHA_MCP_AUTH_TOKEN=TOKEN))
    assert "10.1.2.3:*" in explicit.allowed_hosts and "box7:*" not in explicit.allowed_hosts
    # A reverse proxy's public name is not knowable here: WAHA_MCP_ALLOWED_HOSTS adds it.
    proxied = http_settings(WAHA_MCP_HOST=bind, WAHA_MCP_AUTH_TOKEN=TOKEN, WAHA_MCP_ALLOWED_HOSTS="mcp.example.com")
    assert "mcp.example.com" in security_settings(proxied).allowed_hosts
    assert "mcp.example.com" not in security.allowed_hosts


async def test_the_remote_recipe_answers_to_the_machine_name(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve --http --host 0.0.0.0` reached by the machine's name: no 421 Invalid Host header."""
    monkeypatch.setattr(socket, "gethostname", lambda: "box7")
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "box7.lan.example")
    settings = http_settings(WAHA_MCP_HOST="0.0.0.0", WAHA_MCP_AUTH_TOKEN=TOKEN)
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    with serving(app, host="0.0.0.0") as url:
        port = url.rsplit(":", 1)[1]
        auth = HEADERS | {"Authorization": f"Bearer {TOKEN}"}
        async with httpx2.AsyncClient(timeout=10) as http:
            target = f"http://127.0.0.1:{port}/mcp"
            for name in ["box7", "box7.lan.example"]:
                answer = await http.post(target, json=INIT, headers=auth | {"Host": f"{name}:{port}"})
                assert answer.status_code == 200, answer.text
            stranger = await http.post(target, json=INIT, headers=auth | {"Host": f"evil.example:{port}"})
            assert stranger.status_code == 421


@pytest.mark.parametrize(("media_cap", "status"), [(None, 200), ("1024", 413)])
async def test_a_request_body_may_carry_base64_media_up_to_the_media_cap(
    sandbox: Sandbox, media_cap: str | None, status: int
) -> None:
    """5 MiB of body: over the SDK's own 4 MiB, within the room the default media cap (16 MiB) needs as base64."""
    extra = {"WAHA_MCP_MAX_MEDIA_BYTES": media_cap} if media_cap else {}
    settings = http_settings(WAHA_MCP_AUTH_TOKEN=TOKEN, **extra)
    app = build_http_app(build_server(settings, transport=sandbox_transport(sandbox)), settings)
    big = INIT | {"params": INIT["params"] | {"_meta": {"padding": "x" * (5 * 1024 * 1024)}}}
    with serving(app) as url:
        async with httpx2.AsyncClient(timeout=30) as http:
            headers = HEADERS | {"Authorization": f"Bearer {TOKEN}"}
            response = await http.post(url + "/mcp", json=big, headers=headers)
    assert response.status_code == status
