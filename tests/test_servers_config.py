"""The WAHA fleet's configuration: `WAHA_SERVERS` inline, `WAHA_SERVERS_FILE` (TOML), `WAHA_BASE_URL` as the
one-server shorthand; a bad entry is one line naming it, never the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from waha_mcp.config import ConfigError, load_settings
from waha_mcp.servers import SINGLE, WAHAServer

KEY = "fleet-key-0123456789abcdef"
OTHER = "other-key-9876543210fedcba"


def test_inline_servers_share_the_api_key() -> None:
    settings = load_settings(
        WAHA_SERVERS=" a=http://10.0.0.5:3000/ , b=https://u:pw-secret-1@10.0.0.6:3000", WAHA_API_KEY=KEY
    )
    assert [(s.name, s.shown, s.api_key, s.capacity) for s in settings.servers] == [
        ("a", "http://10.0.0.5:3000", KEY, None),
        ("b", "https://10.0.0.6:3000", KEY, None),
    ]
    assert set(settings.server_secrets) == {KEY, "pw-secret-1"}
    assert "pw-secret-1" not in repr(settings.servers) and KEY not in repr(settings.servers)


def test_the_base_url_is_the_one_server_shorthand() -> None:
    settings = load_settings(WAHA_BASE_URL="http://localhost:3000/", WAHA_API_KEY=KEY)
    assert settings.servers == (WAHAServer(SINGLE, "http://localhost:3000", KEY),)


def test_sandbox_without_servers_names_none() -> None:
    assert load_settings(WAHA_MCP_SANDBOX=True).servers == ()


def test_a_toml_file_names_each_server_with_its_own_key_and_capacity(tmp_path: Path) -> None:
    path = tmp_path / "servers.toml"
    path.write_text(
        f'[a]\nurl = "http://10.0.0.5:3000"\ncapacity = 50\n\n[b]\nurl = "http://10.0.0.6:3000"\napi_key = "{OTHER}"\n'
    )
    settings = load_settings(WAHA_SERVERS_FILE=str(path), WAHA_API_KEY=KEY)
    assert settings.servers == (
        WAHAServer("a", "http://10.0.0.5:3000", KEY, 50),
        WAHAServer("b", "http://10.0.0.6:3000", OTHER, None),
    )
    assert set(settings.server_secrets) == {KEY, OTHER}


@pytest.mark.parametrize(
    ("inline", "message"),
    [
        ("http://10.0.0.5:3000", "WAHA_SERVERS: entry 1: write name=url"),
        ("a=ftp://x", "WAHA_SERVERS: entry 1 ('a'): url must be an http(s) URL"),
        ("a b=http://x", "entry 1: server names use 1-32 letters"),
        ("a=http://x,a=http://y", "server 'a' is listed twice"),
        ("a=http://x:3000,b=http://u:p@X:3000/", "servers 'a' and 'b' are the same WAHA"),
        (",", "WAHA_SERVERS: no servers listed"),
    ],
)
def test_a_bad_inline_entry_is_one_line_naming_it(inline: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^invalid configuration: ") as caught:
        load_settings(WAHA_SERVERS=inline, WAHA_API_KEY=KEY)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[a]\nurl = "http://x"\ncapacity = 0\n', "[a]: capacity must be a whole number"),
        ('[a]\nurl = "http://x"\ncapacity = true\n', "[a]: capacity must be a whole number"),
        ('[a]\nurl = "http://x"\napikey = "k"\n', "[a]: unknown keys apikey"),
        ("[a]\ncapacity = 3\n", "[a]: url is required"),
        ('a = "http://x"\n', "[a]: must be a table"),
        ('[a]\nurl = "http://x"\napi_key = ""\n', "[a]: api_key must be a non-empty string"),
        ('[a]\nurl = "http://x\n', "is not valid TOML"),
        ("", "no servers listed"),
    ],
)
def test_a_bad_file_entry_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "servers.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(WAHA_SERVERS_FILE=str(path), WAHA_API_KEY=KEY)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_file_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"WAHA_SERVERS_FILE: cannot read .*missing\.toml"):
        load_settings(WAHA_SERVERS_FILE=str(tmp_path / "missing.toml"))


def test_a_file_key_is_never_echoed_in_an_error(tmp_path: Path) -> None:
    path = tmp_path / "servers.toml"
    path.write_text(f'[a]\nurl = "http://x"\napi_key = "{OTHER}"\ncapacity = -1\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(WAHA_SERVERS_FILE=str(path))
    assert OTHER not in str(caught.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"WAHA_BASE_URL": "http://x", "WAHA_SERVERS": "a=http://y"},
        {"WAHA_SERVERS": "a=http://y", "WAHA_SERVERS_FILE": "/dev/null"},
    ],
)
def test_one_way_of_naming_servers_at_a_time(overrides: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"set one of .* WAHA_BASE_URL is the one-server shorthand"):
        load_settings(**overrides)


def test_the_sandbox_fleet_is_the_servers_in_sandbox_mode() -> None:
    settings = load_settings(
        WAHA_MCP_SANDBOX=True, WAHA_MCP_SANDBOX_SERVERS="current,current:50ms,eu=core-2024.10", WAHA_API_KEY=KEY
    )
    assert [(s.name, s.url, s.api_key) for s in settings.servers] == [
        ("a", "http://sandbox-a", KEY),
        ("b", "http://sandbox-b", KEY),
        ("eu", "http://sandbox-eu", KEY),
    ]
    assert [(e.name, e.profile, e.latency) for e in settings.sandbox_fleet] == [
        ("a", "current", 0.0),
        ("b", "current", 0.05),
        ("eu", "core-2024.10", 0.0),
    ]
    # The CLI fills in WAHA_BASE_URL for commands that need none: set aside, as the one-server sandbox does.
    assert (
        load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_SANDBOX_SERVERS="current", WAHA_BASE_URL="http://x")
        .servers[0]
        .name
        == "a"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WAHA_MCP_SANDBOX_SERVERS": "current"}, "WAHA_MCP_SANDBOX_SERVERS: only with --sandbox"),
        (
            {"WAHA_MCP_SANDBOX": "true", "WAHA_MCP_SANDBOX_SERVERS": "current", "WAHA_SERVERS": "a=http://x"},
            "set one of WAHA_SERVERS and WAHA_MCP_SANDBOX_SERVERS: the sandbox reaches no real WAHA",
        ),
        (
            {"WAHA_MCP_SANDBOX": "true", "WAHA_MCP_SANDBOX_SERVERS": "current,nope"},
            "WAHA_MCP_SANDBOX_SERVERS: entry 2 ('b'): unknown profile 'nope'",
        ),
    ],
)
def test_a_bad_sandbox_fleet_is_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**env)
    assert message in str(caught.value) and "\n" not in str(caught.value)
