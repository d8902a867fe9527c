"""CPU per call of the hot path's parts, each old way vs new way, in this process (no subprocess, no socket
except the HTTP rows, which use bench/fake_waha.py on loopback).

python bench/hot_path_parts.py [--n 2000]

Rows: parse the ~15 KB chats overview (json vs orjson), serialise the tool's result (json vs orjson), the scrub
step's secret check on that result with an API key configured (rewrite everything vs one search), an
OpenTelemetry span per message with no tracer provider (what the SDK's middleware does), and one GET of the
overview through `httpx2.AsyncClient.stream` vs the pool's transport driven directly (`HTTPCore._request`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import fake_waha
from hot_path import QUERY, ROUTE
from hot_path import fake_waha as fake_waha_server
from mcp.shared._otel import otel_span
from mcp_types import CallToolResult, TextContent
from opentelemetry.trace import SpanKind

from waha_mcp import jsonfast, projections
from waha_mcp.client._http import HTTPCore
from waha_mcp.redact import Redactor


def cpu_us(fn: Callable[[], Any], n: int) -> float:
    for _ in range(max(50, n // 10)):
        fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


async def acpu_us(fn: Callable[[], Any], n: int) -> float:
    for _ in range(max(50, n // 10)):
        await fn()
    start = time.process_time()
    for _ in range(n):
        await fn()
    return (time.process_time() - start) / n * 1e6


def old_scrub(redactor: Redactor, out: CallToolResult) -> CallToolResult:
    content = [
        block.model_copy(update={"text": redactor.text(block.text)}) if isinstance(block, TextContent) else block
        for block in out.content
    ]
    structured = redactor.value(out.structured_content)
    return out.model_copy(update={"content": content, "structured_content": structured})


def new_scrub(redactor: Redactor, out: CallToolResult) -> CallToolResult:
    texts = [block.text for block in out.content if isinstance(block, TextContent)]
    return old_scrub(redactor, out) if redactor.finds_in(texts, out.structured_content) else out


def rows(n: int) -> list[tuple[str, float, float]]:
    import orjson

    body = fake_waha.OVERVIEW
    result = projections.chat_list(json.loads(body), 20)
    out: list[tuple[str, float, float]] = []

    def with_json(module: Any, fn: Callable[[], Any]) -> float:
        jsonfast._orjson = module
        try:
            return cpu_us(fn, n)
        finally:
            jsonfast._orjson = None

    out.append(("parse WAHA's body (json → orjson)", with_json(False, lambda: jsonfast.loads(body)), 0.0))
    out[-1] = (out[-1][0], out[-1][1], with_json(orjson, lambda: jsonfast.loads(body)))
    std = with_json(False, lambda: jsonfast.dumps(result))
    out.append(("result JSON text (json → orjson)", std, with_json(orjson, lambda: jsonfast.dumps(result))))
    redactor = Redactor(["bench-api-key-0123456789"])
    shaped = CallToolResult(content=[TextContent(type="text", text=jsonfast.dumps(result))], structured_content=result)
    old = cpu_us(lambda: old_scrub(redactor, shaped), n)
    out.append(("scrub with a key set (rewrite → one search)", old, cpu_us(lambda: new_scrub(redactor, shaped), n)))

    def span() -> None:
        with otel_span(name="tools/call waha_get_chats", kind=SpanKind.SERVER, attributes={"a": "b"}, context=None):
            pass

    out.append(("OpenTelemetry span, no provider (on → off)", cpu_us(span, n), 0.0))
    return out


async def http_rows(url: str, n: int) -> tuple[str, float, float]:
    core = HTTPCore(url)
    client = core.http

    async def via_client() -> None:
        headers = {"Accept": "application/json"}
        async with client.stream("GET", ROUTE, params=QUERY, headers=headers) as response:
            await response.aread()

    async def lean() -> None:
        response = await core._request("GET", ROUTE, dict(QUERY), None, "application/json")
        try:
            await response.aread()
        finally:
            await response.aclose()

    old = await acpu_us(via_client, n)
    new = await acpu_us(lean, n)
    old = min(old, await acpu_us(via_client, n))  # twice each, interleaved: the machine's load moves
    new = min(new, await acpu_us(lean, n))
    await core.aclose()
    return ("one GET, httpx2 client → transport direct (+ loopback)", old, new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    table = rows(args.n)
    with fake_waha_server() as url:
        table.append(asyncio.run(http_rows(url, args.n)))
    print(f"{'part':58} {'before µs':>10} {'after µs':>10}")
    for name, before, after in table:
        print(f"{name:58} {before:10.1f} {after:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
