"""The WAHA leg's HTTP/1.1 client for plain-http WAHA (client/wire.py, aiohttp), against a raw loopback server
that answers exactly the bytes a test gives it: the same requests as httpx2 would send, keep-alive reuse and its
limits, every way an answer can be framed, the byte cap, and the failures mapped like httpx2's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import os
import socket
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.servers import ok, raw_server
from waha_mcp.client import TooLarge, Unavailable, WAHAClient
from waha_mcp.client import wire as wire_module
from waha_mcp.client.wire import Wire, lean_wire, query_string

OVERVIEW = "ChatsController_getChatsOverview"
SEND = "ChattingController_sendText"
JSON_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"


@contextlib.asynccontextmanager
async def client_for(url: str, key: str = "key-0123456789", **options: Any) -> AsyncIterator[WAHAClient]:
    client = WAHAClient(url, key, **options)
    try:
        yield client
    finally:
        await client.aclose()


async def overview(client: WAHAClient, **query: Any) -> Any:
    return await client.call(OVERVIEW, "default", query=query or {"limit": 20})


# --- which client carries the requests ---------------------------------------------------------------------


def test_plain_http_without_a_proxy_goes_on_the_lean_client() -> None:
    assert isinstance(WAHAClient("http://localhost:3000").wire(), Wire)


@pytest.mark.parametrize(
    "why",
    ["https", "proxy", "all-proxy", "transport", "turned off"],
)
def test_httpx2_carries_what_the_lean_client_cannot(why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://waha.example" if why == "https" else "http://waha.example:3000"
    options: dict[str, Any] = {}
    if why == "proxy":
        monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:8080")
    elif why == "all-proxy":
        monkeypatch.setenv("ALL_PROXY", "http://proxy.example:8080")
    elif why == "transport":
        options["transport"] = httpx2.MockTransport(lambda request: httpx2.Response(200, json=[]))
    elif why == "turned off":
        options["wire"] = False
    assert WAHAClient(url, **options).wire() is None


async def test_turned_off_requests_go_through_httpx2() -> None:
    async with raw_server(lambda request: ok()) as server, client_for(server.url, wire=False) as client:
        assert await overview(client) == []
        assert client.wire() is None
        assert b"accept-encoding: gzip" in server.requests[0].lower()  # httpx2's own header: it sent this one


# --- the same request as httpx2 --------------------------------------------------------------------------


def _head_lines(request: bytes) -> tuple[bytes, set[bytes], bytes]:
    head, _, body = request.partition(b"\r\n\r\n")
    first, *lines = head.split(b"\r\n")
    # httpx2 also asks for compressed answers and says keep-alive; aiohttp here asks for neither.
    skip = (b"accept-encoding:", b"connection:")
    kept = {line for line in lines if not line.lower().startswith(skip)}
    if first.startswith(b"DELETE "):
        # aiohttp says `Content-Length: 0` on a DELETE without a body (httpx2 says nothing): both mean no body.
        kept.discard(b"Content-Length: 0")
    return first, kept, body


@pytest.mark.parametrize(
    ("operation", "session", "path", "query", "body"),
    [
        (OVERVIEW, "default", None, {"limit": 20, "offset": 0, "ids": ["1@c.us", "2 x@g.us"]}, None),
        ("ChattingController_getMessages", "sales team", None, {"chatId": "é+&/?", "downloadMedia": False}, None),
        ("ChatsController_getChatMessages", "default", {"chatId": "123@c.us"}, {"limit": 5}, None),
        (SEND, "default", None, None, {"chatId": "1@c.us", "text": 'héllo \u2764 "quoted"\nnew line'}),
        ("SessionsController_restart", "default", None, None, None),
        ("SessionsController_delete", "old..one", None, None, None),
    ],
)
async def test_requests_are_byte_for_byte_what_httpx2_sends(
    operation: str, session: str, path: Any, query: Any, body: Any
) -> None:
    async with raw_server(lambda request: ok(b"{}")) as server:
        for lean in (True, False):
            async with client_for(server.url, wire=lean) as client:
                assert (client.wire() is not None) is lean
                await client.call(operation, session, path=path, query=query, body=body)
        ours, theirs = server.requests
        assert _head_lines(ours) == _head_lines(theirs)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.text(max_size=12),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.lists(st.text(max_size=6), min_size=1, max_size=3),
        ),
        max_size=4,
    )
)
def test_query_strings_are_encoded_as_httpx2_encodes_them(params: dict[str, Any]) -> None:
    expected = httpx2.URL("http://h/p", params=params).raw_path.decode()[2:]
    assert query_string(params) == expected
    assert query_string(params) == expected  # and again, remembered


def test_equal_values_of_other_types_are_not_taken_for_each_other() -> None:
    # 1, 1.0 and "1" are equal dict keys or hash alike; each keeps its own spelling.
    assert [query_string({"limit": value}) for value in (1, 1.0, "1", 1, 1.0)] == [
        "?limit=1",
        "?limit=1.0",
        "?limit=1",
        "?limit=1",
        "?limit=1.0",
    ]


async def test_a_base_url_with_a_path_prefixes_every_request() -> None:
    async with raw_server(lambda request: ok()) as server:
        async with client_for(server.url + "/waha/") as client:
            await overview(client)
        assert server.requests[0].startswith(b"GET /waha/api/default/chats/overview?limit=20 HTTP/1.1\r\n")
        port = server.url.rsplit(":", 1)[1]
        assert f"\r\nHost: 127.0.0.1:{port}\r\n".encode() in server.requests[0]


@pytest.mark.parametrize("key", ["key\r\nX-Injected: 1", "key\r", "clé-0123456789", " padded "])
def test_a_key_no_header_may_carry_is_left_to_httpx2(key: str) -> None:
    # A line break would smuggle headers onto the wire: httpx2 refuses such a key, as it always did.
    assert WAHAClient("http://localhost:3000", key).wire() is None
    assert WAHAClient("http://localhost:3000", "key-0123456789").wire() is not None


async def test_a_large_body_goes_out_whole() -> None:
    text = "x" * 3_000_000
    async with raw_server(lambda request: ok(b'{"id":"m1"}')) as server, client_for(server.url) as client:
        await client.call(SEND, "default", body={"chatId": "1@c.us", "text": text})
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert f"\r\nContent-Length: {len(body)}\r\n".encode() in head + b"\r\n" and text.encode() in body


async def test_a_waha_behind_basic_auth_gets_its_credentials_as_a_header_and_errors_never_show_them() -> None:
    async with raw_server(lambda request: ok()) as server:
        base = server.url.replace("http://", "http://waha%20user:s3cret%40pw@")
        for lean in (True, False):
            async with client_for(base, wire=lean) as client:
                assert await overview(client) == []
                assert client.base_url == server.url
    expected = base64.b64encode(b"waha user:s3cret@pw").decode()
    assert all(f"\r\nAuthorization: Basic {expected}\r\n".encode() in request for request in server.requests)
    assert all(b"s3cret" not in request for request in server.requests)
    async with client_for(base) as client:  # the server is gone now
        with pytest.raises(Unavailable) as info:
            await overview(client)
    assert "cannot connect to WAHA at http://127.0.0.1:" in info.value.message and "s3cret" not in info.value.message


def test_the_default_port_is_left_out_of_host_as_httpx2_does() -> None:
    # Port 80 cannot be listened on here: the URL aiohttp derives Host from carries no port (a port that is not
    # the default shows in Host: test_a_base_url_with_a_path_prefixes_every_request).
    for url in ("http://waha.example", "http://waha.example:80/"):
        wire = lean_wire(url, {"User-Agent": "waha-mcp"}, 1.0)
        assert wire is not None and wire.base == "http://waha.example"


# --- keep-alive ------------------------------------------------------------------------------------------


async def test_one_connection_carries_every_request_in_turn() -> None:
    async with raw_server(lambda request: ok()) as server, client_for(server.url) as client:
        for _ in range(20):
            assert await overview(client) == []
    assert server.connections == 1 and len(server.requests) == 20


async def test_connection_close_from_waha_means_a_new_connection_next_time() -> None:
    answer = ok(b"[]", "Connection: close")
    async with raw_server(lambda request: answer, close_after_answer=True) as server, client_for(server.url) as c:
        for _ in range(3):
            assert await overview(c) == []
    assert server.connections == 3


async def test_a_connection_waha_closed_while_idle_is_not_reused() -> None:
    async with raw_server(lambda request: ok(), close_after_answer=True) as server, client_for(server.url) as client:
        assert await overview(client) == []
        await asyncio.sleep(0.05)  # WAHA's close reaches us while the connection idles
        assert await overview(client) == []
    assert server.connections == 2 and len(server.requests) == 2


async def test_a_connection_idle_past_the_expiry_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire_module, "IDLE_EXPIRY", 0.0)
    async with raw_server(lambda request: ok()) as server, client_for(server.url) as client:
        await overview(client)
        await overview(client)
    assert server.connections == 2


async def test_at_most_32_requests_are_in_flight_and_all_are_answered() -> None:
    async def slow(request: bytes) -> bytes:
        await asyncio.sleep(0.05)
        return ok()

    async with raw_server(slow) as server, client_for(server.url) as client:
        results = await asyncio.gather(*(overview(client) for _ in range(40)))
    assert results == [[]] * 40
    assert server.most_open == wire_module.MAX_CONNECTIONS


async def test_a_cancelled_request_never_hands_its_connection_to_the_next() -> None:
    started = asyncio.Event()

    async def answer(request: bytes) -> bytes:
        if b"limit=1 " in request:
            started.set()
            await asyncio.sleep(0.3)
            return ok(b'["late"]')
        return ok()

    async with raw_server(answer) as server, client_for(server.url) as client:
        task = asyncio.create_task(overview(client, limit=1))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await overview(client) == []  # not the late answer to the cancelled request
    assert server.connections == 2


async def test_the_pool_starts_afresh_on_a_new_event_loop() -> None:
    async with raw_server(lambda request: ok()) as server:
        client = WAHAClient(server.url)
        assert await overview(client) == []

        def other_loop() -> Any:
            return asyncio.run(overview(client))

        # Another loop in another thread: the idle connection of this loop is left alone, a new one is opened.
        assert await asyncio.to_thread(other_loop) == []
        await client.aclose()
    assert server.connections == 2


# --- how an answer is framed -----------------------------------------------------------------------------


async def test_a_chunked_answer_is_read_whole() -> None:
    body = b'[{"id":"1@c.us"},{"id":"2@c.us"}]'
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:20], body[20:])) + b"0\r\n\r\n"
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    async with raw_server(lambda request: answer) as server, client_for(server.url) as client:
        assert await overview(client) == [{"id": "1@c.us"}, {"id": "2@c.us"}]
        assert await overview(client) == [{"id": "1@c.us"}, {"id": "2@c.us"}]  # and the connection is reused
    assert server.connections == 1


async def test_an_answer_without_a_length_ends_when_waha_closes() -> None:
    answer = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n["until close"]'
    async with raw_server(lambda request: answer, close_after_answer=True) as server, client_for(server.url) as client:
        assert await overview(client) == ["until close"]
        assert await overview(client) == ["until close"]
    assert server.connections == 2


async def test_an_interim_100_continue_is_skipped() -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'["final"]')
    async with raw_server(lambda request: answer) as server, client_for(server.url) as client:
        assert await overview(client) == ["final"]


async def test_an_answer_arriving_a_byte_at_a_time_is_read_whole() -> None:
    body = b'{"name":"default","status":"WORKING"}'

    async def dribble(request: bytes) -> bytes:
        return ok(body)

    async with raw_server(dribble) as server:
        # Split the answer into single-byte writes at the socket level.
        original = server.handle

        async def byte_by_byte(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            real_write = writer.write

            def write(data: bytes) -> None:
                for i in range(len(data)):
                    real_write(data[i : i + 1])

            writer.write = write  # type: ignore[method-assign]
            await original(reader, writer)

        server.handle = byte_by_byte  # type: ignore[method-assign]
        async with client_for(server.url) as client:
            assert await client.call("SessionsController_get", "default") == {"name": "default", "status": "WORKING"}


async def test_repeated_headers_are_joined_and_names_are_case_blind() -> None:
    answer = (
        b"HTTP/1.1 302 Found\r\nLOCATION: http://elsewhere.example/api\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    async with raw_server(lambda request: answer) as server, client_for(server.url) as client:
        wire = client.wire()
        assert wire is not None
        got = await wire.request("GET", "/ping", "application/json", None, 1000)
        assert got.status == 302 and got.reason == "Found"
        assert got.headers["location"] == "http://elsewhere.example/api"
        assert got.headers["set-cookie"] == "a=1, b=2"


async def test_bytes_nobody_asked_for_retire_the_connection() -> None:
    async with raw_server(lambda request: ok() + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") as server:
        async with client_for(server.url) as client:
            assert await overview(client) == []
            assert await overview(client) == []
    assert server.connections == 2


async def test_answers_are_asked_for_uncompressed_and_inflated_when_compressed_anyway() -> None:
    body = b'[{"id":"1@c.us","name":"' + b"x" * 5000 + b'"}]'
    packed = {"gzip": gzip.compress(body), "deflate": zlib.compress(body), "x-raw-deflate": _raw_deflate(body)}

    def answer(request: bytes) -> bytes:
        coding = request.split(b"limit=", 1)[1].split(b" ", 1)[0].decode()
        name = "deflate" if coding == "x-raw-deflate" else coding
        return ok(packed[coding], f"Content-Encoding: {name}")

    async with raw_server(answer) as server, client_for(server.url) as client:
        for coding in packed:
            assert await overview(client, limit=coding) == [{"id": "1@c.us", "name": "x" * 5000}]
    assert all(b"\r\nAccept-Encoding: identity\r\n" in request for request in server.requests)


async def test_a_coding_that_cannot_be_inflated_is_a_protocol_error() -> None:
    async with raw_server(lambda request: ok(b"\x00\x01", "Content-Encoding: br")) as server:
        async with client_for(server.url) as client:
            with pytest.raises(Unavailable) as info:
                await overview(client)
    assert "closed the connection before answering" in info.value.message


async def test_a_compressed_answer_is_capped_once_inflated() -> None:
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    async with raw_server(lambda request: ok(bomb, "Content-Encoding: gzip")) as server:
        async with client_for(server.url, max_response_bytes=100_000) as client:
            with pytest.raises(TooLarge):
                await overview(client)
    assert len(bomb) < 100_000  # small on the wire: the inflated size is what the cap saw


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


# --- the byte cap ----------------------------------------------------------------------------------------


async def test_a_declared_length_over_the_cap_is_refused_before_the_body_comes() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
    async with raw_server(lambda request: head) as server, client_for(server.url, max_response_bytes=1000) as c:
        with pytest.raises(TooLarge) as info:
            await asyncio.wait_for(overview(c), 5)
        assert "5000000 bytes, over the 1000-byte limit" in info.value.message
        with pytest.raises(TooLarge):
            await asyncio.wait_for(overview(c), 5)
    assert server.connections == 2  # the abandoned connection was closed, not reused


async def test_a_chunked_answer_over_the_cap_is_abandoned_while_it_streams() -> None:
    # 4 MB in 64 KiB chunks: the cap trips while most of it is still to come (an answer read whole before the
    # cap showed would leave its connection clean, and fit to reuse).
    chunk = b"x" * 65536
    chunked = b"%x\r\n%s\r\n" % (len(chunk), chunk) * 64 + b"0\r\n\r\n"
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    async with raw_server(lambda request: answer) as server, client_for(server.url, max_response_bytes=100_000) as c:
        with pytest.raises(TooLarge) as info:
            await overview(c)
        assert "is more, over the 100000-byte limit" in info.value.message
        with pytest.raises(TooLarge):
            await overview(c)
    assert server.connections == 2  # the abandoned connection was closed, not reused


# --- failures, as httpx2 would report them ----------------------------------------------------------------


async def test_a_drop_before_the_answer_retries_a_read_and_never_a_write() -> None:
    async with raw_server(lambda request: None) as server, client_for(server.url) as client:
        with pytest.raises(Unavailable) as read:
            await overview(client)
        reads = len(server.requests)
        with pytest.raises(Unavailable) as write:
            await client.call(SEND, "default", body={"chatId": "1@c.us", "text": "once"})
    assert "closed the connection before answering" in read.value.message
    assert reads == 3 and len(server.requests) == 4
    assert write.value.maybe_done


@pytest.mark.parametrize(
    ("operation", "path"),
    [(SEND, None), ("SessionsController_delete", None), ("ChatsController_deleteChat", {"chatId": "1@c.us"})],
)
async def test_a_write_on_a_kept_connection_that_drops_is_sent_once(operation: str, path: Any) -> None:
    # aiohttp on its own sends an idempotent request (PUT, DELETE) again when a kept connection drops: turned off.
    async with raw_server(lambda request: ok() if len(server.requests) == 1 else None) as server:
        async with client_for(server.url) as client:
            assert await overview(client) == []
            with pytest.raises(Unavailable) as info:
                body = {"chatId": "1@c.us", "text": "once"} if operation == SEND else None
                await client.call(operation, "default", path=path, body=body)
    assert len(server.requests) == 2 and info.value.maybe_done
    assert server.connections == 1  # the write went on the kept connection


async def test_an_answer_cut_short_is_a_closed_connection() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[1,2"
    async with raw_server(lambda request: answer, close_after_answer=True) as server, client_for(server.url) as c:
        with pytest.raises(Unavailable) as info:
            await c.call(SEND, "default", body={"chatId": "1@c.us", "text": "once"})
    assert "closed the connection before answering" in info.value.message and info.value.maybe_done
    assert len(server.requests) == 1


async def test_garbage_instead_of_http_is_a_protocol_error() -> None:
    async with raw_server(lambda request: b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as server, client_for(server.url) as c:
        with pytest.raises(Unavailable) as info:
            await overview(c)
    assert "closed the connection before answering" in info.value.message


async def test_a_refused_connection_was_never_sent() -> None:
    async with raw_server(lambda request: ok()) as server:
        url = server.url
    async with client_for(url) as client:
        with pytest.raises(Unavailable) as info:
            await client.call(SEND, "default", body={"chatId": "1@c.us", "text": "once"})
    assert "cannot connect to WAHA" in info.value.message and not info.value.maybe_done


@contextlib.contextmanager
def hanging_port() -> Iterator[int]:
    """A loopback port whose connects hang: its one-deep accept queue is full and nobody accepts, so the kernel
    drops further SYNs (as a firewall that drops rather than refuses)."""
    with socket.socket() as listener, contextlib.ExitStack() as stack:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        yield port


async def test_a_connect_that_hangs_is_a_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with hanging_port() as port:
        async with client_for(f"http://127.0.0.1:{port}", timeout=1) as client:
            wire = client.wire()
            assert wire is not None
            monkeypatch.setattr(wire, "_connect_timeout", 0.2)  # min(10 s, WAHA_TIMEOUT) in life; 1 s apart here
            with pytest.raises(Unavailable) as info:
                await client.call(SEND, "default", body={"chatId": "1@c.us", "text": "once"})
    # The connect timeout fires first (well before the 1 s deadline): nothing was sent.
    assert "did not answer within 1 s" in info.value.message and not info.value.maybe_done


async def test_a_slow_answer_hits_the_overall_deadline() -> None:
    async def slow(request: bytes) -> bytes:
        await asyncio.sleep(2)
        return ok()

    async with raw_server(slow) as server, client_for(server.url, timeout=0.3) as client:
        with pytest.raises(Unavailable) as info:
            await client.call(SEND, "default", body={"chatId": "1@c.us", "text": "once"})
    assert "did not answer within 0.3 s" in info.value.message and info.value.maybe_done


async def test_the_api_key_is_sent_and_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    key = os.urandom(8).hex()
    async with raw_server(lambda request: ok()) as server, client_for(server.url, key) as client:
        await overview(client)
        assert "HTTP GET /api/default/chats/overview -> 200" in caplog.text  # the DEBUG line is there, without it
    assert f"\r\nX-Api-Key: {key}\r\n".encode() in server.requests[0]
    assert key not in caplog.text
