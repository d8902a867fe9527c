"""The store at start, as a user meets it: `waha-mcp serve` (real process, real stdio) with a store it cannot
use prints one line (path or DSN without password, cause, next step) and exits 2; and no SQL lives outside
the backends."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pg import need_postgres
from waha_mcp.store import StoreError, open_store

SRC = Path(__file__).resolve().parents[2] / "src" / "waha_mcp"
SQL = re.compile(r"import (sqlite3|asyncpg|psycopg)|\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE)\b")


def serve(store: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("waha-mcp", path=os.path.dirname(sys.executable))
    assert exe is not None
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WAHA_MCP_STORE": store, "WAHA_MCP_SANDBOX": "1"}
    return subprocess.run([exe, "serve"], input="", capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)


def test_a_corrupt_store_ends_serve_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"garbage " * 1000)
    bad.chmod(0o600)
    done = serve(str(bad), tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if "SANDBOX mode" not in line]
    assert lines == [
        f"waha-mcp: the store {bad} is not a readable SQLite database (file is not a database): move it away"
        " (a new one is created) or point WAHA_MCP_STORE elsewhere"
    ]


def test_an_unreachable_postgresql_ends_serve_with_one_line_without_the_password(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = serve(f"postgresql://waha:s3cret-pw-42@127.0.0.1:{port}/db", tmp_path)
    assert done.returncode == 2 and "s3cret-pw-42" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if "SANDBOX mode" not in line]
    assert lines == [
        f"waha-mcp: the PostgreSQL store postgresql://waha:***@127.0.0.1:{port}/db cannot be reached (connection"
        " refused): check that the server runs and the DSN in WAHA_MCP_STORE (host, port, user, password, database)"
    ]


def test_a_wrong_postgresql_password_is_hidden(tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    dsn = urlsplit(need_postgres())
    wrong = dsn._replace(netloc=f"{dsn.username}:wrong-pw-1234@{dsn.hostname}:{dsn.port}").geturl()
    with pytest.raises(StoreError) as caught:
        open_store(wrong)
    message = str(caught.value)
    assert "wrong-pw-1234" not in message and f"postgresql://{dsn.username}:***@" in message
    assert "password authentication failed" in message


def test_postgresql_without_its_driver_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "asyncpg" else real(name, *a))
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://u:pw-hidden-1@db.example/x")
    assert str(caught.value) == (
        "WAHA_MCP_STORE names PostgreSQL (postgresql://u:***@db.example/x) but its driver is not installed:"
        ' pip install "waha-mcp[postgres]"'
    )


def test_the_dsn_password_is_a_secret_of_the_server() -> None:
    from waha_mcp.config import load_settings

    settings = load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_STORE="postgresql://u:pw%40x-1@h/db?sslmode=require")
    assert settings.store_password == "pw@x-1"
    settings = load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_STORE="postgres://u@h/db?password=qs-pw-2")
    assert settings.store_password == "qs-pw-2"
    assert load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_STORE="/tmp/x.sqlite3").store_password is None


def test_no_sql_outside_the_backends() -> None:
    found = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if SQL.search(path.read_text()) and path.parent.name not in ("sqlite", "postgres")
    )
    assert found == []


async def test_doctor_shows_the_store_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from waha_mcp.config import load_settings
    from waha_mcp.doctor import run_doctor
    from waha_mcp.sandbox import Sandbox, sandbox_transport

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(WAHA_MCP_SANDBOX=True, WAHA_MCP_STORE=f"postgresql://waha:doc-pw-777@127.0.0.1:{port}/d")
    assert await run_doctor(settings, sandbox_transport(Sandbox())) == 1
    out = capsys.readouterr().out
    assert "doc-pw-777" not in out
    assert f"FAIL store      the PostgreSQL store postgresql://waha:***@127.0.0.1:{port}/d cannot be reached" in out
    await run_doctor(load_settings(WAHA_MCP_SANDBOX=True), sandbox_transport(Sandbox()))
    from waha_mcp.store.sqlite.migrations import LATEST

    assert f"ok   store      :memory: (schema version {LATEST})" in capsys.readouterr().out
