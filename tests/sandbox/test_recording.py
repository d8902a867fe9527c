"""The request log and on_request hooks."""

from __future__ import annotations

import httpx2
import pytest

from waha_mcp.sandbox import RecordedRequest, Sandbox, sandbox_transport


async def test_requests_are_recorded_raw_and_in_order(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    seen: list[RecordedRequest] = []
    sb.on_request.append(seen.append)
    await client.get("/api/default/chats/12025550111%40c.us/messages", params={"limit": 2, "filter.fromMe": "true"})
    await client.post(
        "/api/sendText", json={"session": "default", "chatId": "1@c.us", "text": "hé"}, headers={"X-Api-Key": "abc"}
    )
    await client.post("/__sandbox/default/status", json={"status": "WORKING"})  # control: not recorded
    await client.get("/nope")
    assert [(r.method, r.path) for r in sb.requests] == [
        ("GET", "/api/default/chats/12025550111%40c.us/messages"),
        ("POST", "/api/sendText"),
        ("GET", "/nope"),
    ]
    assert seen == sb.requests
    first, second = sb.requests[0], sb.requests[1]
    assert first.query == {"limit": ["2"], "filter.fromMe": ["true"]} and first.json is None and first.body == b""
    assert second.json == {"session": "default", "chatId": "1@c.us", "text": "hé"}
    assert second.headers["x-api-key"] == "abc"


async def test_percent_encoded_path_params_are_decoded(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sent = (await client.post("/api/sendText", json={"session": "default", "chatId": "1@c.us", "text": "a"})).json()
    r = await client.get(f"/api/default/chats/1%40c.us/messages/{sent['id'].replace('@', '%40')}")
    assert r.status_code == 200 and r.json()["id"] == sent["id"]


async def test_a_failing_hook_fails_the_request_loudly() -> None:
    sb = Sandbox()

    def reject(_: RecordedRequest) -> None:
        raise AssertionError("contract violated")

    sb.on_request.append(reject)
    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as c:
        with pytest.raises(AssertionError, match="contract violated"):
            await c.get("/ping")


async def test_state_summary_and_create_app() -> None:
    from waha_mcp.sandbox import create_app

    app = create_app(sessions=3, api_key=None)
    assert isinstance(app.state.sandbox, Sandbox)
    async with httpx2.AsyncClient(transport=sandbox_transport(app), base_url="http://sandbox") as c:
        state = (await c.get("/__sandbox/state")).json()
    assert [s["name"] for s in state["sessions"]] == ["default", "business", "sandbox3"]
    assert "not WhatsApp" in state["sandbox"]
