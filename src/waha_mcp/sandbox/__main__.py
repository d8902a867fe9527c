"""`python -m waha_mcp.sandbox`: run the WAHA emulator (not WhatsApp) under uvicorn."""

from __future__ import annotations

import argparse
import os

from .runner import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m waha_mcp.sandbox", description="WAHA HTTP API emulator for trying waha-mcp without WhatsApp."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--api-key", default=os.environ.get("WAHA_SANDBOX_API_KEY"))
    parser.add_argument("--sessions", type=int, default=2, help="paired sessions to seed (default 2)")
    parser.add_argument("--profile", default=os.environ.get("WAHA_MCP_SANDBOX_PROFILE") or "current")
    parser.add_argument("--time-factor", type=float, default=1.0)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.api_key, args.sessions, profile=args.profile, time_factor=args.time_factor)


if __name__ == "__main__":
    main()
