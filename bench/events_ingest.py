"""Signed webhook ingest into SQLite: sustained events/s, a 10,000-event burst (count stored, p99 ack).

A real `waha-mcp serve --http` child (WAHA_MCP_EVENTS=webhook, an HMAC key, a fresh SQLite file) receives
HMAC-SHA512-signed WAHA envelopes on `POST /webhooks/waha` from a minimal keep-alive HTTP/1.1 client
(pre-signed bodies, `asyncio` streams, so the client costs little CPU next to the server on a 2-core
machine). Ack latency: request written → 200 read, per delivery. After each phase the rows in the SQLite
file are counted: every 200 must be a stored row.

    python bench/events_ingest.py [--events 20000] [--burst 10000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import child_env, free_port, machine, waha_mcp_cmd

KEY = "bench-hmac-key-0123456789abcdef"


def bodies(prefix: str, n: int) -> list[bytes]:
    out = []
    now = int(time.time() * 1000)
    for i in range(n):
        eid = f"evt_{prefix}{i:08d}"
        envelope = {
            "id": eid, "timestamp": now, "session": "default", "engine": "NOWEB", "event": "message",
            "payload": {"id": f"false_4915{i % 97:09d}@c.us_{eid}", "from": f"4915{i % 97:09d}@c.us",
                        "fromMe": False, "body": f"message {i}", "hasMedia": False},
        }  # fmt: skip
        out.append(json.dumps(envelope, separators=(",", ":")).encode())
    return out


def request(port: int, body: bytes) -> bytes:
    sig = hmac.new(KEY.encode(), body, hashlib.sha512).hexdigest()
    head = (
        f"POST /webhooks/waha HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"X-Webhook-Hmac: {sig}\r\nX-Webhook-Hmac-Algorithm: sha512\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def drive(port: int, requests: list[bytes], concurrency: int) -> tuple[float, list[float], int]:
    """Send every request over `concurrency` keep-alive connections; (seconds, ack latencies, 200s)."""
    queue = list(reversed(requests))
    latencies: list[float] = []
    ok = 0

    async def worker() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            raw = queue.pop()
            started = time.perf_counter()
            writer.write(raw)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            ok += status_line.split()[1] == b"200"
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, ok


def cpu_seconds(pid: int) -> float:
    """The server's CPU time so far (user + system, every thread), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def count(db: Path, prefix: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM inbox_events WHERE id LIKE ?", (f"evt_{prefix}%",)).fetchone()[0])
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="waha-events-bench-"))
    db, port = tmp / "store.sqlite3", free_port()
    env = child_env() | {"WAHA_MCP_STORE": str(db), "WAHA_MCP_EVENTS": "webhook", "WAHA_MCP_WEBHOOK_HMAC_KEY": KEY,
                         "WAHA_MCP_PORT": str(port), "WAHA_MCP_HTTP_MAX_CONNECTIONS": "1000"}  # fmt: skip
    proc = subprocess.Popen([*waha_mcp_cmd(), "serve", "--http", "--sandbox"], env=env, cwd="/",
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                asyncio.run(drive(port, [request(port, bodies("warm", 1)[0])], 1))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        info = machine()
        print(f"machine: {info['nproc']} CPUs, {info['cpu']}, python {info['python']}, commit {info['commit']}")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        sustained = [request(port, b) for b in bodies("sus", args.events)]
        cpu = cpu_seconds(proc.pid)
        seconds, lat, ok = asyncio.run(drive(port, sustained, args.concurrency))
        cpu = cpu_seconds(proc.pid) - cpu
        stored = count(db, "sus")
        print(f"sustained: {args.events} events in {seconds:.2f}s = {args.events / seconds:,.0f} events/s "
              f"(concurrency {args.concurrency}); 200s {ok}, stored {stored}; "
              f"ack p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms")  # fmt: skip
        print(f"  server CPU: {cpu:.2f}s = {cpu / args.events * 1e6:.0f} µs per event "
              f"(= {args.events / cpu:,.0f} events per CPU-second)")  # fmt: skip
        burst = [request(port, b) for b in bodies("burst", args.burst)]
        seconds, lat, ok = asyncio.run(drive(port, burst, args.concurrency))
        stored = count(db, "burst")
        print(f"burst: {args.burst} events in {seconds:.2f}s ({args.burst / seconds:,.0f}/s); 200s {ok}, "
              f"stored {stored}, lost {args.burst - stored}; ack p50 {pct(lat, 50):.1f} ms, "
              f"p99 {pct(lat, 99):.1f} ms, max {max(lat) * 1000:.1f} ms")  # fmt: skip
        dupes = [request(port, b) for b in bodies("burst", 2000)]
        seconds, lat, ok = asyncio.run(drive(port, dupes, args.concurrency))
        print(f"redelivered: 2000 duplicates acknowledged ({ok} 200s), rows still {count(db, 'burst')}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
