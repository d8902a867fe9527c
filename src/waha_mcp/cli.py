"""`waha-mcp` entry points: serve (stdio / HTTP), tools, call, doctor, sandbox, coverage."""

from __future__ import annotations

import argparse
import errno
import importlib.util
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio

from waha_mcp import __version__, heap
from waha_mcp.config import ConfigError, Settings, is_loopback, load_settings

SANDBOX_BANNER = "waha-mcp: SANDBOX mode: the built-in WAHA emulator answers, not WhatsApp; nothing is sent."


def _common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a flag given before the subcommand is not reset by the subcommand's own default.
    parser.argument_default = argparse.SUPPRESS
    parser.add_argument("--base-url", dest="WAHA_BASE_URL", help="WAHA URL (env WAHA_BASE_URL)")
    parser.add_argument("--session", dest="WAHA_SESSION", help="default session (env WAHA_SESSION)")
    parser.add_argument("--timeout", dest="WAHA_TIMEOUT", type=float, help="WAHA timeout, seconds")
    parser.add_argument("--toolsets", dest="WAHA_TOOLSETS", help="comma-separated toolsets, or 'all'")
    parser.add_argument("--tools", dest="WAHA_TOOLS", help="comma-separated tool names")
    parser.add_argument(
        "--read-only",
        dest="WAHA_READ_ONLY",
        action="store_const",
        const=True,
        help="expose read tools only (env WAHA_READ_ONLY)",
    )
    parser.add_argument(
        "--sandbox",
        dest="WAHA_MCP_SANDBOX",
        action="store_const",
        const=True,
        help="use the built-in WAHA emulator instead of a real WAHA",
    )
    parser.add_argument(
        "--sandbox-profile",
        dest="WAHA_MCP_SANDBOX_PROFILE",
        help="which WAHA the emulator plays: current (default), plus-2026.7 or core-2024.10 "
        "(env WAHA_MCP_SANDBOX_PROFILE)",
    )
    parser.add_argument(
        "--sandbox-servers",
        dest="WAHA_MCP_SANDBOX_SERVERS",
        help="the emulator plays a fleet, one WAHA per entry: [name=]profile[:latency], e.g. "
        "current,current:50ms,core-2024.10 (servers a, b, c; env WAHA_MCP_SANDBOX_SERVERS)",
    )
    parser.add_argument(
        "--log-level", dest="WAHA_MCP_LOG_LEVEL", help="DEBUG, INFO, WARNING (default) or ERROR, on stderr"
    )
    parser.argument_default = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="waha-mcp", description="MCP server for the WAHA WhatsApp HTTP API")
    parser.add_argument("--version", action="version", version=f"waha-mcp {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    _common(serve)
    serve.add_argument("--http", action="store_true", help="Streamable HTTP instead of stdio")
    serve.add_argument(
        "--host", dest="WAHA_MCP_HOST", default=argparse.SUPPRESS, help="HTTP address (env WAHA_MCP_HOST)"
    )
    serve.add_argument(
        "--port", dest="WAHA_MCP_PORT", type=int, default=argparse.SUPPRESS, help="HTTP port (env WAHA_MCP_PORT)"
    )
    serve.add_argument(
        "--stateless",
        dest="WAHA_MCP_STATELESS",
        action="store_const",
        const=True,
        default=argparse.SUPPRESS,
        help="stateless Streamable HTTP, for replicas behind a load balancer (env WAHA_MCP_STATELESS)",
    )

    tools = sub.add_parser("tools", help="list the tools the model would see")
    _common(tools)
    tools.add_argument("--markdown", action="store_true", help="the tool reference in Markdown")
    tools.add_argument("--json", action="store_true", help="the tools/list JSON")
    tools.add_argument("--readme", action="store_true", help="the README's toolset table")

    call = sub.add_parser("call", help="call one tool: waha-mcp call TOOL '{json}'")
    _common(call)
    call.add_argument("tool")
    call.add_argument("arguments", nargs="?", default="{}")

    doctor = sub.add_parser("doctor", help="check WAHA: reachable, key, version, sessions")
    _common(doctor)

    box = sub.add_parser("sandbox", help="run the WAHA emulator as a standalone server")
    box.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    box.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    box.add_argument("--api-key", default=None, help="the X-Api-Key it requires (default: none)")
    box.add_argument("--sessions", type=int, default=2, help="sessions it starts with (default 2; per server)")
    box.add_argument(
        "--sandbox-servers",
        default=None,
        help="a fleet, one emulator per entry on ports --port, --port+1, ...: [name=]profile[:latency], e.g. "
        "current,current:50ms,core-2024.10; prints the WAHA_SERVERS line to use (env WAHA_MCP_SANDBOX_SERVERS)",
    )
    box.add_argument(
        "--profile",
        default=None,
        help="which WAHA to play: current (default), plus-2026.7 or core-2024.10 (env WAHA_MCP_SANDBOX_PROFILE)",
    )
    box.add_argument(
        "--time-factor",
        type=float,
        default=None,
        help="multiplies the profile's waits; 1 = real time (env WAHA_MCP_SANDBOX_TIME_FACTOR)",
    )

    cov = sub.add_parser("coverage", help="which WAHA operations the tools reach")
    cov.add_argument("--markdown", action="store_true", help="as a Markdown table")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {key: value for key, value in vars(args).items() if key.isupper() and value is not None}


def _settings(args: argparse.Namespace, *, need_url: bool = True) -> Settings:
    overrides = _overrides(args)
    if not need_url:
        overrides.setdefault("WAHA_BASE_URL", "http://127.0.0.1:3000")
    return load_settings(**overrides)


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(stream=sys.stderr, level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")


def _stand_ins(settings: Settings) -> dict[str, Any]:
    """In sandbox mode, the embedded emulators standing in for WAHA, as `build_server`'s keyword: `transport` for
    the one-server sandbox, `transports` by server name for a fleet (`--sandbox-servers`); else none."""
    if not settings.sandbox:
        return {}
    from waha_mcp.sandbox import Sandbox, sandbox_transport

    last = (
        "Its world lasts as long as this process: for a client that starts one process per call, run "
        "`waha-mcp serve --http --sandbox` or `waha-mcp sandbox`."
    )
    if settings.sandbox_fleet:
        from waha_mcp.sandbox.fleet import build_fleet, describe

        fleet = build_fleet(settings.sandbox_fleet, api_key=settings.api_key, time_factor=settings.sandbox_time_factor)
        plays = "; ".join(describe(name, sandbox) for name, sandbox in fleet.items())
        print(
            f"{SANDBOX_BANNER} It plays a fleet of {len(fleet)} WAHA servers, each with its own sessions: {plays}. "
            f"Tools find each session on its server; waha_list_sessions shows which. {last}",
            file=sys.stderr,
        )
        return {"transports": {name: sandbox_transport(sandbox) for name, sandbox in fleet.items()}}
    sandbox = Sandbox(
        api_key=settings.api_key,
        sessions=2,
        profile=settings.sandbox_profile,
        time_factor=settings.sandbox_time_factor,
    )
    print(f"{SANDBOX_BANNER} It plays {sandbox.profile.summary}. {last}", file=sys.stderr)
    return {"transport": sandbox_transport(sandbox)}


def _warn_insecure(settings: Settings) -> None:
    """A WAHA off this machine reached with no key: one line per such server, naming it (never its URL's password)."""
    if settings.sandbox:
        return
    several = len(settings.servers) > 1
    for server in settings.servers:
        if server.api_key or is_loopback(urlsplit(server.url).hostname or ""):
            continue
        where = f"server '{server.name}' ({server.shown})" if several else server.shown
        unset = "no api_key in its entry and WAHA_API_KEY is unset" if several else "WAHA_API_KEY is unset"
        print(f"waha-mcp: warning: WAHA at {where} is not on this machine and {unset}", file=sys.stderr)


def _sandbox_defaults(settings: Settings) -> Settings:
    if settings.sandbox and settings.waha_session is None:
        return settings.model_copy(update={"waha_session": "default"})
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    from waha_mcp.server import build_server

    settings = _sandbox_defaults(_settings(args))
    _setup_logging(settings)
    _warn_insecure(settings)
    if getattr(args, "http", False):
        from waha_mcp.http_app import build_http_app, check_http_settings, uvicorn_options

        check_http_settings(settings)
        listening = _listen(settings.http_host, settings.http_port)
        server = build_server(settings, **_stand_ins(settings))
        server.store()  # opened now: a store that cannot be used is one line and exit 2, before serving
        app = build_http_app(server, settings)
        import uvicorn

        heap.settle()
        port = listening.getsockname()[1]
        print(f"waha-mcp: Streamable HTTP on http://{settings.http_host}:{port}/mcp", file=sys.stderr)
        uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings))).run(sockets=[listening])
        return 0
    server = build_server(settings, **_stand_ins(settings))
    server.store()  # opened now: a store that cannot be used is one line and exit 2, not a broken pipe
    heap.settle()
    if sys.stdin.isatty():
        # Typed at a shell: the MCP protocol is what it waits for, which a person would not guess from silence.
        print(
            "waha-mcp: waiting for an MCP client on stdin (JSON-RPC), not a person: add it to your MCP client's "
            "config, or run `waha-mcp serve --http` for a URL; Ctrl-C quits",
            file=sys.stderr,
        )
    # SIGTERM ends the process like stdin EOF does, exit 0. os._exit because the SDK's stdin reader
    # thread would otherwise hold interpreter shutdown until stdin closes.
    signal.signal(signal.SIGTERM, _exit_now)
    # Ctrl-C in a terminal: the same quiet exit (130, as shells report an interrupt), no traceback, no hang.
    signal.signal(signal.SIGINT, _interrupted)

    async def stdio() -> None:
        from waha_mcp.events.background import running

        async with running(server, listener=True):
            await server.run_stdio_async()

    try:
        anyio.run(stdio, backend_options=event_loop_options())
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """The HTTP server's socket, bound before anything is announced: a port in use is one clear line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        raise ConfigError(f"port {port} on {host} {why}: choose another with --port or WAHA_MCP_PORT") from None
    sock.set_inheritable(True)
    return sock


def event_loop_options() -> dict[str, Any]:
    """uvloop when it is installed (a dependency where the platform has it), found without importing it; else
    asyncio's own loop."""
    return {"use_uvloop": True} if importlib.util.find_spec("uvloop") is not None else {}


