"""The sandbox in a process of its own, for tests that time what WAHA receives: a test process busy with its own
clients would delay the arrival times a sandbox thread records (the GIL, a loaded machine's scheduling).

    python -m tests.e2e.sandbox_proc PORT LOG

serves on 127.0.0.1:PORT and appends one JSON line per `POST /api/sendText` to LOG as it arrives:
`{"session", "chatId", "text", "t"}` (`t`: time.time()).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import uvicorn

from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.app import RecordedRequest
from waha_mcp.sandbox.runner import make_config


def main() -> None:
    port, log = int(sys.argv[1]), Path(sys.argv[2])
    sandbox = Sandbox(sessions=2)
    out = log.open("a", buffering=1)

    def hook(request: RecordedRequest) -> None:
        if request.path == "/api/sendText":
            body = request.json
            out.write(json.dumps({"session": body.get("session"), "chatId": body.get("chatId"),
                                  "text": body.get("text"), "t": time.time()}) + "\n")  # fmt: skip

    sandbox.on_request.append(hook)
    uvicorn.Server(make_config(sandbox, "127.0.0.1", port, log_level="warning")).run()


if __name__ == "__main__":
    main()
