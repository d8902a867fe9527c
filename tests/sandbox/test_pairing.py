"""QR code (png / json / raw), pairing code and screenshot routes."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import httpx2
import pytest

from waha_mcp.sandbox import Sandbox

from .test_qr import parse_png


@pytest.fixture
async def waiting(client: httpx2.AsyncClient) -> str:
    await client.post("/api/sessions", json={"name": "pairme"})
    assert (await client.get("/api/sessions/pairme")).json()["status"] == "SCAN_QR_CODE"
    return "pairme"


async def test_qr_raw_image_and_json(client: httpx2.AsyncClient, waiting: str, tmp_path: Path) -> None:
    raw = await client.get(f"/api/{waiting}/auth/qr", params={"format": "raw"})
    assert raw.status_code == 200
    value = raw.json()["value"]
    assert value.startswith("2@") and "not-WhatsApp" in value

    image = await client.get(f"/api/{waiting}/auth/qr", params={"format": "image"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    parse_png(image.content)

    as_json = await client.get(
        f"/api/{waiting}/auth/qr", params={"format": "image"}, headers={"Accept": "application/json"}
    )
    assert as_json.json()["mimetype"] == "image/png"
    assert base64.b64decode(as_json.json()["data"]) == image.content

    if shutil.which("zbarimg"):
        (tmp_path / "qr.png").write_bytes(image.content)
        out = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "qr.png")], capture_output=True, timeout=10)
        assert out.stdout.decode().strip() == value


async def test_qr_format_is_validated(client: httpx2.AsyncClient, waiting: str) -> None:
    r = await client.get(f"/api/{waiting}/auth/qr", params={"format": "base64"})
    assert r.status_code == 400


async def test_pairing_code_then_scan_pairs_with_that_phone(
    client: httpx2.AsyncClient, waiting: str, sb: Sandbox
) -> None:
    r = await client.post(f"/api/{waiting}/auth/request-code", json={"phoneNumber": "12132132130"})
    assert r.status_code == 201
    code = r.json()["code"]
    assert len(code) == 9 and code[4] == "-"
    assert (await client.post(f"/api/{waiting}/auth/request-code", json={})).status_code == 400
    r = await client.post(f"/__sandbox/{waiting}/scan")
    assert r.status_code == 201 and r.json()["status"] == "WORKING"
    me = (await client.get(f"/api/sessions/{waiting}/me")).json()
    assert me["id"] == "12132132130@c.us"
    assert (await client.post(f"/__sandbox/{waiting}/scan")).status_code == 409  # already paired


async def test_screenshot_jpeg_or_json(client: httpx2.AsyncClient) -> None:
    r = await client.get("/api/screenshot", params={"session": "default"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8" and r.content[-2:] == b"\xff\xd9"
    j = await client.get("/api/screenshot", params={"session": "default"}, headers={"Accept": "application/json"})
    assert j.json() == {"mimetype": "image/jpeg", "data": base64.b64encode(r.content).decode()}


@pytest.mark.skipif(shutil.which("djpeg") is None, reason="djpeg (libjpeg-turbo-progs) not installed")
def test_screenshot_jpeg_decodes(tmp_path: Path) -> None:
    from waha_mcp.sandbox.images import SCREENSHOT_JPEG

    out = subprocess.run(["djpeg", "-pnm"], input=SCREENSHOT_JPEG, capture_output=True, timeout=10)
    assert out.returncode == 0 and out.stdout.startswith(b"P5\n8 8\n255\n")


def _assertion(pending: dict, **client: str) -> dict:
    import json as _json

    data = {"type": "webauthn.get", "challenge": pending["challenge"], "origin": "https://web.whatsapp.com"} | client
    encoded = base64.urlsafe_b64encode(_json.dumps(data).encode()).decode().rstrip("=")
    cred = pending["allowCredentials"][0]["id"]
    return {
        "id": cred,
        "rawId": cred,
        "type": "public-key",
        "response": {"clientDataJSON": encoded, "authenticatorData": "AAAA", "signature": "c2ln"},
    }


async def test_passkey_challenge_then_assertion_pairs(client: httpx2.AsyncClient, sb: Sandbox, waiting: str) -> None:
    early = await client.get(f"/api/{waiting}/auth/passkey/challenge")
    assert early.status_code == 422 and early.json()["expected"] == ["PASSKEY_REQUIRED"]
    sb.set_status(waiting, "PASSKEY_REQUIRED")
    challenge = (await client.get(f"/api/{waiting}/auth/passkey/challenge")).json()
    assert challenge["rpId"] == "web.whatsapp.com" and challenge["timeout"] == 60000
    assert challenge["allowCredentials"][0]["type"] == "public-key" and challenge["userVerification"] == "required"
    for wrong in ({"challenge": "other"}, {"origin": "https://evil.example"}, {"type": "webauthn.create"}):
        refused = await client.post(f"/api/{waiting}/auth/passkey", json=_assertion(challenge, **wrong))
        assert refused.status_code == 422 and "Passkey assertion rejected" in refused.json()["message"]
    garbage = _assertion(challenge) | {"response": {"clientDataJSON": "%%%", "authenticatorData": "", "signature": ""}}
    assert (await client.post(f"/api/{waiting}/auth/passkey", json=garbage)).status_code == 422
    assert (await client.post(f"/api/{waiting}/auth/passkey", json={"id": "x"})).status_code == 400
    done = await client.post(f"/api/{waiting}/auth/passkey", json=_assertion(challenge))
    assert done.status_code == 201 and done.content == b""
    assert (await client.get(f"/api/sessions/{waiting}")).json()["status"] == "WORKING"
    statuses = [e["payload"]["status"] for e in sb.events() if e["event"] == "session.status"]
    assert statuses[-2:] == ["PASSKEY_REQUIRED", "WORKING"]


async def test_passkey_confirmation_code_then_confirm(client: httpx2.AsyncClient, sb: Sandbox, waiting: str) -> None:
    sb.set_status(waiting, "PASSKEY_CONFIRMATION_REQUIRED")
    code = (await client.get(f"/api/{waiting}/auth/passkey/confirmation")).json()["code"]
    assert len(code) == 4 and code.isdigit()
    assert (await client.get(f"/api/{waiting}/auth/passkey/challenge")).status_code == 422
    confirmed = await client.post(f"/api/{waiting}/auth/passkey/confirm")
    assert confirmed.status_code == 201 and confirmed.content == b""
    assert (await client.get(f"/api/sessions/{waiting}")).json()["status"] == "WORKING"
    assert (await client.post(f"/api/{waiting}/auth/passkey/confirm")).status_code == 422