def _exit_now(*_: object) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _interrupted(*_: object) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def cmd_tools(args: argparse.Namespace) -> int:
    from waha_mcp.docs import tools_json, tools_markdown, tools_text, toolsets_markdown
    from waha_mcp.tools.registry import all_tools, select_for

    settings = _settings(args, need_url=False)
    specs = select_for(settings)
    if args.readme:
        print(toolsets_markdown(all_tools()))
    elif args.markdown:
        print(tools_markdown(specs))
    elif args.json:
        print(json.dumps(tools_json(settings, specs), separators=(",", ":")))
    else:
        print(tools_text(settings, specs))
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    try:
        arguments = json.loads(args.arguments)
    except ValueError as exc:
        raise ConfigError(f"arguments must be a JSON object: {exc}") from None
    if not isinstance(arguments, dict):
        raise ConfigError("arguments must be a JSON object")
    settings = _sandbox_defaults(_settings(args))
    _setup_logging(settings)
    from mcp import Client

    from waha_mcp.server import build_server

    server = build_server(settings, **_stand_ins(settings))
    server.store()

    async def run() -> bool:
        async with Client(server, mode="legacy") as client:
            result = await client.call_tool(args.tool, arguments)
        for block in result.content:
            if block.type == "text":
                print(block.text)
            else:
                print(json.dumps({"content": block.type, "mimeType": getattr(block, "mime_type", None)}))
        return bool(result.is_error)

    try:
        return 1 if anyio.run(run) else 0
    finally:
        server.close()


