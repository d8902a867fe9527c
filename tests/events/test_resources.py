"""Live resources with `?session=`: reads through the tools' projections, cached until an event changes them,
`resources/updated` for exactly the changed resources on both protocol generations."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from mcp import Client
from mcp_types import ResourceUpdatedNotification, TextResourceContents

from waha_mcp.resources import canonical
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import WahaMCP

N = 0


def envelope(event: str = "message", session: str = "default", chat: str = "111@c.us", **payload: Any) -> dict:
    global N
    N += 1
    body = {"id": f"false_{chat}_{N}", "from": chat, "to": "999@c.us", "fromMe": False, "body": "hi"} | payload
    return {"id": f"evt_r{N:05d}", "timestamp": int(time.time() * 1000), "session": session, "engine": "NOWEB",
            "event": event, "payload": body}  # fmt: skip


async def read(client: Client, uri: str) -> Any:
    result = await client.read_resource(uri)
    (content,) = result.contents
    assert isinstance(content, TextResourceContents)
    return json.loads(content.text)


def test_canonical_uris() -> None:
    assert canonical("waha://chats/overview", "default") == "waha://chats/overview?session=default"
    assert canonical("waha://chats/1%40c.us/messages?session=b", "default") == "waha://chats/1@c.us/messages?session=b"
    assert canonical("waha://sessions?session=x", "default") == "waha://sessions"
    assert canonical("https://example.com", "default") is None


async def test_templates_are_listed_and_read_by_session(mcp: Client, sandbox: Sandbox) -> None:
    templates = {t.uri_template for t in (await mcp.list_resource_templates()).resource_templates}
    assert "waha://chats/overview{?session}" in templates and "waha://inbox{?session}" in templates
    sessions = await read(mcp, "waha://sessions")
    assert {s["name"] for s in sessions["sessions"]} == {"default", "business"}
    business = await read(mcp, "waha://chats/overview?session=business")
    assert business["session"] == "business" and business["chats"]
    chat = business["chats"][0]["id"]
    messages = await read(mcp, f"waha://chats/{chat}/messages?session=business")
    assert messages["session"] == "business"
    assert (await read(mcp, "waha://groups?session=default"))["session"] == "default"
    assert (await read(mcp, "waha://contacts"))["session"] == "default"


async def test_reads_are_cached_until_an_event_changes_them(mcp: Client, server: WahaMCP, sandbox: Sandbox) -> None:
    uri = "waha://chats/overview?session=default"
    await read(mcp, uri)
    before = len(sandbox.requests)
    await read(mcp, uri)
    assert len(sandbox.requests) == before  # served from the cache
    await server.events().ingest.accept(envelope(session="business"), "ws")
    await read(mcp, uri)
    assert len(sandbox.requests) == before  # another session's event changes nothing here
    await server.events().ingest.accept(envelope(), "ws")
    await asyncio.sleep(0)
    await read(mcp, uri)
    assert len(sandbox.requests) > before  # re-read after this session's message
    inbox = await read(mcp, "waha://inbox?session=default")
    assert inbox["events"][0]["session"] == "default"


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_legacy_subscribe_gets_exactly_the_changed_resources(server: WahaMCP) -> None:
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    async with Client(server, mode="legacy", message_handler=on_message) as client:
        assert client.server_capabilities.resources and client.server_capabilities.resources.subscribe
        await client.read_resource("waha://sessions")  # opens the inbox for this process
        for uri in ("waha://chats/overview", "waha://chats/111@c.us/messages?session=default", "waha://groups",
                    "waha://sessions"):  # fmt: skip
            await client.subscribe_resource(uri)
        await server.events().ingest.accept(envelope(), "ws")
        deadline = time.monotonic() + 5
        while len(updates) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    assert sorted(updates) == ["waha://chats/111@c.us/messages?session=default", "waha://chats/overview"]


async def test_listen_stream_gets_resources_updated(server: WahaMCP) -> None:
    async with Client(server) as client:
        await client.read_resource("waha://sessions")
        uris = ["waha://chats/overview?session=default", "waha://sessions"]
        async with client.listen(resource_subscriptions=uris) as sub:
            await server.events().ingest.accept(envelope(), "ws")
            event = await asyncio.wait_for(sub.__anext__(), 5)
            assert event.uri == "waha://chats/overview?session=default"
            await server.events().ingest.accept(
                {"id": "evt_status", "session": "default", "event": "session.status", "payload": {"status": "FAILED"}},
                "ws",
            )
            event = await asyncio.wait_for(sub.__anext__(), 5)
            assert event.uri == "waha://sessions"
