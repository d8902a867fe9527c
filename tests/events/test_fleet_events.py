"""Events from every server of a fleet, over real sockets: one /ws stream per WAHA with its own key, a gap mark
naming the server whose stream fell, Core's quiet-stream warning naming its server, every server's sessions
known; the in-process feed of every sandbox standing in; and webhooks from any server into the one inbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.e2e.servers import sandbox_on_socket, serving
from tests.events.test_stdio_listener import free_port
from waha_mcp.config import load_settings
from waha_mcp.events import Query
from waha_mcp.events.background import running
from waha_mcp.events.local import SandboxFeed
from waha_mcp.events.summary import GAP
from waha_mcp.events.webhook import PATH
from waha_mcp.events.ws import WSConsumer
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.fleet import build_fleet
from waha_mcp.server import WahaMCP, build_server
from waha_mcp.servers import parse_sandbox_servers

KEY_A = "fleet-events-key-a-0123456789"
KEY_B = "fleet-events-key-b-9876543210"
HMAC = "fleet-webhook-hmac-0123456789"
SECRET = "fleet-webhook-secret-path-0123456789"


@pytest.fixture(autouse=True)
def quick_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    original = WSConsumer.__init__

    def quick(self: WSConsumer, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, "backoff": (0.05, 0.2)})

    monkeypatch.setattr(WSConsumer, "__init__", quick)


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def inbound(url: str, key: str | None, session: str, text: str, chat: str = "4915111111111@c.us") -> None:
    async with httpx2.AsyncClient(headers={"X-Api-Key": key} if key else {}) as http:
        response = await http.post(f"{url}/__sandbox/{session}/inbound", json={"chatId": chat, "text": text})
        assert response.status_code == 201, response.text


async def texts(server: WahaMCP) -> dict[str, str]:
    rows = await server.events().inbox.query(Query(events=["message"]))
    return {str(r.summary.text): r.summary.session for r in rows}


@contextlib.asynccontextmanager
async def fleet_on_sockets(tmp_path: Path, b_profile: str = "current") -> AsyncIterator[tuple[Any, ...]]:
    """Servers a and b on their own sockets, each with its own key (a TOML servers file)."""
    a = Sandbox(api_key=KEY_A, sessions=2)
    b = Sandbox(api_key=KEY_B, sessions=2, names=("b1", "b2"), profile=b_profile, time_factor=0.01)
    async with sandbox_on_socket(a) as url_a, sandbox_on_socket(b) as url_b:
        path = tmp_path / "servers.toml"
        path.write_text(f'[a]\nurl = "{url_a}"\napi_key = "{KEY_A}"\n\n[b]\nurl = "{url_b}"\napi_key = "{KEY_B}"\n')
        yield a, b, url_a, url_b, path


async def test_every_server_streams_with_its_own_key_and_a_gap_names_its_server(tmp_path: Path) -> None:
    async with fleet_on_sockets(tmp_path) as (_a, _b, url_a, url_b, path):
        settings = load_settings(WAHA_SERVERS_FILE=str(path), WAHA_MCP_STORE=str(tmp_path / "s.sqlite3"))
        server = build_server(settings)
        async with running(server, listener=False) as started:
            streams = started["servers"]
            assert set(streams) == {"a", "b"} and all(isinstance(s, WSConsumer) for s in streams.values())
            for consumer in streams.values():
                await asyncio.wait_for(consumer.connected.wait(), 10)  # each key opened its own server's /ws
            await inbound(url_a, KEY_A, "default", "to a")
            await inbound(url_b, KEY_B, "b1", "to b")

            async def both() -> bool:
                return (await texts(server)) == {"to a": "default", "to b": "b1"}

            await until(both)
            async with httpx2.AsyncClient(headers={"X-Api-Key": KEY_B}) as http:
                assert (await http.post(f"{url_b}/__sandbox/ws/drop")).json()["dropped"] == 1

            async def gap() -> bool:
                return bool(await server.events().inbox.query(Query(events=[GAP])))

            await until(gap)
            await asyncio.wait_for(streams["b"].connected.wait(), 10)
            await inbound(url_b, KEY_B, "b2", "after the gap")

            async def after() -> bool:
                return "after the gap" in await texts(server)

            await until(after)
            # Every server's sessions are known (events for any other session are counted as unknown).
            await until(lambda: _known(server, {"default", "business", "b1", "b2"}))
        (mark,) = await server.events().inbox.query(Query(events=[GAP]))
        payload = (await server.events().inbox.envelope(mark.summary.id))["payload"]
        assert payload["server"] == "b" and "'b'" in str(mark.summary.text)
        assert streams["a"].counters["connects"] == 1 and streams["b"].counters["connects"] == 2
        server.close()


async def _known(server: WahaMCP, names: set[str]) -> bool:
    return names <= (server.events().ingest.known_sessions or set())


async def test_cores_quiet_stream_is_named_by_server(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with fleet_on_sockets(tmp_path, b_profile="core-2024.10") as (_a, _b, url_a, _url_b, path):
        settings = load_settings(WAHA_SERVERS_FILE=str(path), WAHA_MCP_STORE=":memory:")
        server = build_server(settings)
        with caplog.at_level(logging.WARNING, logger="waha_mcp.events"):
            async with running(server, listener=False) as started:
                await asyncio.wait_for(started["servers"]["a"].connected.wait(), 10)
                await asyncio.wait_for(started["servers"]["b"].connected.wait(), 10)

                async def warned() -> bool:
                    return any("streams only session.status" in r.getMessage() for r in caplog.records)

                await until(warned)
                await inbound(url_a, KEY_A, "default", "a streams messages")

                async def heard() -> bool:
                    return "a streams messages" in await texts(server)

                await until(heard)
        (quiet,) = [r.getMessage() for r in caplog.records if "streams only session.status" in r.getMessage()]
        assert "WAHA server 'b': " in quiet and "'a'" not in quiet
        assert KEY_A not in caplog.text and KEY_B not in caplog.text
        server.close()


async def test_every_sandbox_standing_in_feeds_the_inbox(tmp_path: Path) -> None:
    entries = parse_sandbox_servers("current,current,core-2024.10")
    servers = ",".join(f"{entry.name}={entry.url}" for entry in entries)
    settings = load_settings(WAHA_SERVERS=servers, WAHA_MCP_STORE=":memory:")
    fleet = build_fleet(entries, time_factor=0.01)
    server = build_server(settings, transports={name: sandbox_transport(sb) for name, sb in fleet.items()})
    async with running(server, listener=False) as started:
        assert set(started["servers"]) == {"a", "b", "c"}
        assert all(isinstance(feed, SandboxFeed) for feed in started["servers"].values())
        fleet["a"].inject_inbound("a1", "4915111111111@c.us", "hello a")
        fleet["b"].inject_inbound("b2", "4915111111111@c.us", "hello b")
        fleet["c"].set_status("default", "FAILED")  # Core's stream: session.status only

        async def all_three() -> bool:
            statuses = await server.events().inbox.query(Query(events=["session.status"], sessions=["default"]))
            return (await texts(server)) == {"hello a": "a1", "hello b": "b2"} and bool(statuses)

        await until(all_three)
        await until(lambda: _known(server, {"a1", "a2", "b1", "b2", "default"}))
    server.close()


async def test_webhooks_from_any_server_land_in_the_one_inbox() -> None:
    """A signing WAHA (HMAC) and a Core 2024.10 that cannot sign (the secret path) post to one server's route (the
    stdio mode's loopback listener: the same receiver as the HTTP app's /webhooks/waha)."""
    a = Sandbox(api_key=KEY_A, sessions=1)
    b = Sandbox(sessions=1, profile="core-2024.10", time_factor=0.01)
    with serving(a.app, lifespan="off") as url_a, serving(b.app, lifespan="off") as url_b:
        settings = load_settings(
            WAHA_SERVERS=f"a={url_a},b={url_b}",
            WAHA_API_KEY=KEY_A,
            WAHA_MCP_EVENTS="webhook",
            WAHA_MCP_WEBHOOK_HMAC_KEY=HMAC,
            WAHA_MCP_WEBHOOK_SECRET=SECRET,
            WAHA_MCP_WEBHOOK_PORT=str(free_port()),
            WAHA_MCP_STORE=":memory:",
        )
        server = build_server(settings)
        async with running(server, listener=True) as started:
            listener = started["webhook"]
            await until(lambda: _started(listener))
            route = f"http://127.0.0.1:{settings.webhook_port}{PATH}"
            a.sessions["default"].config["webhooks"] = [{"url": route, "events": ["message"], "hmac": {"key": HMAC}}]
            b.sessions["default"].config["webhooks"] = [{"url": f"{route}/{SECRET}", "events": ["message"]}]
            await inbound(url_a, KEY_A, "default", "webhook from a")
            await inbound(url_b, None, "default", "webhook from b")

            async def delivered() -> bool:  # each sandbox delivers from its own thread: watch what it recorded
                return all(len(sb.webhooks.attempts) >= 1 and not sb.webhooks._tasks for sb in (a, b))

            await until(delivered)
            assert [attempt.status for sb in (a, b) for attempt in sb.webhooks.attempts] == [200, 200]
            assert await texts(server) == {"webhook from a": "default", "webhook from b": "default"}
            # Both servers' sessions are learnt, so neither server's events count as an unknown session.
            await until(lambda: _known(server, {"default"}))
        assert server.events().ingest.counters["unknownSession"] == 0
        server.close()


async def _started(listener: Any) -> bool:
    return bool(listener.started)
