"""Configuration: env, `.env` and CLI flags; invalid values give one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from waha_mcp.config import ConfigError, load_settings
from waha_mcp.server import build_server


def test_env_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAHA_BASE_URL", "http://localhost:3000/")
    monkeypatch.setenv("WAHA_SESSION", "business")
    monkeypatch.setenv("WAHA_TOOLSETS", "sessions, chats")
    monkeypatch.setenv("WAHA_READ_ONLY", "true")
    settings = load_settings()
    assert settings.waha_base_url == "http://localhost:3000"
    assert settings.waha_session == "business"
    assert settings.waha_toolsets == ["sessions", "chats"]
    assert settings.waha_read_only is True


def test_dotenv_file_is_read_and_flags_override_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WAHA_BASE_URL=http://10.0.0.5:3000\nWAHA_SESSION=personal\n")
    assert load_settings().waha_session == "personal"
    assert load_settings(WAHA_SESSION="business").waha_session == "business"


def test_timeout_default_is_well_above_wahas_five_second_wait() -> None:
    assert load_settings(WAHA_BASE_URL="http://x").waha_timeout >= 30


def test_base_url_is_required_unless_sandbox() -> None:
    with pytest.raises(ConfigError, match="WAHA_BASE_URL is required"):
        load_settings()
    assert load_settings(WAHA_MCP_SANDBOX=True).sandbox


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"WAHA_BASE_URL": "localhost:3000"}, "WAHA_BASE_URL: must be an http(s) URL"),
        (
            {"WAHA_BASE_URL": "http://x", "WAHA_SESSION": "../etc"},
            "WAHA_SESSION: invalid session name '../etc': use 1-64",
        ),
        ({"WAHA_BASE_URL": "http://x", "WAHA_TIMEOUT": "0"}, "WAHA_TIMEOUT"),
    ],
)
def test_invalid_values_give_one_line(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_api_key_is_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAHA_API_KEY", "sekret-key-123")
    settings = load_settings(WAHA_BASE_URL="http://x")
    assert settings.api_key == "sekret-key-123"
    assert "sekret-key-123" not in repr(settings)


def test_credentials_in_the_base_url_are_kept_out_of_what_is_shown_and_hidden_in_results() -> None:
    settings = load_settings(WAHA_BASE_URL="http://ops:pa%40ss-9f2c@waha.example:3000/")
    assert settings.waha_url_shown == "http://waha.example:3000"
    assert settings.waha_password == "pa@ss-9f2c"
    assert load_settings(WAHA_BASE_URL="http://waha.example:3000").waha_password is None
    server = build_server(settings)
    app = server.new_app(server.new_fleet())
    assert "pa@ss-9f2c" not in app.secrets.redactor().text("WAHA said: bad password pa@ss-9f2c")
