"""Sandbox fixtures: an in-process client whose every 2xx response is checked against the document."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from waha_mcp.openapi.contract import check_response
from waha_mcp.openapi.spec import DOCUMENT, load_spec
from waha_mcp.sandbox import Sandbox, sandbox_transport


class ResponseChecker:
    """Checks against the document of the WAHA the sandbox plays (its profile's)."""

    def __init__(self, document: str = DOCUMENT) -> None:
        self.problems: list[str] = []
        self.document = document

    async def __call__(self, response: httpx2.Response) -> None:
        await response.aread()
        if not 200 <= response.status_code < 300:
            return
        raw_path = response.request.url.raw_path.split(b"?")[0].decode()
        op = load_spec(self.document).match(response.request.method, raw_path)
        if op is None:
            return
        ctype = response.headers.get("content-type")
        found = check_response(op, response.status_code, ctype, response.content, self.document)
        self.problems += found


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(sessions=2, seed=0)


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    checker = ResponseChecker(sb.profile.document)
    async with httpx2.AsyncClient(
        transport=sandbox_transport(sb), base_url="http://sandbox", event_hooks={"response": [checker]}
    ) as c:
        yield c
    assert checker.problems == [], "sandbox responses break the OpenAPI document:\n" + "\n".join(checker.problems)
