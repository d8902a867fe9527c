"""Shared fixtures: every test talks to a real sandbox, and every request it receives is contract-checked."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import settings as hypothesis_settings
from mcp import Client
from mcp_types import ElicitRequestParams, ElicitResult

from tests.contract_plugin import ContractRecorder
from waha_mcp.client import WAHAClient
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import WahaMCP, build_server

pytest_plugins = ["tests.operations_plugin"]

BASE = "http://sandbox"
# Every sandbox wait of a test lasts this fraction of the real one.
TIME_FACTOR = 0.01

# The SDK's default protocol generation. The older one (mode="legacy": initialize handshake, JSON-RPC framing)
# is exercised where the generations may differ, in tests/test_protocol_conformance.py, not by every test.
MODE = "auto"

# Parallel workers (pytest-xdist) must not share an example database on disk; no test relies on replaying one.
hypothesis_settings.register_profile("waha-mcp", database=None)
hypothesis_settings.load_profile("waha-mcp")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    """No developer WAHA_* variable or `.env` file leaks into a test."""
    for key in list(os.environ):
        if key.startswith(("WAHA_", "WAHA_MCP_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    # The store's per-user default lands in the test's own directory, never the developer's home.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    # Anti-ban pacing is on by default; tests of other things run unpaced (tests/safety sets it where it matters).
    monkeypatch.setenv("WAHA_MCP_PACING", "off")


@pytest.fixture
def contract() -> Iterator[ContractRecorder]:
    recorder = ContractRecorder()
    yield recorder
    recorder.assert_clean()


class CheckedTransport(httpx2.AsyncBaseTransport):
    """The sandbox transport, with every response checked against the document's response schemas."""

    def __init__(self, sandbox: Sandbox, recorder: ContractRecorder) -> None:
        self._inner = sandbox_transport(sandbox)
        self.sandbox = sandbox  # what the `sandbox` toolset acts on
        self._recorder = recorder
        # What a profile answers is checked against that version's own document.
        self._document = sandbox.profile.document

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        if "x-sandbox-fault" in response.headers:
            return response  # an injected fault is wrong on purpose
        path = request.url.raw_path.split(b"?")[0].decode()
        ctype = response.headers.get("content-type")
        self._recorder.record_response(request.method, path, response.status_code, ctype, body, self._document)
        return response


@pytest.fixture
def transport(sandbox: Sandbox, contract: ContractRecorder) -> httpx2.AsyncBaseTransport:
    return CheckedTransport(sandbox, contract)


@pytest.fixture
def profile() -> str:
    """The WAHA the sandbox plays; a test runs on others with `@on_profiles(...)` (tests/helpers.py)."""
    return "current"


@pytest.fixture
def sandbox(contract: ContractRecorder, profile: str) -> Sandbox:
    # Real WAHA's waits (5 s before a 422, 3 s stops) scaled down: a test sees them, the suite stays fast.
    sb = Sandbox(sessions=2, profile=profile, time_factor=TIME_FACTOR)
    sb.on_request.append(contract.hook)
    return sb


@pytest.fixture
async def waha(transport: httpx2.AsyncBaseTransport) -> AsyncIterator[WAHAClient]:
    client = WAHAClient(BASE, transport=transport)
    yield client
    await client.aclose()


@pytest.fixture
def settings(tmp_path: os.PathLike[str]) -> Settings:
    # Every toolset, including those off by default and the sandbox-only one: the suite specifies every tool.
    # Output schemas on, so the SDK client checks every result the suite sees against its tool's schema; a
    # real SQLite file for the store (sandbox mode alone would keep it in memory).
    return load_settings(
        WAHA_BASE_URL=BASE,
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_SANDBOX=True,
        WAHA_MCP_OUTPUT_SCHEMAS="true",
        WAHA_MCP_STORE=str(Path(tmp_path) / "store.sqlite3"),
    )


@pytest.fixture
def server(transport: httpx2.AsyncBaseTransport, settings: Settings) -> WahaMCP:
    return build_server(settings, transport=transport)


async def user_says_yes(context: Any, params: ElicitRequestParams) -> ElicitResult:
    """A user who confirms every destructive call the server asks about (tests/safety covers the rest)."""
    return ElicitResult(action="accept", content={"confirm": True})


@pytest.fixture
async def mcp(server: WahaMCP) -> AsyncIterator[Client]:
    """An MCP client over the SDK's in-memory transport, in the SDK's default protocol mode; it answers the
    server's confirmation questions with yes, as a user at a client with elicitation would."""
    async with Client(server, mode=MODE, elicitation_callback=user_says_yes) as client:
        yield client
