"""Fault injection: latency, status, drop, malformed, empty; per route or global; limited by times."""

from __future__ import annotations

import json
import time

import httpx2
import pytest

from waha_mcp.sandbox import Sandbox


async def test_status_fault_on_one_route_by_operation_id(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.faults.add("ChatsController_getChats", kind="status", status=503, times=1)
    r = await client.get("/api/default/chats")
    assert r.status_code == 503 and r.json()["statusCode"] == 503 and r.json()["error"] == "Service Unavailable"
    assert (await client.get("/api/default/chats")).status_code == 200  # times=1 used up
    assert (await client.get("/api/sessions")).status_code == 200


async def test_429_and_route_by_template(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.faults.add("GET /api/{session}/chats/overview", kind="status", status=429)
    for _ in range(2):
        r = await client.get("/api/business/chats/overview")
        assert r.status_code == 429 and "Too Many Requests" in r.json()["message"]
    sb.faults.clear()
    assert (await client.get("/api/business/chats/overview")).status_code == 200


async def test_drop_becomes_read_error_and_connect_error(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.faults.add("ChattingController_sendText", kind="drop", times=1)
    with pytest.raises(httpx2.ReadError):
        await client.post("/api/sendText", json={"session": "default", "chatId": "1@c.us", "text": "x"})
    sb.faults.add(kind="drop", times=1, body="connect")
    with pytest.raises(httpx2.ConnectError):
        await client.get("/ping")
    assert (await client.get("/ping")).status_code == 200


async def test_latency_delays_then_answers(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.faults.add("PingController_ping", kind="latency", delay=0.2, times=1)
    started = time.monotonic()
    r = await client.get("/ping")
    assert r.status_code == 200 and time.monotonic() - started >= 0.2


async def test_malformed_and_empty_bodies(sb: Sandbox) -> None:
    from waha_mcp.sandbox import sandbox_transport

    async with httpx2.AsyncClient(transport=sandbox_transport(sb), base_url="http://sandbox") as c:
        sb.faults.add("SessionsController_list", kind="malformed", times=1)
        r = await c.get("/api/sessions")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)
        sb.faults.add(kind="empty", times=1)
        r = await c.get("/api/sessions")
        assert (r.status_code, r.content) == (200, b"")
        assert len((await c.get("/api/sessions")).json()) == 2


async def test_faults_over_http_control(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    r = await client.post(
        "/__sandbox/faults",
        json={"route": "SessionsController_get", "kind": "status", "status": 500, "body": {"custom": True}},
    )
    assert r.status_code == 201 and r.json()["kind"] == "status"
    r = await client.get("/api/sessions/default")
    assert (r.status_code, r.json()) == (500, {"custom": True})
    assert (await client.post("/__sandbox/faults", json={"kind": "explode"})).status_code == 400
    assert (await client.delete("/__sandbox/faults")).json() == {"cleared": 1}
    assert (await client.get("/api/sessions/default")).status_code == 200
    assert sb.faults.rules == []


async def test_drop_after_handling_loses_only_the_answer(client: httpx2.AsyncClient, sb: Sandbox) -> None:
    sb.faults.add("ChattingController_sendText", kind="drop", times=1, body="after")
    with pytest.raises(httpx2.ReadError):
        await client.post("/api/sendText", json={"session": "default", "chatId": "15550009999@c.us", "text": "once"})
    msgs = (await client.get("/api/default/chats/15550009999@c.us/messages")).json()
    assert [m["body"] for m in msgs] == ["once"]  # the message was sent although the client saw an error
