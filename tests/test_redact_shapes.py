"""Credentials recognised by their shape, not only by a name or a value we were told: the password in a URL,
a credential in a query string, an Authorization header echoed back (basic auth is only base64)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data
from tests.test_secrets import _server
from waha_mcp import redact
from waha_mcp.config import load_settings
from waha_mcp.jsonfast import dumps
from waha_mcp.redact import Redactor
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.routes.server import URL_SECRETS
from waha_mcp.server import build_server

BASIC = base64.b64encode(b"bob:hunter2-basic").decode()
# (text, what must be gone, what must stay)
SHAPES = [
    ("postgres://waha:pg-Pass-1@db:5432/waha", "pg-Pass-1", "postgres://waha:***@db:5432/waha"),
    ("mongodb://root:mo@Pass:2@mongo:27017/?authSource=admin", "mo@Pass:2", "mongodb://root:***@mongo:27017"),
    ("http://squid:px-Pass-3@proxy.example:3128", "px-Pass-3", "http://squid:***@proxy.example:3128"),
    ("https://hooks.example/in?token=tok-Secret-4&x=1", "tok-Secret-4", "https://hooks.example/in?token=***&x=1"),
    ("https://h.example/w?from=waha&api_key=ak-55aa", "ak-55aa", "?from=waha&api_key=***"),
    ("https://h.example/w?access_token=at-66bb#frag", "at-66bb", "?access_token=***#frag"),
    (f"Authorization: Basic {BASIC}", BASIC, "Authorization: ***"),
    (f'{{"authorization":"Basic {BASIC}"}}', BASIC, '"authorization":"***"'),
    (f"proxy said: Basic {BASIC} was refused", BASIC, "Basic ***"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9", "Bearer ***"),
]
# Ordinary text of the same look stays as it is.
KEPT = [
    "basic information about the Bearer of good news",
    "see https://example.com/a?page=2&q=keys",
    "mail bob@example.com or visit http://example.com/@bob",
    "ratio 3:4 at 10:30 @ home",
]


@pytest.mark.parametrize(("text", "secret", "left"), SHAPES)
def test_credentials_are_hidden_by_shape(text: str, secret: str, left: str) -> None:
    clean = Redactor([]).text(text)
    assert secret not in clean and left in clean, clean
    assert "hunter2" not in clean
    assert Redactor([]).finds_in([text])


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_text_is_kept(text: str) -> None:
    assert Redactor([]).text(text) == text


def test_json_values_are_hidden_too() -> None:
    value = {"config": {"webhooks": [{"url": "https://u:w-Pass-7@h.example/x?token=t-777"}]}, "n": 1}
    clean = Redactor([]).value(value)
    assert clean == {"config": {"webhooks": [{"url": "https://u:***@h.example/x?token=***"}]}, "n": 1}


async def test_urls_in_waha_environment_hide_their_passwords(sandbox: Sandbox) -> None:
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all")
    async with Client(build_server(settings, transport=sandbox_transport(sandbox))) as mcp:
        env = data(await call(mcp, "waha_get_server_info", {"environment": True}))["environment"]
    assert env["WHATSAPP_SESSIONS_POSTGRESQL_URL"] == "postgres://postgres:***@postgres:5432/postgres"
    assert env["WHATSAPP_SESSIONS_MONGO_URL"].startswith("mongodb://mongo:***@mongo:27017")
    assert not [secret for secret in URL_SECRETS if secret in json.dumps(env)]


async def test_webhook_credentials_are_hidden_in_results_and_the_audit_log(sandbox: Sandbox, tmp_path: Path) -> None:
    hook = "https://bob:hook-Pass-8@hooks.example/in?token=hook-Token-9"
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_STORE=str(tmp_path / "store.sqlite3"),
    )
    async with Client(build_server(settings, transport=sandbox_transport(sandbox))) as mcp:
        config = {"webhooks": [{"url": hook, "events": ["message"]}]}
        made = await call(mcp, "waha_create_session", {"name": "hooked", "start": False, "config": config})
        got = await call(mcp, "waha_get_session", {"session": "hooked"})
        audit = await call(mcp, "waha_get_audit_log", {})
    shown = [json.dumps(r.structured_content) + "".join(getattr(b, "text", "") for b in r.content) for r in (made, got)]
    assert sandbox.requests[-1].path.endswith("/hooked")
    assert data(got)["config"]["webhooks"][0]["url"] == "https://bob:***@hooks.example/in?token=***"
    stored = (tmp_path / "store.sqlite3").read_bytes()
    for secret in ("hook-Pass-8", "hook-Token-9"):
        assert not any(secret in text for text in shown)
        assert secret not in json.dumps(audit.structured_content) and secret.encode() not in stored
    # WAHA got the URL whole: only what is shown is redacted.
    created = next(r for r in sandbox.requests if r.method == "POST" and r.path == "/api/sessions")
    assert created.json["config"]["webhooks"][0]["url"] == hook


async def test_an_echoed_basic_auth_header_is_hidden(sandbox: Sandbox) -> None:
    echo: dict[str, Any] = {"message": f"upstream refused Authorization: Basic {BASIC} for /api/sessions"}
    sandbox.faults.add("SessionsController_get", kind="status", status=400, body=echo)
    async with Client(_server(sandbox, key="")) as mcp:
        failed = await call(mcp, "waha_get_session", {"session": "default"})
    text = "".join(getattr(b, "text", "") for b in failed.content)
    assert failed.is_error and "upstream refused" in text
    assert BASIC not in text and "hunter2" not in text


def test_only_two_characters_lower_case_to_ascii() -> None:
    """The shapes' word search lower-cases bytes, not str (redact._ascii_lowered): right only while no other
    non-ASCII character's lower case holds an ASCII one (a newer Unicode database could add one)."""
    folding = {chr(c) for c in range(128, sys.maxunicode + 1) if any(ord(x) < 128 for x in chr(c).lower())}
    assert folding == set(redact._FOLDS_TO_ASCII)


