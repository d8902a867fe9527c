"""Error bodies exactly as WAHA's AllExceptionsFilter writes them (src/api/exception.filter.ts)."""

from __future__ import annotations

import httpx2

from waha_mcp.client.errors import from_response
from waha_mcp.sandbox import Sandbox


async def test_an_unhandled_exception_names_the_url_with_query_the_body_and_the_version(
    client: httpx2.AsyncClient, sb: Sandbox
) -> None:
    answer = await client.post("/api/default/status/delete", params={"trace": "1"}, json={"contacts": None})
    body = answer.json()
    assert answer.status_code == 500 and body["exception"]["name"] == "TypeError"
    assert body["request"] == {"path": "/api/default/status/delete?trace=1", "method": "POST",
                               "body": {"contacts": None}, "query": {"trace": "1"}}  # fmt: skip
    assert body["version"] == sb.profile.environment()


async def test_a_missing_file_is_the_file_servers_404(client: httpx2.AsyncClient) -> None:
    answer = await client.get("/api/files/default/nope.jpeg")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": 404, "key": "FILE_NOT_FOUND", "message": "File not found",
                                       "details": "File not found or no longer available"}}  # fmt: skip
    error = from_response(404, answer.content, "Not Found", method="GET", path="/api/files/default/nope.jpeg",
                          session="default")  # fmt: skip
    assert error.message == "File not found: File not found or no longer available"
