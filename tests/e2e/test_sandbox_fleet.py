"""The sandbox playing a fleet as a newcomer meets it: `waha-mcp sandbox --sandbox-servers ...` serves one
emulator per entry on its own real port and prints the WAHA_SERVERS line; `waha-mcp doctor` on that line checks
each; Ctrl-C stops them all."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

from tests.e2e.test_sandbox_mode import sandbox_env
from tests.e2e.test_stdio import EXE

KEY = "fleet-e2e-key-0123456789"


def _get(url: str, key: str | None = KEY) -> object:
    request = urllib.request.Request(url, headers={"X-Api-Key": key} if key else {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_the_standalone_fleet_prints_its_servers_and_doctor_checks_each() -> None:
    proc = subprocess.Popen(
        [EXE, "sandbox", "--sandbox-servers", "current,core-2024.10:20ms", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sandbox_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        assert line.startswith("WAHA_SERVERS=a=http://127.0.0.1:"), line
        urls = dict(pair.split("=", 1) for pair in line.removeprefix("WAHA_SERVERS=").split(","))
        assert list(urls) == ["a", "b"] and urls["a"] != urls["b"]
        assert [s["name"] for s in _get(f"{urls['a']}/api/sessions")] == ["a1", "a2"]  # type: ignore[index,union-attr]
        assert _get(f"{urls['b']}/api/server/version", None)["version"] == "2024.10.8"  # type: ignore[index]
        doctor = subprocess.run(
            [EXE, "doctor"],
            env=sandbox_env() | {"WAHA_SERVERS": line.removeprefix("WAHA_SERVERS="), "WAHA_API_KEY": KEY},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert (
            "ok   session    [a] a1: WORKING" in doctor.stdout
            and "ok   session    [b] default: WORKING" in doctor.stdout
        )
        assert "all 2 answered" in doctor.stdout and KEY not in doctor.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    assert code == 0 and "Traceback" not in stderr, stderr
    assert "a fleet of 2" in stderr and "b at http://127.0.0.1:" in stderr and "2024.10.8 CORE, 20 ms" in stderr
    assert "stopped" in stderr