@pytest.mark.parametrize(
    "text",
    [
        "GET /x?TOKEN=abc123 🚚",  # non-ASCII elsewhere in the text: the bytes path
        "GET /x?to\u212aen=abc123",  # KELVIN SIGN: str.lower() reads `token`
        "\u0130 Authorization: Bearer abcdefghijklmnopqrstuvwxyz",
        "Basic dXNlcjpwYXNz \ud800",  # a lone surrogate is no error
        "BEARER abcdefghijklmnopqrstuvwxyz0123 Ünïcødé",
    ],
)
def test_shape_words_are_found_as_str_lower_finds_them(text: str) -> None:
    """The shapes searched are those a str.lower() of the whole text finds words for (what it did before)."""
    lowered = text.lower()
    words = {redact.HEADER: "authorization", redact.BASIC: "basic", redact.BEARER: "bearer"}
    reference = [redact.URL_PASSWORD] if "://" in text and "@" in text else []
    if "=" in text and any(word in lowered for word in redact._QUERY_WORDS):
        reference.append(redact.QUERY)
    reference += [pattern for pattern, word in words.items() if word in lowered]
    assert reference, text  # each holds a credential's shape
    assert redact._shapes_in(text) == reference
    assert Redactor([]).finds_in([text])


def test_a_result_text_that_is_its_structured_content_is_searched_once() -> None:
    """finds_in skips serialising `structured` again when a text is its serialisation, and still finds a secret
    that is only in `structured`."""
    structured = {"note": "see https://user:s3cret-pw@host.example/x"}
    assert Redactor([]).finds_in([dumps(structured)], structured)
    assert Redactor([]).finds_in(["{}"], structured)
    assert not Redactor([]).finds_in([dumps({"a": 1})], {"a": 1})
