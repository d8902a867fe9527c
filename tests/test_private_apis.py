"""Each private API of a library that the code reaches into, pinned: an upgrade that renames or drops one fails
here, by name, instead of somewhere far from the cause (issue 23). The behaviour built on each is tested where
it is used; these only say that what we reach for is still there, with the shape we call it with."""

from __future__ import annotations

import inspect

import httpx2
import pytest
from mcp.server.mcpserver import MCPServer


def _has_methods(cls: type, *names: str) -> None:
    missing = [name for name in names if not callable(getattr(cls, name, None))]
    assert not missing, f"{cls.__module__}.{cls.__qualname__} no longer has {', '.join(missing)}"


async def test_httpx2_transport_for_url() -> None:
    """client/_http.py: the transport httpx2 would use for a URL (its proxy and mounts honoured)."""
    async with httpx2.AsyncClient() as client:
        transport = client._transport_for_url(httpx2.URL("http://127.0.0.1:3000/api/sessions"))
        assert isinstance(transport, httpx2.AsyncBaseTransport)


def test_mcp_otel_middleware() -> None:
    """server.py: the SDK's OpenTelemetry middleware, left out of waha-mcp's pipeline."""
    from mcp.server._otel import OpenTelemetryMiddleware

    assert inspect.isclass(OpenTelemetryMiddleware)


def test_mcp_lowlevel_server_request_handlers() -> None:
    """resources.py: the legacy resources/subscribe handlers go on the low-level server (no public hook)."""
    server = MCPServer("pin")
    low = server._lowlevel_server
    assert callable(low.add_request_handler)
    assert list(inspect.signature(low.add_request_handler).parameters)[:3] == ["method", "params_type", "handler"]


def test_mcp_context_streams() -> None:
    """stdio.py: the SDK's context-carrying memory streams, for the event-loop stdio transport."""
    from mcp.shared._context_streams import ContextReceiveStream, ContextSendStream, create_context_streams

    send, receive = create_context_streams[int](0)
    assert isinstance(send, ContextSendStream) and isinstance(receive, ContextReceiveStream)


def test_mcp_server_session_connection() -> None:
    """resources.py: a request's client connection, kept on the SDK's server session (public or private)."""
    from mcp.server.session import ServerSession

    source = inspect.getsource(ServerSession)
    assert "connection" in source and ("self._connection" in source or "def connection" in source)


def test_uvicorn_h11_protocol_internals() -> None:
    """http_limits.py: the head deadline and head cap hook into uvicorn's h11 protocol."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    _has_methods(H11Protocol, "connection_made", "connection_lost", "on_response_complete", "data_received")
    _has_methods(H11Protocol, "handle_events")
    source = inspect.getsource(H11Protocol)
    for attribute in ("self.conn", "self.transport", "self.loop", "self.timeout_keep_alive"):
        assert attribute in source, f"uvicorn's H11Protocol no longer sets {attribute}"


def test_uvicorn_httptools_protocol_internals() -> None:
    """http_httptools.py: the same limits on uvicorn's httptools protocol, through its parser callbacks."""
    pytest.importorskip("httptools")
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    _has_methods(HttpToolsProtocol, "connection_made", "connection_lost", "on_response_complete", "data_received")
    _has_methods(HttpToolsProtocol, "on_message_begin", "on_url", "on_header", "on_headers_complete")
    _has_methods(HttpToolsProtocol, "on_message_complete", "send_400_response")


async def test_aiohttp_retry_connection() -> None:
    """client/wire.py: aiohttp's own resend of an idempotent request (PUT, DELETE) on a dropped kept connection,
    turned off so that no write is sent twice (the behaviour: tests/client/test_wire.py)."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        assert session._retry_connection is True
    source = inspect.getsource(aiohttp.ClientSession._request)
    assert "self._retry_connection and method in IDEMPOTENT_METHODS" in source
