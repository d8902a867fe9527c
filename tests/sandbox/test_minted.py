"""Keys made by `POST /api/keys` authenticate as WAHA's do; apps made by `POST /api/apps` show in `?expand=apps`."""

from __future__ import annotations

import httpx2

from waha_mcp.sandbox import Sandbox, sandbox_transport

KEY = "the-servers-own-key-1"


async def test_a_minted_key_authenticates_within_its_reach() -> None:
    sb = Sandbox(api_key=KEY, sessions=2)
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as http:
        admin = {"X-Api-Key": KEY}
        made = (
            await http.post("/api/keys", json={"isAdmin": False, "session": "default", "isActive": True}, headers=admin)
        ).json()
        boss = (
            await http.post("/api/keys", json={"isAdmin": True, "isActive": True, "session": "default"}, headers=admin)
        ).json()
        mine = {"X-Api-Key": made["key"]}
        assert (await http.get("/api/sessions/default", headers=mine)).status_code == 200
        other = await http.get("/api/sessions/business", headers=mine)
        assert other.status_code == 403 and other.json()["message"] == "Forbidden resource"
        assert (await http.get("/api/sessions/business", headers={"X-Api-Key": boss["key"]})).status_code == 200
        off = {"isActive": False, "isAdmin": False, "session": "default"}
        assert (await http.put(f"/api/keys/{made['id']}", json=off, headers=admin)).status_code == 200
        assert (await http.get("/api/sessions/default", headers=mine)).status_code == 401
        assert (await http.get("/api/sessions/default", headers={"X-Api-Key": "key_made_up"})).status_code == 401


async def test_apps_made_later_are_listed_by_expand() -> None:
    sb = Sandbox(sessions=1)
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as http:
        app = {"id": "app_calls_1", "session": "default", "app": "calls", "config": {}}
        assert (await http.post("/api/apps", json=app)).status_code == 201
        got = (await http.get("/api/sessions/default", params={"expand": "apps"})).json()
        listed = (await http.get("/api/sessions", params={"expand": "apps"})).json()
    assert [a["id"] for a in got["apps"]] == ["app_calls_1"]
    assert [a["id"] for a in listed[0]["apps"]] == ["app_calls_1"]
