"""aiohttp (its C HTTP parser) in place of waha-mcp's own HTTP/1.1 client for the WAHA leg (client/wire.py), for
`bench/hot_path.py --off aiohttp-wire` (issue 23: keep our own only if the library is more than 20 % slower per call).

`AiohttpWire` answers what `Wire` answers (`request(method, target, accept, body, limit) -> Answer`, `aclose()`),
doing the same work: the same request head (Host, identity encoding, the client's headers, Accept, a JSON body),
up to 32 keep-alive connections (idle ones kept 4 s), answers read whole under the byte cap (refused from
Content-Length, or abandoned while the body streams), headers handed on lower-cased. Bench only: `pip install
aiohttp` (the `bench` extra); waha-mcp does not depend on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx2

from waha_mcp.client.wire import IDLE_EXPIRY, MAX_CONNECTIONS, Answer, Oversized


class AiohttpWire:
    def __init__(self, base_url: str, headers: Mapping[str, str], connect_timeout: float) -> None:
        url = httpx2.URL(base_url)
        self.base = str(url).rstrip("/")
        self.headers = {"Accept-Encoding": "identity", **{k: v for k, v in headers.items() if k.lower() != "accept"}}
        self.connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=IDLE_EXPIRY, use_dns_cache=True)
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
            self._loop = loop
        return self._session

    async def request(self, method: str, target: str, accept: str, body: bytes | None, limit: int) -> Answer:
        headers = {**self.headers, "Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._client().request(method, self.base + target, headers=headers, data=body) as response:
                declared = response.content_length
                if declared is not None and declared > limit:
                    raise Oversized(response.status, declared)
                if declared is not None:  # its one read (the fast way), the length already checked
                    body = await response.read()
                else:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.content.iter_any():
                        size += len(chunk)
                        if size > limit:
                            raise Oversized(response.status, None)
                        chunks.append(chunk)
                    body = b"".join(chunks)
                lowered: dict[str, str] = {}
                for name, value in response.headers.items():
                    key = name.lower()
                    lowered[key] = value if key not in lowered else f"{lowered[key]}, {value}"
                return Answer(response.status, response.reason or "", lowered, body)
        except aiohttp.ClientConnectorError as exc:
            raise httpx2.ConnectError(str(exc)) from None
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx2.RemoteProtocolError(str(exc)) from None
        except aiohttp.ClientError as exc:
            raise httpx2.ReadError(str(exc)) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def aiohttp_wire(base_url: str, headers: Mapping[str, str], connect_timeout: float) -> Any:
    """`lean_wire`'s signature: the aiohttp client for plain http, else None (httpx2 carries it, as in waha-mcp)."""
    if httpx2.URL(base_url).scheme != "http":
        return None
    return AiohttpWire(base_url, headers, connect_timeout)
