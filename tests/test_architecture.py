"""The multi-session guide's architecture validation, as real assertions."""

from __future__ import annotations

import inspect

import anyio

from waha_mcp.client import WAHAClient
from waha_mcp.config import Settings, load_settings
from waha_mcp.server import build_server
from waha_mcp.tools.registry import all_tools, client_view

NOT_SESSION_SCOPED = {"list_sessions", "ping", "get_version", "server_version", "call", "aclose"}


def test_config_has_base_url_api_key_and_optional_default_session() -> None:
    fields = Settings.model_fields
    assert fields["waha_base_url"].alias == "WAHA_BASE_URL"
    assert fields["waha_api_key"].alias == "WAHA_API_KEY"
    assert fields["waha_session"].alias == "WAHA_SESSION"
    assert load_settings(WAHA_BASE_URL="http://x").waha_session is None


def test_client_constructor_takes_no_session() -> None:
    params = list(inspect.signature(WAHAClient.__init__).parameters)
    assert params[:3] == ["self", "base_url", "api_key"]
    assert "session" not in params


def test_every_session_scoped_client_method_takes_session_first() -> None:
    methods = [
        (name, fn)
        for name, fn in inspect.getmembers(WAHAClient, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in NOT_SESSION_SCOPED
    ]
    assert "fetch_file" in dict(methods)
    # `call` takes the operation first, then the session, which the tools' `w.call` fills from the pipeline.
    assert list(inspect.signature(WAHAClient.call).parameters)[1:3] == ["operation_id", "session"]
    for name, fn in methods:
        first = list(inspect.signature(fn).parameters)[1]
        assert first == "session", f"WAHAClient.{name} takes {first!r} first"


def test_every_tool_has_the_same_optional_session() -> None:
    server = build_server(load_settings(WAHA_BASE_URL="http://x", WAHA_TOOLSETS="all", WAHA_MCP_SANDBOX=True))
    tools = anyio.run(server.list_tools)
    assert len(tools) == len(all_tools())
    for tool in tools:
        schema = tool.input_schema
        assert schema["properties"]["session"] == {"type": "string"}, tool.name
        assert "session" not in schema.get("required", []), tool.name


def test_every_tool_tells_a_client_all_four_hints() -> None:
    """Annotations leave out what equals MCP's defaults; read with the defaults, each tool's hints are its effect's."""
    server = build_server(load_settings(WAHA_BASE_URL="http://x", WAHA_TOOLSETS="all"))
    by_name = {spec.name: spec for spec in all_tools()}
    for tool in anyio.run(server.list_tools):
        assert client_view(tool.annotations) == by_name[tool.name].policy.hints, tool.name


def test_no_tool_reaches_a_wahaclient_or_server_directly() -> None:
    """Tools reach WAHA through the invocation (`w.call`, `w.fetch_file`, ...), which routes by session in a fleet;
    never through a client's own request methods."""
    import re
    from pathlib import Path

    methods = "call|fetch_file|list_sessions|require|files_path"
    direct = re.compile(rf"\b(?:w|inv|self)\.(?:client|app\.client)\.(?:{methods})\(")
    tools = Path(__file__).resolve().parents[1] / "src" / "waha_mcp" / "tools"
    found = [f"{path.name}:{n}" for path in sorted(tools.glob("*.py")) if path.name != "pipeline.py"
             for n, line in enumerate(path.read_text().splitlines(), 1) if direct.search(line)]  # fmt: skip
    assert not found, f"tools reaching a client directly: {found}"
