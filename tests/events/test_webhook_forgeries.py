"""Forged webhook deliveries, as an attacker would try them, against every way the route can be set up (issue 18:
"webhook variants ... 0 bypasses"). Each is sent over a real socket; none may be stored, whatever it answers.

A forgery is a request made without the secret path or the HMAC key: a page in a browser (cross-site forms and
fetches, DNS rebinding), a guess at the secret, a signature made with another key or over another body."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable

import httpx2
import pytest

from tests.e2e.servers import serving
from waha_mcp.config import load_settings
from waha_mcp.events.webhook import PATH, signature
from waha_mcp.http_app import build_http_app
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server

SECRET = "forgery-path-secret-0123456789abcdef"
KEY = "forgery-hmac-key-0123456789abcdef"
OTHER = "not-the-key-at-all-0123456789"
JSON = {"Content-Type": "application/json"}
PUBLIC = {"WAHA_MCP_HOST": "0.0.0.0", "WAHA_MCP_AUTH_TOKEN": "t" * 24}

CONFIGS: dict[str, dict[str, str]] = {
    "default-ws": {},
    "events-off": {"WAHA_MCP_EVENTS": "off"},
    "loopback-unsigned": {"WAHA_MCP_EVENTS": "webhook"},
    "secret": {"WAHA_MCP_EVENTS": "webhook", "WAHA_MCP_WEBHOOK_SECRET": SECRET},
    "hmac": {"WAHA_MCP_EVENTS": "webhook", "WAHA_MCP_WEBHOOK_HMAC_KEY": KEY},
    "secret-and-hmac": {
        "WAHA_MCP_EVENTS": "webhook",
        "WAHA_MCP_WEBHOOK_SECRET": SECRET,
        "WAHA_MCP_WEBHOOK_HMAC_KEY": KEY,
    },
    "public-unsigned": {"WAHA_MCP_EVENTS": "webhook", **PUBLIC},
    "public-secret": {"WAHA_MCP_EVENTS": "webhook", "WAHA_MCP_WEBHOOK_SECRET": SECRET, **PUBLIC},
    "public-hmac": {"WAHA_MCP_EVENTS": "webhook", "WAHA_MCP_WEBHOOK_HMAC_KEY": KEY, **PUBLIC},
}


def body(n: int) -> bytes:
    return json.dumps(
        {"id": f"evt_forged_{n:03d}", "timestamp": int(time.time() * 1000), "session": "default", "event": "message",
         "payload": {"id": f"false_1@c.us_F{n}", "from": "1@c.us", "fromMe": False, "body": "forged"}}
    ).encode()  # fmt: skip


# (name, method, path suffix, headers given the body and the listener's port)
Variant = tuple[str, str, str, Callable[[bytes, str], dict[str, str]]]
BROWSER: list[Variant] = [
    (
        "cross-site text/plain form",
        "POST",
        "",
        lambda b, p: {"Content-Type": "text/plain", "Origin": "https://evil.example"},
    ),
    (
        "cross-site urlencoded form",
        "POST",
        "",
        lambda b, p: {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"},
    ),
    (
        "cross-site multipart form",
        "POST",
        "",
        lambda b, p: {"Content-Type": "multipart/form-data; boundary=x", "Origin": "https://evil.example"},
    ),
    ("fetch with a Blob (no type)", "POST", "", lambda b, p: {"Origin": "https://evil.example"}),
    ("JSON with a foreign Origin", "POST", "", lambda b, p: JSON | {"Origin": "https://evil.example"}),
    ("JSON with Origin null (sandboxed frame)", "POST", "", lambda b, p: JSON | {"Origin": "null"}),
    ("JSON with a loopback Origin", "POST", "", lambda b, p: JSON | {"Origin": f"http://127.0.0.1:{p}"}),
    ("DNS rebinding: foreign Host, no Origin", "POST", "", lambda b, p: JSON | {"Host": f"evil.example:{p}"}),
    ("DNS rebinding: foreign Host, port 80", "POST", "", lambda b, p: JSON | {"Host": "evil.example"}),
    ("loopback Host, another port", "POST", "", lambda b, p: JSON | {"Host": "127.0.0.1:1"}),
    ("text/plain without Origin", "POST", "", lambda b, p: {"Content-Type": "text/plain"}),
    ("JSON-looking type", "POST", "", lambda b, p: {"Content-Type": "text/json"}),
    ("secret-path guess with a browser Origin", "POST", "/" + SECRET, lambda b, p: JSON | {"Origin": "https://e.x"}),
]
GUESSES: list[Variant] = [
    ("unsigned JSON to the bare path", "POST", "", lambda b, p: JSON),
    ("a wrong secret", "POST", "/" + "x" * len(SECRET), lambda b, p: JSON),
    ("the secret minus its last character", "POST", "/" + SECRET[:-1], lambda b, p: JSON),
    ("the secret plus a character", "POST", "/" + SECRET + "x", lambda b, p: JSON),
    ("the secret's first half", "POST", "/" + SECRET[: len(SECRET) // 2], lambda b, p: JSON),
    ("the secret upper-cased", "POST", "/" + SECRET.upper(), lambda b, p: JSON),
    ("the secret then another segment", "POST", f"/{SECRET}/more", lambda b, p: JSON),
    ("an empty segment", "POST", "/", lambda b, p: JSON),
    ("a dot-dot segment", "POST", "/../waha", lambda b, p: JSON),
    ("the secret as a query", "POST", f"?secret={SECRET}", lambda b, p: JSON),
    ("HMAC with another key", "POST", "", lambda b, p: JSON | {"X-Webhook-Hmac": signature(OTHER, b)}),
    ("HMAC over another body", "POST", "", lambda b, p: JSON | {"X-Webhook-Hmac": signature(KEY, b + b" ")}),
    ("an empty X-Webhook-Hmac", "POST", "", lambda b, p: JSON | {"X-Webhook-Hmac": ""}),
    ("zeros as X-Webhook-Hmac", "POST", "", lambda b, p: JSON | {"X-Webhook-Hmac": "0" * 128}),
    ("the right HMAC named sha256", "POST", "",
     lambda b, p: JSON | {"X-Webhook-Hmac": signature(KEY, b), "X-Webhook-Hmac-Algorithm": "sha256"}),
    ("half the right HMAC", "POST", "", lambda b, p: JSON | {"X-Webhook-Hmac": signature(KEY, b)[:64]}),
    ("the secret path with a wrong HMAC", "POST", "/" + SECRET,
     lambda b, p: JSON | {"X-Webhook-Hmac": signature(OTHER, b)}),
    ("PUT to the bare path", "PUT", "", lambda b, p: JSON),
]  # fmt: skip


# What a configuration takes by design, so it is not counted as a bypass. On a loopback bind with nothing to
# authenticate with, plain unsigned JSON from this machine is what a Core WAHA on it sends (an X-Webhook-Hmac is
# ignored there: no key to check it; httpx sends `/webhooks/waha/../waha` as the bare path). With a secret and no
# key, a delivery that knows the secret is authenticated by it, whatever unverifiable signature it carries.
LOOPBACK_TAKES = {
    "unsigned JSON to the bare path",
    "the secret as a query",
    "a dot-dot segment",
    "HMAC with another key",
    "HMAC over another body",
    "an empty X-Webhook-Hmac",
    "zeros as X-Webhook-Hmac",
    "the right HMAC named sha256",
    "half the right HMAC",
}
TAKEN = {
    "loopback-unsigned": LOOPBACK_TAKES,
    "secret": {"the secret path with a wrong HMAC"},
    "public-secret": {"the secret path with a wrong HMAC"},
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_no_forged_delivery_is_stored(sandbox: Sandbox, config: str) -> None:
    """Each configuration against every variant (31 × 9): refused (never 2xx), nothing in the inbox, no answer
    naming the secret or the key; only what TAKEN lists is stored."""
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", **CONFIGS[config])
    server = build_server(settings, transport=sandbox_transport(sandbox))
    bypasses: list[str] = []
    expected_ids: list[str] = []
    try:
        with serving(build_http_app(server, settings)) as url, httpx2.Client() as http:
            port = url.rsplit(":", 1)[1]
            for n, (name, method, suffix, headers) in enumerate(BROWSER + GUESSES):
                payload = body(n)
                answer = http.request(method, url + PATH + suffix, content=payload, headers=headers(payload, port))
                if name in TAKEN.get(config, set()):
                    expected_ids.append(f"evt_forged_{n:03d}")
                elif answer.is_success:
                    bypasses.append(f"{name}: {answer.status_code}")
                assert SECRET not in answer.text and KEY not in answer.text
        db = sqlite3.connect(server.store().path)
        stored = sorted(row[0] for row in db.execute("SELECT id FROM inbox_events"))
        db.close()
    finally:
        server.close()
    assert bypasses == []
    assert stored == sorted(expected_ids)
