"""The session directory: learnt from every server in parallel, refreshed by `session.status` events (debounced),
shared by replicas through the store (SQLite file, PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mcp import Client

from tests.contract_plugin import ContractRecorder
from tests.fleet.conftest import fleet, holding
from tests.helpers import call, data
from tests.pg import BACKENDS, pg_dsn
from waha_mcp.client.fleet import Fleet
from waha_mcp.config import load_settings
from waha_mcp.events.inbox import Stored
from waha_mcp.events.summary import Summary
from waha_mcp.server import build_server
from waha_mcp.store import open_store

__all__ = ["pg_dsn"]  # fixture

LAYOUT = {"a": ("current", ("ann", "bob")), "b": ("current", ("cat",))}


def lists(member_sandbox: object) -> int:
    return sum(1 for r in member_sandbox.requests if r.path == "/api/sessions")  # type: ignore[attr-defined]


def status(session: str, state: str) -> Stored:
    return Stored(1, Summary(f"e-{session}-{state}", 0, session, "session.status", status=state))


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "shared.db") if request.param == "sqlite" else request.getfixturevalue("pg_dsn")


async def test_a_second_instance_routes_by_the_shared_directory_when_no_server_can_list(
    contract: ContractRecorder, store_url: str
) -> None:
    async with fleet(contract, LAYOUT, WAHA_MCP_STORE=store_url) as (members, first):
        async with Client(first) as mcp:
            data(await call(mcp, "waha_list_sessions"))  # learnt, and written to the store
        # Neither server's store is closed here: as in the other replica tests, its pool goes with the test's loop
        # (closing one in the loop while asyncpg still releases a connection in the background fails the test).
        # Now no server answers a session list: only the store can say where `bob` and `cat` are.
        for member in members.values():
            member.sandbox.faults.add("SessionsController_list", kind="status", status=500)
        servers = ",".join(f"{name}={m.url}" for name, m in members.items())
        second = build_server(load_settings(WAHA_SERVERS=servers, WAHA_MCP_STORE=store_url))
        async with Client(second) as mcp:
            assert data(await call(mcp, "waha_get_session", {"session": "bob"}))["session"] == "bob"
            assert data(await call(mcp, "waha_get_session", {"session": "cat"}))["session"] == "cat"
        assert len(members["a"].requests_for("bob")) == 1 and not members["b"].requests_for("bob")
        assert len(members["b"].requests_for("cat")) >= 1 and not members["a"].requests_for("cat")
        stored = open_store(store_url)
        try:
            assert await stored.directory.load() == {"a": ("ann", "bob"), "b": ("cat",)}
        finally:
            stored.close()


async def test_status_events_relist_once_per_burst_and_learn_a_move(contract: ContractRecorder) -> None:
    async with fleet(contract, LAYOUT) as (members, server):
        fleet_ = Fleet({name: server.new_client(name) for name in members}, settle=0.05)
        try:
            await asyncio.gather(*fleet_.refresh())
            assert fleet_.held["bob"] == ("a",)
            before = {name: lists(m.sandbox) for name, m in members.items()}
            holding(members["a"].sandbox, "ann")
            holding(members["b"].sandbox, "cat", "bob")
            fleet_.heard([status("cat", "WORKING")])  # a known session working where it was: nothing to learn
            assert fleet_._soon is None
            for _ in range(5):  # a burst: bob starting on its new server, said several times
                fleet_.heard([status("bob", "STARTING"), status("new", "SCAN_QR_CODE")])
            for _ in range(500):
                if fleet_.held.get("bob") == ("b",):
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # time enough for a second re-list, were the burst not settled into one
            assert {name: lists(m.sandbox) - before[name] for name, m in members.items()} == {"a": 1, "b": 1}
            assert fleet_.held["bob"] == ("b",)
        finally:
            await fleet_.aclose()


async def test_a_slow_server_does_not_hold_up_finding_a_session_elsewhere(contract: ContractRecorder) -> None:
    async with fleet(contract, LAYOUT) as (members, server):
        members["a"].sandbox.faults.add("SessionsController_list", kind="latency", delay=30)
        fleet_ = Fleet({name: server.new_client(name) for name in members})
        try:
            assert await fleet_.server_of("cat", "SessionsController_get") == "b"
            assert not fleet_._listing["a"].done()  # a's list is still on its way
        finally:
            await fleet_.aclose()


async def test_a_list_of_working_sessions_only_does_not_drop_a_stopped_one_from_the_directory(
    contract: ContractRecorder,
) -> None:
    async with fleet(contract, LAYOUT) as (members, server):
        members["a"].sandbox.set_status("bob", "STOPPED")
        client = server.new_fleet()
        try:
            assert {s["name"] for s in await client.list_sessions(all=True)} == {"ann", "bob", "cat"}
            assert client.holder("bob") == "a"
            working = {s["name"] for s in await client.list_sessions(all=False)}
            assert "bob" not in working
            assert client.holder("bob") == "a"  # WAHA's partial list says nothing of the stopped session
        finally:
            await client.aclose()
