"""One list of the words that make a name a credential's (redact.SECRET_WORDS), for every name we read: tool
arguments, WAHA's settings and a session's config, query parameters, error text."""

from __future__ import annotations

import pytest

from waha_mcp.errors import one_line
from waha_mcp.projections.sessions import redact_config
from waha_mcp.redact import REDACTED, redact_shapes, secret_named, secrets_in


@pytest.mark.parametrize(
    "name",
    ["password", "proxyPwd", "WAHA_API_KEY", "hmacKey", "key", "apiToken", "client_secret", "credential", "signature"],
)
def test_credential_names(name: str) -> None:
    assert secret_named(name)
    assert secrets_in({name: "v4lue-1"}) == ["v4lue-1"]
    assert redact_shapes(f"https://h/x?{name}=v4lue-1&page=2") == f"https://h/x?{name}={REDACTED}&page=2"


@pytest.mark.parametrize("name", ["keyId", "keyboardLayout", "monkeys", "signed", "session", "name"])
def test_other_names(name: str) -> None:
    assert not secret_named(name)
    assert secrets_in({name: "v4lue-1"}) == []


def test_a_session_config_hides_every_credential_named_field() -> None:
    config = {
        "proxy": {"server": "p:3128", "username": "u", "password": "pr0xy"},
        "webhooks": [{"url": "http://h", "hmac": {"key": "hm4c"}, "customHeaders": [{"name": "X", "value": "v"}]}],
        "metadata": {"crmToken": "t0ken", "team": "sales"},
    }
    shown = redact_config(config)
    assert "pr0xy" not in str(shown) and "hm4c" not in str(shown) and "t0ken" not in str(shown)
    assert shown["metadata"]["team"] == "sales" and shown["proxy"]["username"] == "u"
    assert shown["webhooks"][0]["customHeaders"][0]["value"] == REDACTED


def test_an_error_line_hides_a_credential_in_a_query_string() -> None:
    line = one_line("WAHA could not reach https://hooks.example/in?token=s3cr3t-value (ECONNREFUSED)")
    assert "s3cr3t" not in line and f"token={REDACTED}" in line
    assert "s3cr3t" not in one_line("proxy http://user:s3cr3t@proxy:3128 refused")
