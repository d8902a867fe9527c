"""The fleet as the tools show it: merged session lists, placement by capacity, `server` on server-wide tools,
messages naming the server, bulk across every server; a server down or slow fails only what it holds."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from mcp import Client

from tests.contract_plugin import ContractRecorder
from tests.fleet.conftest import fleet
from tests.helpers import call, data, error
from waha_mcp.config import load_settings
from waha_mcp.server import build_server

LAYOUT = {
    "a": ("current", ("ann", "bob")),
    "b": ("current", ("cat",)),
    "c": ("core-2024.10", ()),
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_list_sessions_merges_every_server_and_names_the_holder(contract: ContractRecorder) -> None:
    async with fleet(contract, LAYOUT) as (members, server), Client(server) as mcp:
        listed = data(await call(mcp, "waha_list_sessions"))
        assert sorted((s["name"], s["server"]) for s in listed["sessions"]) == [
            ("ann", "a"), ("bob", "a"), ("cat", "b"), ("default", "c")
        ]  # fmt: skip
        assert "unreachable" not in listed
        # One round trip per server.
        for member in members.values():
            assert [r.path for r in member.sandbox.requests if r.path == "/api/sessions"]


async def test_a_server_down_is_listed_as_unreachable_and_the_others_keep_working(
    contract: ContractRecorder, tmp_path: Path
) -> None:
    async with fleet(contract, {"a": LAYOUT["a"], "b": LAYOUT["b"]}) as (members, _):
        down = f"http://127.0.0.1:{closed_port()}"
        servers = f"a={members['a'].url},b={members['b'].url},gone={down}"
        built = build_server(load_settings(WAHA_SERVERS=servers, WAHA_TOOLSETS="all"))
        async with Client(built) as mcp:
            listed = data(await call(mcp, "waha_list_sessions"))
            assert {s["name"] for s in listed["sessions"]} == {"ann", "bob", "cat"}
            [gone] = listed["unreachable"]
            assert gone["server"] == "gone" and "cannot connect to WAHA at " + down in gone["error"]
            assert data(await call(mcp, "waha_get_session", {"session": "cat"}))["session"] == "cat"
            info = data(await call(mcp, "waha_get_server_info"))
            by_server = {entry["server"]: entry for entry in info["servers"]}
            assert by_server["a"]["version"] and by_server["b"]["version"]
            assert "cannot connect" in by_server["gone"]["error"]


async def test_bulk_covers_every_server_and_a_server_down_fails_only_its_sessions(
    contract: ContractRecorder, tmp_path: Path
) -> None:
    async with fleet(contract, LAYOUT, WAHA_TOOLSETS="all", WAHA_MCP_STORE=str(tmp_path / "s.db")) as (members, srv):
        async with Client(srv) as mcp:
            unread = data(await call(mcp, "waha_get_unread_everywhere"))
            assert sorted(s["session"] for s in unread["sessions"]) == ["ann", "bob", "cat", "default"]
        # Server b goes down: a new process knows from the shared directory that `cat` lives there.
    async with fleet(contract, {"a": LAYOUT["a"], "c": LAYOUT["c"]}) as (members, _):
        down = f"http://127.0.0.1:{closed_port()}"
        servers = f"a={members['a'].url},b={down},c={members['c'].url}"
        built = build_server(load_settings(WAHA_SERVERS=servers, WAHA_TOOLSETS="all",
                                           WAHA_MCP_STORE=str(tmp_path / "s.db")))  # fmt: skip
        async with Client(built) as mcp:
            result = data(await call(mcp, "waha_for_sessions", {"tool": "waha_get_session", "sessions": "all"}))
            rows = {row["session"]: row for row in result["rows"]}
            assert {name: rows[name]["status"] for name in rows} == {
                "ann": "ok", "bob": "ok", "default": "ok", "cat": "error"
            }  # fmt: skip
            assert "server 'b'" in rows["cat"]["error"] and "cannot connect" in rows["cat"]["error"]
            assert result["unreachable"][0]["server"] == "b"


async def test_create_session_places_by_free_room_and_says_where(contract: ContractRecorder, tmp_path: Path) -> None:
    layout = {"a": ("current", ("ann", "bob")), "b": ("current", ("cat",)), "c": ("current", ("dan", "eve"))}
    toml = '[a]\nurl = "{a}"\ncapacity = 3\n[b]\nurl = "{b}"\ncapacity = 3\n[c]\nurl = "{c}"\ncapacity = 10\n'
    async with fleet(contract, layout, servers_file=toml, path=str(tmp_path / "servers.toml"), WAHA_TOOLSETS="all") as (
        members,
        srv,
    ):
        async with Client(srv) as mcp:
            first = data(await call(mcp, "waha_create_session", {"name": "new1", "start": False}))
            assert first["server"] == "c" and "new1" in members["c"].sandbox.sessions  # 8 free beats 2 and 1
            named = data(await call(mcp, "waha_create_session", {"name": "new2", "start": False, "server": "b"}))
            assert named["server"] == "b" and "new2" in members["b"].sandbox.sessions
            # Routed to where it was placed.
            assert data(await call(mcp, "waha_get_session", {"session": "new2"}))["session"] == "new2"
            assert members["b"].requests_for("new2") and not members["c"].requests_for("new2")
            taken = error(await call(mcp, "waha_create_session", {"name": "cat", "server": "a"}))
            assert "session 'cat' already exists on server 'b'" in taken
            assert "cat" not in members["a"].sandbox.sessions
            unknown = error(await call(mcp, "waha_create_session", {"name": "x1", "server": "zz"}))
            assert "unknown server 'zz'; servers: a, b, c" in unknown


async def test_create_session_refuses_when_every_server_is_full(contract: ContractRecorder, tmp_path: Path) -> None:
    toml = '[a]\nurl = "{a}"\ncapacity = 2\n[b]\nurl = "{b}"\ncapacity = 1\n'
    async with fleet(contract, {"a": LAYOUT["a"], "b": LAYOUT["b"]}, servers_file=toml,
                     path=str(tmp_path / "servers.toml"), WAHA_TOOLSETS="all") as (members, srv):  # fmt: skip
        async with Client(srv) as mcp:
            full = error(await call(mcp, "waha_create_session", {"name": "more"}))
            assert "no server has room for a new session (a 2/2, b 1/1)" in full
            assert all("more" not in m.sandbox.sessions for m in members.values())


async def test_server_wide_writes_need_a_server_and_reads_cover_every_server(contract: ContractRecorder) -> None:
    async with fleet(contract, {"a": LAYOUT["a"], "b": LAYOUT["b"]}, WAHA_TOOLSETS="all") as (members, srv):
        async with Client(srv) as mcp:
            refused = error(await call(mcp, "waha_stop_server", {"confirm": True}))
            assert "name the WAHA server this acts on: server, one of a, b" in refused
            assert not [r for m in members.values() for r in m.sandbox.requests if r.path == "/api/server/stop"]
            keys = data(await call(mcp, "waha_list_api_keys"))
            assert "unreachable" not in keys and all(k["server"] in ("a", "b") for k in keys["keys"])
            one = data(await call(mcp, "waha_get_server_info", {"server": "b"}))
            assert one["version"] and "servers" not in one
            assert [r.path for r in members["b"].sandbox.requests if r.path == "/api/server/version"]
            assert not [r.path for r in members["a"].sandbox.requests if r.path == "/api/server/version"]


async def test_a_route_the_older_server_lacks_is_explained_naming_that_server(contract: ContractRecorder) -> None:
    async with fleet(contract, LAYOUT, WAHA_TOOLSETS="all") as (_, srv), Client(srv) as mcp:
        # The send-limits route came after Core 2024.10: refused on server c only.
        message = error(await call(mcp, "waha_get_send_limits", {"session": "default"}))
        assert "session 'default' (server 'c')" in message and "2024.10" in message
        assert not data(await call(mcp, "waha_get_send_limits", {"session": "ann"})).get("error")


async def test_bulk_runs_the_servers_of_a_fleet_in_parallel_each_behind_its_own_gate(
    contract: ContractRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one session at a time per server, each server's first session is asked at once, not one server's
    after the other's answer (a single gate for the whole fleet would make server b wait `latency` for a)."""
    from waha_mcp.tools import bulk

    monkeypatch.setattr(bulk, "CONCURRENCY", 1)
    latency = 1.0
    layout = {"a": ("current", ("ann", "bob")), "b": ("current", ("cat", "dan"))}
    async with fleet(contract, layout, WAHA_TOOLSETS="all") as (members, srv), Client(srv) as mcp:
        arrived: dict[str, list[float]] = {"a": [], "b": []}
        for name, member in members.items():
            member.sandbox.on_request.append(
                lambda r, name=name: (
                    arrived[name].append(time.monotonic()) if r.path.startswith("/api/sessions/") else None
                )
            )
        await call(mcp, "waha_list_sessions")  # the directory knows every session before the run
        for member in members.values():
            member.sandbox.latency = latency
        result = data(await call(mcp, "waha_for_sessions", {"tool": "waha_get_session", "sessions": "all"}))
        assert sorted(row["session"] for row in result["rows"] if row["status"] == "ok") == ["ann", "bob", "cat", "dan"]
        assert len(arrived["a"]) == len(arrived["b"]) == 2
        assert abs(arrived["a"][0] - arrived["b"][0]) < latency / 2, arrived
        # Within a server, the gate holds: its second session waits for the first one's answer.
        assert arrived["a"][1] - arrived["a"][0] >= latency * 0.9 and arrived["b"][1] - arrived["b"][0] >= latency * 0.9
