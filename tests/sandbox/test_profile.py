"""🆔 Profile routes: name, about and picture of the session's own account."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


async def test_profile_name_about_and_picture(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    me = (await client.get("/api/default/profile")).json()
    assert me["id"] == sb.sessions["default"].me["id"] and me["picture"] is None  # type: ignore[index]
    assert (await client.put("/api/default/profile/name", json={"name": "Shop"})).json() == {"success": True}
    assert (await client.get("/api/default/profile")).json()["name"] == "Shop"
    assert (await client.get("/api/sessions/default")).json()["me"]["pushName"] == "Shop"
    assert (await client.put("/api/default/profile/status", json={"status": "Busy"})).json() == {"success": True}
    world = sb.sessions["default"].world
    assert world is not None and world.profile.about == "Busy"
    file = {"mimetype": "image/png", "data": PNG_B64}
    assert (await client.put("/api/default/profile/picture", json={"file": file})).status_code == 200
    assert (await client.get("/api/default/profile")).json()["picture"].startswith("https://pps.whatsapp.net/")
    assert (await client.delete("/api/default/profile/picture")).json() == {"success": True}
    assert (await client.get("/api/default/profile")).json()["picture"] is None
    # Another session's profile is its own.
    assert (await client.get("/api/business/profile")).json()["name"] != "Shop"


async def test_bad_profile_requests(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    assert (await client.put("/api/default/profile/name", json={"name": " "})).status_code == 400
    r = await client.put("/api/default/profile/picture", json={"file": {"mimetype": "application/pdf", "data": "JVBE"}})
    assert r.status_code == 400 and r.json()["message"] == ["file must be an image"]
    sb.set_status("default", "STOPPED")
    r = await client.get("/api/default/profile")
    assert r.status_code == 404 and "Please start it first" in r.json()["message"]
