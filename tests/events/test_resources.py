"""Live resources with `?session=`: reads through the tools' projections, cached until an event changes them,
`resources/updated` for exactly the changed resources on both protocol generations."""

from __future__ import annotations

import asyncio
import contextlib
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


# --- issue 18 (5, 6, 14) and 23 (2, 3, 13) ----------------------------------------------------------------------

MODES = ["auto", "legacy"]
KEY = "sk-live-0123456789abcdef0123"


def fail_message(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message and "Error creating resource" not in message, message
    return message


def narrowed(server: WahaMCP, **env: Any) -> WahaMCP:
    """The same sandbox behind a server whose own settings narrow it."""
    from waha_mcp.config import load_settings
    from waha_mcp.server import build_server

    settings = load_settings(**{"WAHA_BASE_URL": "http://sandbox", "WAHA_SESSION": "default", **env})
    return build_server(settings, transport=server.waha_transport)


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
@pytest.mark.parametrize("mode", MODES)
async def test_resources_follow_the_tools_that_read_the_same_data(server: WahaMCP, mode: str) -> None:
    """18.5: a server narrowed to `sessions` neither lists nor reads groups, contacts, chats, messages or events."""
    only_sessions = narrowed(server, WAHA_TOOLSETS="sessions", WAHA_MCP_STORE=":memory:")
    async with Client(only_sessions, mode=mode) as client:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert templates == {"waha://sessions{?session}"}
        assert {str(r.uri) for r in (await client.list_resources()).resources} == {"waha://sessions"}
        assert (await read(client, "waha://sessions"))["sessions"]
        for uri in ("waha://groups", "waha://contacts?session=default", "waha://chats/overview",
                    "waha://chats/111@c.us/messages", "waha://inbox"):  # fmt: skip
            with pytest.raises(Exception) as refused:
                await client.read_resource(uri)
            assert "not enabled for this connection" in fail_message(refused), uri
        with pytest.raises(Exception) as refused:
            await (client.subscribe_resource("waha://groups") if mode == "legacy"
                   else _listen_once(client, "waha://groups"))  # fmt: skip
        assert "not enabled for this connection" in fail_message(refused)


async def _listen_once(client: Client, uri: str) -> None:
    async with client.listen(resource_subscriptions=[uri]) as sub:
        await asyncio.wait_for(sub.__anext__(), 0.5)


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("waha://chats/overview?sesion=business", "unknown query parameter `sesion`: did you mean `session`?"),
        ("waha://chats/overview?session=", "empty `session`"),
        ("waha://chats/overview?session=a&session=b", "`session` given twice"),
        ("waha://groups?session=" + "x" * 65, "invalid session name"),
        ("waha://inbox?session=no%20such", "invalid session name"),
        ("waha://nothing", "unknown resource waha://nothing"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_bad_resource_uris_are_refused_in_one_line(
    server: WahaMCP, sandbox: Sandbox, uri: str, says: str, mode: str
) -> None:
    """23.3: unknown query parameters, an empty or impossible session are refused, as tools refuse them."""
    async with Client(server, mode=mode) as client:
        before = len(sandbox.requests)
        with pytest.raises(Exception) as refused:
            await client.read_resource(uri)
    assert says in fail_message(refused)
    assert len(sandbox.requests) == before  # nothing reached WAHA


async def test_a_failed_read_gives_the_tools_message_and_no_traceback(
    mcp: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """23.3: the reason (the same mapping as the tool's error), not "Error creating resource from template"."""
    tool = await mcp.call_tool("waha_get_chats", {"session": "nosuch"})
    with pytest.raises(Exception) as refused:
        await mcp.read_resource("waha://chats/overview?session=nosuch")
    message = fail_message(refused)
    assert "nosuch" in message and message.endswith(tool.content[0].text), message
    assert not [r for r in caplog.records if r.exc_info], "a traceback reached the server log"


async def test_templates_and_resources_are_described(mcp: Client) -> None:
    """23.3: every template has a short description and a plain name; concrete resources are listed."""
    templates = (await mcp.list_resource_templates()).resource_templates
    assert len(templates) == 6
    for t in templates:
        assert t.description and len(t.description) <= 120 and t.mime_type == "application/json", t
        assert t.name and "/" not in t.name, t.name
    listed = {str(r.uri): r for r in (await mcp.list_resources()).resources}
    assert {"waha://sessions", "waha://inbox", "waha://chats/overview"} <= set(listed)
    assert all(r.description for r in listed.values())
    assert (await read(mcp, "waha://inbox"))["session"] == "default"


async def test_the_inbox_resource_hides_secrets_as_the_tools_do(server: WahaMCP, sandbox: Sandbox) -> None:
    """18.14: a key inside a message text is hidden in `waha://inbox` as in `waha_get_events`."""
    keyed = narrowed(server, WAHA_API_KEY=KEY, WAHA_TOOLSETS="all", WAHA_MCP_STORE=":memory:")
    async with Client(keyed) as client:
        await keyed.events().ingest.accept(envelope(body=f"the key is {KEY} ok"), "ws")
        tool = await client.call_tool("waha_get_events", {"session": "default"})
        assert KEY not in tool.content[0].text and "***" in tool.content[0].text
        inbox = await client.read_resource("waha://inbox?session=default")
        text = inbox.contents[0].text  # type: ignore[union-attr]
        assert KEY not in text and KEY[:12] not in text and "the key is *** ok" in text


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
@pytest.mark.parametrize("mode", MODES)
async def test_a_subscription_without_a_prior_read_is_updated(server: WahaMCP, mode: str) -> None:
    """23.2: updates do not depend on a read (nor on anything else having opened the inbox)."""
    uri = "waha://chats/111@c.us/messages?session=default"
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    # On 2026-07-28 the listen stream yields the updates (the message handler would see them a second time).
    handler = on_message if mode == "legacy" else None
    async with Client(server, mode=mode, message_handler=handler) as client:
        if mode == "legacy":
            await client.subscribe_resource(uri)
            await server.events().ingest.accept(envelope(), "ws")
            await _until(lambda: updates)
        else:
            async with client.listen(resource_subscriptions=[uri]) as sub:
                await server.events().ingest.accept(envelope(), "ws")
                updates.append((await asyncio.wait_for(sub.__anext__(), 5)).uri)
    assert updates == [uri]


async def _until(check: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def twins(chat: str = "111@c.us") -> list[dict]:
    """One received message as WAHA announces it: `message`, then `message.any` for the same message."""
    first = envelope(chat=chat)
    second = envelope("message.any", chat=chat) | {"payload": first["payload"]}
    return [first, second]


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
@pytest.mark.parametrize("mode", MODES)
async def test_one_message_one_update_per_subscribed_uri(server: WahaMCP, mode: str) -> None:
    """23.13: `message` and `message.any` of one message, arriving apart, give one update per subscribed URI."""
    uris = [
        "waha://chats/111@c.us/messages?session=default",
        "waha://chats/overview",
        "waha://chats/overview?session=default",
    ]
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    handler = on_message if mode == "legacy" else None
    async with Client(server, mode=mode, message_handler=handler) as client:
        if mode == "legacy":
            for uri in uris:
                await client.subscribe_resource(uri)
            for one in twins():
                await server.events().ingest.accept(one, "ws")
                await asyncio.sleep(0.05)
            await _until(lambda: len(updates) >= 3)
            await asyncio.sleep(0.1)
        else:
            async with client.listen(resource_subscriptions=uris) as sub:
                for one in twins():
                    await server.events().ingest.accept(one, "ws")
                    await asyncio.sleep(0.05)
                with contextlib.suppress(TimeoutError):
                    while True:
                        updates.append((await asyncio.wait_for(sub.__anext__(), 0.3)).uri)
    assert sorted(updates) == sorted(uris)


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed", "ignore:resources/unsubscribe is removed")
async def test_subscriptions_are_bounded_and_end_with_the_connection(server: WahaMCP) -> None:
    """18.6: a connection holds at most SUBSCRIPTIONS_PER_CONNECTION; a closed one holds none."""
    from waha_mcp.resources import SUBSCRIPTIONS_PER_CONNECTION

    async with Client(server, mode="legacy") as client:
        for n in range(SUBSCRIPTIONS_PER_CONNECTION):
            await client.subscribe_resource(f"waha://chats/{n}@c.us/messages")
        await client.subscribe_resource("waha://chats/0@c.us/messages")  # the same again is no new one
        with pytest.raises(Exception) as refused:
            await client.subscribe_resource("waha://groups")
        assert f"at most {SUBSCRIPTIONS_PER_CONNECTION} subscriptions" in fail_message(refused)
        with pytest.raises(Exception) as refused:
            await client.subscribe_resource("waha://groups?session=" + "y" * 65)
        assert "invalid session name" in fail_message(refused)
        with pytest.raises(Exception) as refused:
            await client.subscribe_resource("waha://groups?session=" + "y" * 5000)
        assert "resource URI of 5022 characters: at most 1024" in fail_message(refused)
        await client.unsubscribe_resource("waha://chats/0@c.us/messages")
        await client.subscribe_resource("waha://groups")
        assert server.resources.subscription_count() == SUBSCRIPTIONS_PER_CONNECTION
    await _until(lambda: server.resources.subscription_count() == 0)
    assert server.resources.subscription_count() == 0


async def test_a_listen_stream_is_checked_and_bounded_like_subscriptions(mcp: Client) -> None:
    """18.6 on 2026-07-28: a listen stream's URIs are checked as reads are, and at most as many."""
    from waha_mcp.resources import SUBSCRIPTIONS_PER_CONNECTION

    too_many = [f"waha://chats/{n}@c.us/messages" for n in range(SUBSCRIPTIONS_PER_CONNECTION + 1)]
    for uris, says in (
        (too_many, f"at most {SUBSCRIPTIONS_PER_CONNECTION} per stream"),
        (["waha://groups?session=" + "y" * 65], "invalid session name"),
        (["waha://groups?sesion=default"], "unknown query parameter `sesion`"),
    ):
        with pytest.raises(Exception) as refused:
            async with mcp.listen(resource_subscriptions=uris) as sub:
                await asyncio.wait_for(sub.__anext__(), 0.5)
        assert says in fail_message(refused)
    async with mcp.listen(resource_subscriptions=too_many[:-1]):
        pass  # the limit itself is accepted


async def test_the_cache_is_bounded(mcp: Client, server: WahaMCP) -> None:
    """18.6: reads for many sessions keep at most CACHE_ENTRIES answers and CACHE_BYTES in all."""
    from waha_mcp.resources import CACHE_BYTES, CACHE_ENTRIES

    for n in range(CACHE_ENTRIES + 20):
        await read(mcp, f"waha://inbox?session=s{n}")
    cache = server.resources.cache
    assert len(cache) <= CACHE_ENTRIES and cache.size <= CACHE_BYTES
    assert f"waha://inbox?session=s{CACHE_ENTRIES + 19}" in cache and "waha://inbox?session=s0" not in cache


def test_the_cache_keeps_to_its_byte_budget() -> None:
    from waha_mcp.resources import Cache

    cache = Cache(entries=100, limit=1000)
    for n in range(10):
        cache.put(f"k{n}", "x" * 200)  # 202 each: four fit
    assert len(cache) == 4 and cache.size == 4 * 202 and "k9" in cache and "k5" not in cache
    cache.get("k6")  # used: kept over k7 when room is needed
    cache.put("big", "y" * 300)  # over a quarter of the budget: served, not kept
    cache.put("k10", "x" * 200)
    assert "big" not in cache and "k6" in cache and "k7" not in cache and cache.size <= 1000
    cache.pop("k6")
    assert "k6" not in cache and cache.size == 2 * 202 + 203  # k8, k9 and k10