def cmd_doctor(args: argparse.Namespace) -> int:
    from waha_mcp.doctor import run_doctor

    settings = _sandbox_defaults(_settings(args))
    stand_ins = _stand_ins(settings)
    return anyio.run(run_doctor, settings, stand_ins.get("transport"), stand_ins.get("transports"))


def cmd_sandbox(args: argparse.Namespace) -> int:
    from waha_mcp.sandbox import serve
    from waha_mcp.sandbox.profiles import get_profile

    try:
        profile = get_profile(args.profile or os.environ.get("WAHA_MCP_SANDBOX_PROFILE"))
        factor = args.time_factor
        if factor is None:
            factor = float(os.environ.get("WAHA_MCP_SANDBOX_TIME_FACTOR") or 1.0)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not 0 <= factor <= 10:
        raise ConfigError(f"--time-factor must be between 0 and 10, not {factor:g}")
    fleet = args.sandbox_servers or os.environ.get("WAHA_MCP_SANDBOX_SERVERS")
    if fleet and fleet.strip():
        _serve_fleet(args, fleet, factor)
        return 0
    serve(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        sessions=args.sessions,
        profile=profile.name,
        time_factor=factor,
    )
    return 0


def _serve_fleet(args: argparse.Namespace, fleet: str, factor: float) -> None:
    from waha_mcp.sandbox.runner import serve_fleet
    from waha_mcp.servers import ServersError, parse_sandbox_servers

    try:
        entries = parse_sandbox_servers(fleet)
    except ServersError as exc:
        raise ConfigError(f"--sandbox-servers: {exc}") from None
    try:
        serve_fleet(entries, args.host, args.port, args.api_key, args.sessions, time_factor=factor)
    except OSError as exc:
        ports = f"{args.port} to {args.port + len(entries) - 1}" if args.port else "ephemeral ports"
        raise ConfigError(
            f"ports {ports} on {args.host} cannot all be used ({exc.strerror or exc}): choose another --port "
            "(or 0 for any free ones)"
        ) from None


def cmd_coverage(args: argparse.Namespace) -> int:
    from waha_mcp.openapi.coverage import coverage_report
    from waha_mcp.tools.registry import all_tools

    report = coverage_report({spec.name: spec.operations for spec in all_tools()})
    print(report.markdown() if args.markdown else report.text())
    return 0


COMMANDS = {
    None: cmd_serve,
    "serve": cmd_serve,
    "tools": cmd_tools,
    "call": cmd_call,
    "doctor": cmd_doctor,
    "sandbox": cmd_sandbox,
    "coverage": cmd_coverage,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return code
    except ConfigError as exc:
        print(f"waha-mcp: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`waha-mcp tools | head -1`): what is still buffered goes nowhere, quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a process ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
