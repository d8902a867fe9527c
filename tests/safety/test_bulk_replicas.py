"""A `bulkId` started on one replica resumes on another (two servers, two store instances, one PostgreSQL): the
sessions done by the first are skipped by the second, the rest are sent once."""

from __future__ import annotations

import httpx2
from mcp import Client

from tests.helpers import call, data
from tests.pg import pg_dsn
from tests.safety.test_bulk import SEND, make, sandbox, sends, transport
from waha_mcp.sandbox import Sandbox
from waha_mcp.server import build_server

__all__ = ["pg_dsn", "sandbox", "transport"]  # fixtures


async def test_a_bulk_run_started_on_one_replica_resumes_on_another(
    transport: httpx2.AsyncBaseTransport, sandbox: Sandbox, pg_dsn: str
) -> None:
    one, two = build_server(make(pg_dsn), transport=transport), build_server(make(pg_dsn), transport=transport)
    async with Client(one) as first:
        started = data(await call(first, "waha_for_sessions", SEND | {"sessions": ["default", "business"],
                                                                      "bulkId": "r1"}))  # fmt: skip
        assert started["counts"] == {"ok": 2}
    async with Client(two) as second:
        resumed = data(await call(second, "waha_for_sessions", SEND | {"bulkId": "r1", "confirm": True}))
    rows = {row["session"]: row["status"] for row in resumed["rows"]}
    assert rows["default"] == rows["business"] == "skipped"
    assert rows["sandbox3"] == rows["sandbox4"] == "ok"
    assert sends(sandbox) == ["business", "default", "sandbox3", "sandbox4"]
