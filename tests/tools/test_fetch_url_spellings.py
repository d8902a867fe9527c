"""URL spellings on which a naive check and Node's WHATWG parser (which WAHA fetches with) disagree.

Every spelling here names a private, loopback or metadata host to Node; each must be refused. Where node is on
the machine, our reading of the host is compared with `new URL()`'s over the whole corpus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.fetch_urls import fetch_url_refusal, is_web_url, proxy_refusal, text_url_refusal, web_host

# Each names 169.254.169.254, 127.0.0.1, 10.0.0.1 or a local name once Node has parsed it.
TRICKS = [
    "http://169.254.169.254\\@evil.com/",  # backslash is a slash in special schemes: userinfo never starts
    "http://169.254.169.%32%35%34/latest/meta-data/",  # percent-encoded digits are decoded in the host
    "http://１６９.２５４.１６９.２５４/",  # fullwidth digits map to ASCII (UTS 46)
    "http://169。254。169。254/",  # ideographic full stop is a dot
    "http://169．254．169．254/",  # fullwidth full stop
    "http://169｡254｡169｡254/",  # halfwidth ideographic full stop
    "http://0x7f.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f000001/",
    "http://127.1./",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
    "http://[::1]/",
    "http:\\\\127.0.0.1/",
    "http:/127.0.0.1/",
    "http:127.0.0.1/",
    "HTTP://127.0.0.1/",
    " http://127.0.0.1/",
    "\x01http://127.0.0.1/",
    "ht\ttp://127.0.0.1/",
    "http://127.0.0.1\t/",
    "http://12\n7.0.0.1/",
    "http://user:pw@127.0.0.1:3000/api/sessions",
    "http://evil.com@127.0.0.1/",
    "http://evil.com:80@10.0.0.1/",
    "http://127.0.0.1%2f@evil.com/",  # %2f stays in userinfo; the host is evil.com to Node... see NODE_ONLY
    "http://ＬＯＣＡＬＨＯＳＴ/",
    "http://localhost./",
    "http://%6c%6f%63%61%6c%68%6f%73%74/",
    "http://metadata.google.internal./computeMetadata/v1/",
    "http://１０．０．０．１/",
    "http://0x0a.0.0.1/",
    "http://012.0.0.1/",
    "http://10.1/",
    "http://167772161/",
    "http://0xA9FEA9FE/",
    "http://0251.0376.0251.0376/",
    "http://0/",
    "http://[::]/",
    "http://100.100.100.200/",  # Alibaba's metadata
    "http://[fd00:ec2::254]/",  # AWS's IPv6 metadata
    "http://[::a9fe:a9fe]/",  # IPv4-compatible (deprecated) form of 169.254.169.254
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
    "http://[64:ff9b::0.0.0.0]/",  # NAT64 of the unspecified address
]
# Public to Node, so allowed: the check must not refuse ordinary hosts.
PUBLIC = [
    "https://example.com/a.jpg",
    "http://8.8.8.8/a",
    "http://127.0.0.1%2f@example.com/",  # the userinfo is "127.0.0.1%2f"; the host example.com
    "https://ＥＸＡＭＰＬＥ.com/",
    "https://bücher.example/",
    "http://1.1.1.1:8080/x",
]
# Not parsed by Node at all: refused here (WAHA would fail on them, and a different parser may not).
UNPARSEABLE = [
    "http://1.2.3.4.5/",
    "http://%00/",
    "http://a b/",
    "http://[::1/",
    "http://256.0.0.1/",
    "http://0x100000000/",
]


def test_every_trick_is_refused() -> None:
    missed = [url for url in TRICKS if not is_web_url(url) or fetch_url_refusal(url) is None]
    # %2f@: Node's host is evil.com (public): listed here only to check we read it the same way
    assert missed == ["http://127.0.0.1%2f@evil.com/"]


@pytest.mark.parametrize("url", PUBLIC)
def test_public_hosts_pass(url: str) -> None:
    assert fetch_url_refusal(url) is None


@pytest.mark.parametrize("url", UNPARSEABLE)
def test_what_cannot_be_parsed_is_refused(url: str) -> None:
    assert "cannot be parsed" in (fetch_url_refusal(url) or "")


def test_the_host_list_matches_the_parsed_host() -> None:
    assert fetch_url_refusal("http://１０．０．０．７/x", ["10.0.0.7"]) is None
    assert fetch_url_refusal("http://Media.LAN./x", ["media.lan"]) is None
    assert fetch_url_refusal("http://10.0.0.8\\@media.lan/x", ["media.lan"]) is not None
    assert fetch_url_refusal("http://media.lan\\@10.0.0.8/x", ["media.lan"]) is None  # the host is media.lan


NODE = shutil.which("node")
_NODE_PARSE = (
    "const out = {}; for (const u of JSON.parse(require('fs').readFileSync(0, 'utf8'))) "
    "{ try { out[u] = new URL(u).hostname } catch { out[u] = null } } process.stdout.write(JSON.stringify(out))"
)


@pytest.mark.skipif(NODE is None, reason="node is not installed: the comparison with WHATWG's reference needs it")
def test_hosts_read_as_node_reads_them() -> None:
    corpus = [*TRICKS, *PUBLIC, *UNPARSEABLE]
    run = subprocess.run(
        [NODE or "node", "-e", _NODE_PARSE], input=json.dumps(corpus), capture_output=True, text=True, timeout=60
    )
    theirs: dict[str, Any] = json.loads(run.stdout)
    ours = {url: web_host(url) for url in corpus}
    assert ours == theirs


# The URLs a tool hands WAHA that the marker check did not cover.
CHAT = "12025550100"


@pytest.mark.parametrize("url", ["http://169.254.169.%32%35%34/latest", "https://127.1:3000/api/sessions"])
async def test_link_preview_text_is_checked(mcp: Client, sandbox: Any, url: str) -> None:
    before = len(sandbox.requests)
    message = error(await call(mcp, "waha_send_message", {"chatId": CHAT, "text": f"look {url} now"}))
    assert "text refused" in message and "linkPreview" in message, message
    custom = {"chatId": CHAT, "text": f"see {url}", "previewTitle": "T"}
    assert "text refused" in error(await call(mcp, "waha_send_message", custom))
    assert len(sandbox.requests) == before
    # Without a preview WAHA fetches nothing: the text goes out as it is.
    sent = data(await call(mcp, "waha_send_message", {"chatId": CHAT, "text": f"look {url}", "linkPreview": False}))
    assert sent["chatId"] == f"{CHAT}@c.us"


async def test_a_public_link_is_previewed(mcp: Client) -> None:
    text = "see https://example.com/x, readme.md, e.g. example.org; take 0.5 mg of v1.2.3 at 10:30 (12025550132@c.us)"
    assert data(await call(mcp, "waha_send_message", {"chatId": CHAT, "text": text}))


@pytest.mark.parametrize(
    "text",
    [
        "ask metadata.google.internal/computeMetadata/v1/",
        "printer.local:631/jobs",
        "www.app.localhost",
        "10.0.0.7:80/",
        "the box is at 192.168.1.20 now",
        "admin@127.1:8080",
        "0.0 or 127.1",
    ],
)
def test_links_without_a_scheme_are_checked(text: str) -> None:
    # NOWEB (Baileys) takes links without a scheme too, and previews them over https.
    assert text_url_refusal(text) is not None


def test_an_explicit_url_node_cannot_parse_is_refused_in_text_a_bare_word_is_not() -> None:
    assert "cannot be parsed" in (text_url_refusal("see http://1.2.3.4.5/x now") or "")
    assert text_url_refusal("release v1.2.3 is out") is None


def test_a_proxy_of_any_scheme_is_read_for_its_host() -> None:
    assert proxy_refusal("socks5://proxy.example:1080") is None and proxy_refusal("proxy.example:3128") is None
    assert proxy_refusal("socks5://0x7f.1:1080") is not None and proxy_refusal("[::1]:3128") is not None


@pytest.mark.parametrize(
    "config",
    [
        {"webhooks": [{"url": "http://169.254.169.254\\@evil.com/", "events": ["message"]}]},
        {
            "webhooks": [
                {"url": "https://ok.example/h", "events": ["message"]},
                {"url": "http://0x7f.1/", "events": ["x"]},
            ]
        },
        {"proxy": {"server": "127.0.0.1:3128"}},
        {"proxy": {"server": "http://[::ffff:a9fe:a9fe]:3128"}},
    ],
)
async def test_session_webhooks_and_proxy_are_checked(mcp: Client, sandbox: Any, config: dict[str, Any]) -> None:
    before = len(sandbox.requests)
    for tool, args in (
        ("waha_create_session", {"name": "fresh", "config": config}),
        ("waha_update_session_config", {"session": "default", "config": config}),
    ):
        message = error(await call(mcp, tool, args))
        assert "refused" in message and "WAHA_MCP_ALLOW_FETCH_HOSTS" in message, message
    assert len(sandbox.requests) == before


async def test_an_edit_is_checked_as_waha_previews_its_new_text(mcp: Client, sandbox: Any) -> None:
    sent = data(await call(mcp, "waha_send_message", {"chatId": CHAT, "text": "draft"}))
    before = len(sandbox.requests)
    edit = {"chatId": CHAT, "messageId": sent["messageId"], "text": "now http://0x7f.1:3000/api/sessions"}
    message = error(await call(mcp, "waha_edit_message", edit))
    assert "text refused" in message and "127.0.0.1 is a loopback address" in message, message
    assert "linkPreview=false" not in message  # the edit tool has no such argument to point to
    assert len(sandbox.requests) == before
    assert data(await call(mcp, "waha_edit_message", {**edit, "text": "now https://example.com"}))
