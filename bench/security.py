"""Security figures (issue 18): hostile spellings of URLs and ids thrown at the real tools, counting bypasses.

    python bench/security.py            # prints a table; --json FILE keeps every case

In process: an SDK client over memory, the sandbox over its ASGI transport, WAHA_MCP_ALLOW_CHATS set to one
person and one group. A case is a bypass when the sandbox received the write it carries (the guard let it
through); a legitimate case must go through (else it is a false refusal).

1. URL spellings of private, loopback and metadata hosts, generated from a few addresses in every spelling the
   WHATWG parser accepts (radix, short forms, percent-encoding, fullwidth digits, three kinds of ideographic
   dot, backslash before `@`, IPv4 inside IPv6), each sent as a media `file`, as a link in a previewed text and
   as a session's webhook. Where node is installed, each URL's host is also read by `new URL()`: a URL Node
   reads as a public host is counted as public, whatever we think.
2. Message-id spellings pointing outside the allow-list (any prefix, `@s.whatsapp.net`, a participant, bare and
   malformed ids), each through a reaction, a receipt, a reply and a forward.
3. Chat-id spellings with the allowed number's digits but another kind (`@lid`, `@g.us`, `@newsletter`).
4. Tools that reach people without a chat id: a status without contacts, a join by invite to another group.
5. The cost of redaction by shape on every result: the redactor's check of a chats overview (60 chats, with and
   without links) by known values only (the way before) and with the shapes too, interleaved, best of 7.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from mcp import Client

from waha_mcp.config import load_settings
from waha_mcp.jsonfast import dumps
from waha_mcp.redact import Redactor
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server

PERSON, OUTSIDE = "12025550118", "12025550132"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DOTS = (".", "。", "．", "｡")
TARGETS = ("127.0.0.1", "169.254.169.254", "10.0.0.1", "192.168.1.1", "100.100.100.200", "0.0.0.0")


def ipv4_spellings(address: str) -> list[str]:
    """The host spellings of one IPv4 address that a WHATWG parser reads as that address."""
    parts = [int(p) for p in address.split(".")]
    value = int(ipaddress.IPv4Address(address))
    forms = {
        address,
        str(value),
        hex(value),
        "0" + oct(value)[2:],
        ".".join(hex(p) for p in parts),
        ".".join("0" + oct(p)[2:] if p else "0" for p in parts),
        f"{parts[0]}.{(parts[1] << 16) | (parts[2] << 8) | parts[3]}",
        f"{parts[0]}.{parts[1]}.{(parts[2] << 8) | parts[3]}",
        f"{hex(parts[0])}.{parts[1]}.{hex((parts[2] << 8) | parts[3])}",
        address + ".",
        address.translate(FULLWIDTH),
        "".join(f"%{ord(c):02x}" for c in address),
        address[:-1] + f"%{ord(address[-1]):02X}",
        f"[::ffff:{address}]",
        f"[::ffff:{(value >> 16):x}:{(value & 0xFFFF):x}]",
        f"[64:ff9b::{address}]",
        f"[2002:{(value >> 16):x}:{(value & 0xFFFF):x}::1]",
    }
    for dot in DOTS[1:]:
        forms.add(address.replace(".", dot))
        forms.add(address.translate(FULLWIDTH).replace(".", dot))
    return sorted(forms)


def url_spellings() -> list[str]:
    urls: list[str] = []
    for address in TARGETS:
        for host in ipv4_spellings(address):
            urls += [f"http://{host}/x.jpg", f"HTTPS://{host}:8443/x.jpg", f"http://u:p@{host}/x.jpg"]
        urls += [
            f"http://{address}\\@evil.example/x.jpg",
            f"http:\\\\{address}/x.jpg",
            f"http:/{address}/x.jpg",
            f" \thttp://{address}/x.jpg",
            f"http://evil.example@{address}/x.jpg",
        ]
    urls += [
        "http://localhost/x.jpg",
        "http://ＬＯＣＡＬＨＯＳＴ/x.jpg",
        "http://%6c%6f%63%61%6c%68%6f%73%74/x.jpg",
        "http://localhost./x.jpg",
        "http://metadata.google.internal/x",
        "http://waha:3000/api/sessions",
        "http://[::1]/x.jpg",
        "http://[fd00:ec2::254]/latest",
        "http://1.2.3.4.5/x.jpg",
    ]
    return list(dict.fromkeys(urls))


def node_hosts(urls: list[str]) -> dict[str, str | None] | None:
    """Each URL's host as Node's `new URL()` reads it (None: Node throws), or None without node."""
    node = shutil.which("node")
    if node is None:
        return None
    script = (
        "const out = {}; for (const u of JSON.parse(require('fs').readFileSync(0, 'utf8'))) "
        "{ try { out[u] = new URL(u).hostname } catch { out[u] = null } } process.stdout.write(JSON.stringify(out))"
    )
    run = subprocess.run([node, "-e", script], input=json.dumps(urls), capture_output=True, text=True, timeout=120)
    return json.loads(run.stdout)


def public_to_node(host: str | None) -> bool:
    """Our own oracle, independent of the code measured: is the host Node read a public one?"""
    if host is None:
        return False  # Node refuses it; so must we (another parser may read it otherwise)
    host = host.rstrip(".")
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        local = host == "localhost" or "." not in host or host.endswith((".local", ".internal", ".localhost"))
        return not local
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour):
        ip = ip.ipv4_mapped or ip.sixtofour  # type: ignore[assignment]
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("64:ff9b::/96"):
        ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return bool(ip.is_global) and not ip.is_multicast and not ip.is_unspecified


def message_ids(group: str) -> list[str]:
    chat = f"{OUTSIDE}@c.us"
    ids = [
        f"{prefix}_{chat}_3EB0AA01"
        for prefix in ("true", "false", "TRUE", "True", "FALSE", "x", "", "1", "true ", "fromMe")
    ]
    ids += [
        f"true_{OUTSIDE}@s.whatsapp.net_3EB0AA01",
        f"false_{OUTSIDE}@lid_3EB0AA01",
        f"false_120363000000000009@g.us_3EB0AA01_{PERSON}@c.us",  # a group outside, its member allowed
        f"false_{chat}_3EB0AA01_{group}",
        "3EB0AA01BB02CC03",  # bare: no chat
        "true_3EB0AA01",  # two parts
        f"true_{PERSON}@c.us_AA_BB_CC",  # five parts
        f"true_{OUTSIDE}_3EB0AA01",  # a chat without a server
        f"true_{OUTSIDE}@C.US_3EB0AA01",
    ]
    return ids


async def run_cases(client: Client, sandbox: Sandbox, cases: list[tuple[str, str, dict[str, Any]]]) -> list[dict]:
    """Each case: (kind, tool, arguments). Reached = the sandbox got a write from it."""
    out = []
    for kind, tool, arguments in cases:
        before = len(sandbox.requests)
        result = await client.call_tool(tool, arguments)
        writes = [r for r in sandbox.requests[before:] if r.method in ("POST", "PUT", "DELETE")]
        text = result.content[-1].text if result.content else ""  # type: ignore[union-attr]
        out.append({"kind": kind, "tool": tool, "arguments": arguments, "reached": bool(writes), "said": text[:160]})
    return out


async def measure() -> dict[str, Any]:
    sandbox = Sandbox()
    world = sandbox.sessions["default"].world
    assert world is not None
    group = next(g.id for g in world.groups.values())
    outside_group = next(iter(world.outside.values()))
    settings = load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_PACING="off",
        WAHA_MCP_STORE=":memory:",
        WAHA_MCP_ALLOW_CHATS=f"{PERSON},{group}",
    )
    server = build_server(settings, transport=sandbox_transport(sandbox))
    urls = url_spellings()
    theirs = node_hosts(urls)
    hostile = urls
    public: list[str] = []
    if theirs is not None:  # a URL Node reads as a public host is no attack, whatever we think
        public = [u for u in urls if public_to_node(theirs[u])]
        hostile = [u for u in urls if u not in public]
    to = {"chatId": PERSON}
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for n, url in enumerate(hostile):
        cases.append(("url: media file", "waha_send_media", to | {"file": url}))
        cases.append(("url: previewed text", "waha_send_message", to | {"text": f"see {url.strip()} now"}))
        hook = {"webhooks": [{"url": url, "events": ["message"]}]}
        cases.append(("url: session webhook", "waha_create_session", {"name": f"probe{n}", "config": hook}))
    for mid in message_ids(group):
        cases.append(("message id: reaction", "waha_react_to_message", {"messageId": mid, "reaction": "👍"}))
        cases.append(("message id: receipt", "waha_mark_seen", {"chatId": PERSON, "messageIds": [mid]}))
        cases.append(("message id: reply", "waha_send_message", to | {"text": "hi", "replyTo": mid}))
        cases.append(("message id: forward", "waha_forward_message", to | {"messageId": mid}))
    for chat in (f"{PERSON}@lid", f"{PERSON}@g.us", f"{PERSON}@newsletter", f"{PERSON}0000@c.us", OUTSIDE):
        cases.append(("chat id: number pattern", "waha_send_message", {"chatId": chat, "text": "hi"}))
    cases.append(("reach: status to all", "waha_send_text_status", {"text": "hello"}))
    cases.append(("reach: status to all", "waha_send_media_status", {"file": "https://example.com/a.jpg"}))
    cases.append(("reach: join by invite", "waha_join_group", {"code": outside_group.invite_code}))
    # Legitimate: must go through.
    fine: list[tuple[str, str, dict[str, Any]]] = [
        ("ok: public media", "waha_send_media", to | {"file": "https://example.com/a.jpg"}),
        ("ok: previewed public link", "waha_send_message", to | {"text": "see https://example.com/x"}),
        ("ok: private link, no preview", "waha_send_message", to | {"text": "http://10.0.0.1/", "linkPreview": False}),
        (
            "ok: member's message in the group",
            "waha_react_to_message",
            {"messageId": f"false_{group}_3EB0AA01_{OUTSIDE}@c.us", "reaction": "👍"},
        ),
        ("ok: status to an allowed contact", "waha_send_text_status", {"text": "hi", "contacts": [PERSON]}),
    ]
    async with Client(server) as client:
        hostile_results = await run_cases(client, sandbox, cases)
        fine_results = await run_cases(client, sandbox, fine)
    server.close()
    tried = Counter(r["kind"] for r in hostile_results)
    bypassed = Counter(r["kind"] for r in hostile_results if r["reached"])
    return {
        "node": theirs is not None,
        "urlSpellings": len(urls),
        "urlSpellingsPublicToNode": public,
        "cases": {kind: {"tried": n, "bypasses": bypassed.get(kind, 0)} for kind, n in tried.items()},
        "bypasses": [r for r in hostile_results if r["reached"]],
        "falseRefusals": [r for r in fine_results if not r["reached"]],
        "legitimate": len(fine_results),
    }


def redaction_cost(rounds: int = 7, calls: int = 2000) -> dict[str, Any]:
    """µs per result check, by value only (before) and with shapes (now), on a chats overview as a tool shows it."""
    out: dict[str, Any] = {}
    redactor = Redactor(["wk-Api-7c1e5d0b9a"])
    for name, body in (("plain", "see you at 10:30"), ("links", "the doc: https://example.com/d/1?page=2")):
        chats = [
            {"id": f"1202555{i:04d}@c.us", "name": f"Person {i}", "lastMessage": {"body": body, "timestamp": i}}
            for i in range(60)
        ]
        text = dumps(chats)
        best = {"before": float("inf"), "now": float("inf")}
        for _ in range(rounds):
            for way, check in (
                ("before", lambda text=text: any(probe in text for probe in redactor._probes)),
                ("now", lambda text=text: redactor.finds_in([text])),
            ):
                started = time.perf_counter()
                for _ in range(calls):
                    check()
                best[way] = min(best[way], (time.perf_counter() - started) / calls * 1e6)
        out[name] = {"bytes": len(text), "beforeUs": round(best["before"], 1), "nowUs": round(best["now"], 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()
    out = asyncio.run(measure())
    out["redaction"] = redaction_cost()
    print(f"{'case':32} {'tried':>6} {'bypasses':>9}")
    for kind, row in out["cases"].items():
        print(f"{kind:32} {row['tried']:>6} {row['bypasses']:>9}")
    total = sum(row["tried"] for row in out["cases"].values())
    print(f"{'total':32} {total:>6} {len(out['bypasses']):>9}")
    print(
        f"URL spellings: {out['urlSpellings']} (compared with node: {out['node']}; public to node: "
        f"{len(out['urlSpellingsPublicToNode'])})"
    )
    print(f"legitimate calls: {out['legitimate']}, wrongly refused: {len(out['falseRefusals'])}")
    for name, row in out["redaction"].items():
        print(
            f"redaction check of a {row['bytes']}-byte chats result ({name}): {row['beforeUs']} µs by value "
            f"only, {row['nowUs']} µs with shapes"
        )
    for row in out["bypasses"] + out["falseRefusals"]:
        print("  !", row["kind"], row["tool"], json.dumps(row["arguments"], ensure_ascii=False)[:120], row["said"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)
    sys.exit(1 if out["bypasses"] or out["falseRefusals"] else 0)


if __name__ == "__main__":
    main()
