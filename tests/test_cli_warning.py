"""The start-up warning for a WAHA off this machine reached with no key: per server of a fleet, naming it."""

from __future__ import annotations

import pytest

from waha_mcp.cli import _warn_insecure
from waha_mcp.config import load_settings


def test_one_remote_waha_without_a_key_is_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    _warn_insecure(load_settings(WAHA_BASE_URL="http://user:pw-secret-99@10.0.0.5:3000"))
    err = capsys.readouterr().err
    assert err == "waha-mcp: warning: WAHA at http://10.0.0.5:3000 is not on this machine and WAHA_API_KEY is unset\n"


def test_each_remote_server_of_a_fleet_without_a_key_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    servers = "a=http://10.0.0.5:3000,b=http://127.0.0.1:3001,c=http://u:pw-secret-98@10.0.0.7:3000"
    _warn_insecure(load_settings(WAHA_SERVERS=servers))
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "waha-mcp: warning: WAHA at server 'a' (http://10.0.0.5:3000) is not on this machine and no api_key in its "
        "entry and WAHA_API_KEY is unset",
        "waha-mcp: warning: WAHA at server 'c' (http://10.0.0.7:3000) is not on this machine and no api_key in its "
        "entry and WAHA_API_KEY is unset",
    ]
    assert "None" not in "".join(lines)


def test_a_fleet_with_a_key_is_not_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    _warn_insecure(load_settings(WAHA_SERVERS="a=http://10.0.0.5:3000", WAHA_API_KEY="k" * 20))
    assert capsys.readouterr().err == ""
