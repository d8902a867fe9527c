"""MCP over stdio on the event loop itself: the SDK's stdio transport reads, writes and flushes through worker
threads (a thread hop each way per message); here the pipes are read and written by the loop, and the SDK's
server loop is fed the same `SessionMessage` streams.

Only for pipes and sockets (what an MCP client spawns us with); anything else (a terminal, a file, Windows)
goes through the SDK's transport (`usable()` decides). As in the SDK, while serving fd 0 reads the null device
and fd 1 writes to stderr, so a stray `print` or a child process cannot corrupt the protocol; both are
restored on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
from mcp.shared._context_streams import ContextReceiveStream, ContextSendStream, create_context_streams
from mcp.shared.message import SessionMessage

# A line (one JSON-RPC message) may carry base64 media far larger than asyncio's 64 KiB default.
MAX_LINE = 1 << 31


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def usable(stdin_fd: int = 0, stdout_fd: int = 1) -> bool:
    """Both ends are pipes or sockets on a POSIX system, and the running loop is asyncio's (or uvloop)."""
    if sys.platform == "win32" or not (_is_pipe(stdin_fd) and _is_pipe(stdout_fd)):
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Diverted:
    """fd 0 and fd 1 moved aside: the transport keeps private duplicates, the numbers point elsewhere."""

    def __init__(self, stdin_fd: int, stdout_fd: int) -> None:
        self.fds = (stdin_fd, stdout_fd)
        self.wire_in = fcntl.fcntl(stdin_fd, fcntl.F_DUPFD_CLOEXEC, 3)
        self.wire_out = fcntl.fcntl(stdout_fd, fcntl.F_DUPFD_CLOEXEC, 3)
        # Kept to restore the numbers afterwards: the transports close wire_in / wire_out.
        self._saved = (os.dup(stdin_fd), os.dup(stdout_fd))
        null = os.open(os.devnull, os.O_RDONLY)
        try:
            os.dup2(null, stdin_fd)
        finally:
            os.close(null)
        os.dup2(2, stdout_fd)

    def restore(self) -> None:
        for fd, saved in zip(self.fds, self._saved, strict=True):
            with contextlib.suppress(OSError):
                os.dup2(saved, fd)
                # asyncio made the shared file description non-blocking; whoever reads it next expects blocking.
                os.set_blocking(fd, True)
            with contextlib.suppress(OSError):
                os.close(saved)


@asynccontextmanager
async def loop_stdio(
    stdin_fd: int = 0, stdout_fd: int = 1
) -> AsyncIterator[tuple[ContextReceiveStream[SessionMessage | Exception], ContextSendStream[SessionMessage]]]:
    """The (read, write) streams `Server.run` takes, served from `stdin_fd` / `stdout_fd` on the running loop."""
    loop = asyncio.get_running_loop()
    diverted = _Diverted(stdin_fd, stdout_fd)
    read_transport: asyncio.BaseTransport | None = None
    write_transport: asyncio.WriteTransport | None = None
    try:
        reader = asyncio.StreamReader(limit=MAX_LINE)
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(diverted.wire_in, "rb", buffering=0)
        )
        write_transport, protocol = await loop.connect_write_pipe(
            _WriteProtocol, os.fdopen(diverted.wire_out, "wb", buffering=0)
        )
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)

        read_send, read_receive = create_context_streams[SessionMessage | Exception](0)
        write_send, write_receive = create_context_streams[SessionMessage](0)

        async def read_lines() -> None:
            async with read_send:
                while True:
                    try:
                        line = await reader.readline()
                    except (ValueError, OSError):  # a line over MAX_LINE, or the pipe failed: the client is gone
                        return
                    if not line:
                        return
                    # As the SDK's transport: decoded leniently, a bad line is handed on as an error.
                    try:
                        message = types.jsonrpc_message_adapter.validate_json(
                            line.decode("utf-8", "replace"), by_name=False
                        )
                    except Exception as exc:
                        await read_send.send(exc)
                        continue
                    await read_send.send(SessionMessage(message))

        async def write_lines(scope: anyio.CancelScope) -> None:
            async with write_receive:
                async for session_message in write_receive:
                    data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    try:
                        if writer.transport.is_closing():
                            raise ConnectionResetError
                        writer.write(data.encode() + b"\n")
                        await writer.drain()
                    except (OSError, RuntimeError):  # the client closed our stdout (uvloop: RuntimeError)
                        scope.cancel()  # nobody is left to answer
                        return

        async with anyio.create_task_group() as group:
            group.start_soon(read_lines)
            group.start_soon(write_lines, group.cancel_scope)
            yield read_receive, write_send
            group.cancel_scope.cancel()
    finally:
        if write_transport is not None:
            with contextlib.suppress(Exception):
                # What is still buffered goes out before the pipe closes (bounded: a stuck reader cannot hold us).
                with anyio.move_on_after(5, shield=True):
                    while write_transport.get_write_buffer_size() and not write_transport.is_closing():
                        await asyncio.sleep(0.005)
            write_transport.close()
        if read_transport is not None:
            read_transport.close()
        diverted.restore()


class _WriteProtocol(asyncio.streams.FlowControlMixin, asyncio.Protocol):
    """Flow control for the write pipe (`drain` waits while the client is not reading)."""

    def __init__(self) -> None:
        super().__init__()
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self._closed.done():
            self._closed.set_result(None)

    def _get_close_waiter(self, stream: Any) -> asyncio.Future[None]:
        return self._closed
