"""A `kill -9` during ingest loses no acknowledged event: a real `waha-mcp serve --http` process, real signed
webhook deliveries over a real socket, a real SQLite file read after the process is gone."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from waha_mcp.events.webhook import PATH, signature

KEY = "kill-test-hmac-key-0123456789"
EXE = str(Path(sys.executable).with_name("waha-mcp"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_kill_9_during_ingest_loses_no_acknowledged_event(tmp_path: Path) -> None:
    port, db_path = free_port(), tmp_path / "inbox.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAHA_")} | {
        "WAHA_MCP_STORE": str(db_path),
        "WAHA_MCP_EVENTS": "webhook",
        "WAHA_MCP_WEBHOOK_HMAC_KEY": KEY,
        "WAHA_MCP_PORT": str(port),
    }
    proc = subprocess.Popen([EXE, "serve", "--http", "--sandbox"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}{PATH}"
    acked: list[str] = []
    sent = 0
    try:
        async with httpx2.AsyncClient(timeout=5) as http:
            deadline = time.monotonic() + 20
            while True:  # until the server answers
                try:
                    await http.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx2.TransportError:
                    assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
                    await asyncio.sleep(0.05)

            async def deliver(worker: int) -> None:
                nonlocal sent
                n = 0
                while True:
                    n += 1
                    eid = f"evt_kill_{worker:02d}_{n:06d}"
                    payload = {"id": eid, "from": "1@c.us", "body": eid}
                    envelope = {"id": eid, "timestamp": int(time.time() * 1000), "session": "default",
                                "event": "message", "payload": payload}  # fmt: skip
                    body = json.dumps(envelope).encode()
                    sent += 1
                    try:
                        response = await http.post(url, content=body, headers={"X-Webhook-Hmac": signature(KEY, body)})
                    except httpx2.TransportError:
                        return  # the process is gone: this one was never acknowledged
                    if response.status_code == 200:
                        acked.append(eid)

            workers = [asyncio.create_task(deliver(i)) for i in range(16)]
            while len(acked) < 300:  # well into ingest
                await asyncio.sleep(0.01)
                assert proc.poll() is None
            os.kill(proc.pid, signal.SIGKILL)
            await asyncio.wait_for(asyncio.gather(*workers), 15)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    db = sqlite3.connect(db_path)
    stored = {row[0] for row in db.execute("SELECT id FROM inbox_events")}
    db.close()
    lost = [eid for eid in acked if eid not in stored]
    assert len(acked) >= 300 and lost == [], f"{len(lost)} of {len(acked)} acknowledged events lost"
    assert sent > len(acked)  # some deliveries were in flight when the process died
