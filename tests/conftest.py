"""Shared fixtures: every test talks to a real sandbox, and every request it receives is contract-checked."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
from mcp import Client

from tests.contract_plugin import ContractRecorder
from waha_mcp.client import WAHAClient
from waha_mcp.config import Settings, load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import WahaMCP, build_server

BASE = "http://sandbox"


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


@pytest.fixture
def contract() -> Iterator[ContractRecorder]:
    recorder = ContractRecorder()
    yield recorder
    recorder.assert_clean()


class CheckedTransport(httpx2.AsyncBaseTransport):
    """The sandbox transport, with every response checked against the document's response schemas."""

    def __init__(self, sandbox: Sandbox, recorder: ContractRecorder) -> None:
        self._inner = sandbox_transport(sandbox)
        self._recorder = recorder

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        if "x-sandbox-fault" in response.headers:
            return response  # an injected fault is wrong on purpose
        path = request.url.raw_path.split(b"?")[0].decode()
        ctype = response.headers.get("content-type")
        self._recorder.record_response(request.method, path, response.status_code, ctype, body)
        return response


@pytest.fixture
def transport(sandbox: Sandbox, contract: ContractRecorder) -> httpx2.AsyncBaseTransport:
    return CheckedTransport(sandbox, contract)


@pytest.fixture
def sandbox(contract: ContractRecorder) -> Sandbox:
    sb = Sandbox(sessions=2)
    sb.on_request.append(contract.hook)
    return sb


@pytest.fixture
async def waha(transport: httpx2.AsyncBaseTransport) -> AsyncIterator[WAHAClient]:
    client = WAHAClient(BASE, transport=transport)
    yield client
    await client.aclose()


@pytest.fixture
def settings() -> Settings:
    return load_settings(WAHA_BASE_URL=BASE, WAHA_SESSION="default")


@pytest.fixture
def server(transport: httpx2.AsyncBaseTransport, settings: Settings) -> WahaMCP:
    return build_server(settings, transport=transport)


@pytest.fixture(params=["legacy", "auto"])
async def mcp(server: WahaMCP, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """An MCP client over the SDK's in-memory transport, in both protocol modes."""
    async with Client(server, mode=request.param) as client:
        yield client
