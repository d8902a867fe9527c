"""Resources under attack: RSS (VmRSS) of the server before and after 3,000 hostile `resources/read` and 2,000
hostile `resources/subscribe` calls (issue 18, item 6), beside a baseline of as many harmless calls.

python bench/resources_memory.py [--reads 3000 --subscriptions 2000]

waha-mcp runs as `waha-mcp serve --toolsets all` against the standalone sandbox, over stdio (one connection)
and over stateless Streamable HTTP (every request its own connection). Hostile reads cycle through: the inbox
of a new valid session name each time (served and cached: the cache's bound is what holds), the inbox of a
20,000-character session name (refused), and the messages of a new chat each time (a WAHA read each, cached). Hostile
subscriptions use a new URI each time (valid ones until the per-connection limit, then refused; a long one
every other call). The baseline reads `waha://sessions` (cached) and subscribes to one URI again and again.
Target: the hostile runs end within 20 MB of the start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _harness import (
    PROTOCOL,
    StdioServer,
    child_env,
    deadline,
    free_port,
    machine,
    standalone_sandbox,
    waha_mcp_cmd,
)

TARGET_MB = 20
LONG = "x" * 20_000


def hostile_read(i: int) -> str:
    kind = i % 3
    if kind == 0:
        return f"waha://inbox?session=s{i}"
    if kind == 1:
        return f"waha://inbox?session={LONG}{i}"
    return f"waha://chats/49{i:010d}@c.us/messages?session=default"


def hostile_subscription(i: int) -> str:
    if i % 2:
        return f"waha://groups?session={LONG}{i}"
    return f"waha://chats/49{i:010d}@c.us/messages?session=s{i}"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise KeyError("VmRSS")


def _run(send: Callable[[str, dict[str, Any]], bool], pid: int, reads: int, subs: int, hostile: bool) -> dict:
    send("resources/read", {"uri": "waha://sessions"})  # warm: first imports, first WAHA call
    start = rss_kib(pid)
    refused = 0
    for i in range(reads):
        refused += not send("resources/read", {"uri": hostile_read(i) if hostile else "waha://sessions"})
    after_reads = rss_kib(pid)
    for i in range(subs):
        uri = hostile_subscription(i) if hostile else "waha://chats/overview?session=default"
        refused += not send("resources/subscribe", {"uri": uri})
    end = rss_kib(pid)
    return {"start_mb": start / 1024, "after_reads_mb": after_reads / 1024, "end_mb": end / 1024, "refused": refused}


def stdio_run(url: str, reads: int, subs: int, hostile: bool) -> dict:
    cmd = [*waha_mcp_cmd(), "serve", "--toolsets", "all", "--base-url", url, "--session", "default"]
    with StdioServer(cmd) as server:
        server.initialize()

        def send(method: str, params: dict[str, Any]) -> bool:
            return "error" not in json.loads(server.request_raw(method, params))

        return _run(send, server.pid, reads, subs, hostile)


@contextlib.contextmanager
def http_server(url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    cmd = [*waha_mcp_cmd(), "serve", "--http", "--stateless", "--host", "127.0.0.1", "--port", str(port),
           "--toolsets", "all", "--base-url", url, "--session", "default"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=child_env(), cwd="/")  # fmt: skip
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def http_run(url: str, reads: int, subs: int, hostile: bool) -> dict:
    with http_server(url) as (mcp, pid):
        ids = iter(range(1, 10**9))

        def send(method: str, params: dict[str, Any]) -> bool:
            body = json.dumps({"jsonrpc": "2.0", "id": next(ids), "method": method, "params": params}).encode()
            request = urllib.request.Request(mcp, body, method="POST", headers={
                "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": PROTOCOL})  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    text = answer.read().decode()
            except urllib.error.HTTPError as exc:
                text = exc.read().decode()
            return '"error"' not in text

        return _run(send, pid, reads, subs, hostile)


def run(reads: int, subs: int) -> dict:
    out: dict[str, Any] = {"reads": reads, "subscriptions": subs, "target_mb": TARGET_MB}
    with standalone_sandbox() as url:
        for name, runner in (("stdio", stdio_run), ("http stateless", http_run)):
            out[name] = {kind: runner(url, reads, subs, kind == "hostile") for kind in ("baseline", "hostile")}
    return out


def report(out: dict) -> str:
    lines = [
        f"RSS (VmRSS, MB) around {out['reads']} resources/read then {out['subscriptions']} resources/subscribe "
        f"(target: hostile within {out['target_mb']} MB of the start)",
        f"  {'transport':15} {'run':9} {'start':>7} {'after reads':>12} {'end':>7} {'growth':>7} {'refused':>8}",
    ]
    for transport in ("stdio", "http stateless"):
        for kind in ("baseline", "hostile"):
            r = out[transport][kind]
            lines.append(
                f"  {transport:15} {kind:9} {r['start_mb']:7.1f} {r['after_reads_mb']:12.1f} {r['end_mb']:7.1f} "
                f"{r['end_mb'] - r['start_mb']:+7.1f} {r['refused']:8}"
            )
    return "\n".join(lines)


def main() -> None:
    deadline(600)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--subscriptions", type=int, default=2000)
    args = parser.parse_args()
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, python {info['python']}, commit {info['commit']}")
    print(report(run(args.reads, args.subscriptions)))


if __name__ == "__main__":
    sys.exit(main())
