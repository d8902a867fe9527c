"""`WAHAEnvironment`: what the server version route answers and every event envelope carries."""

from __future__ import annotations

import platform
from typing import Any

VERSION = "2026.9.1"  # the WAHA the `current` profile plays (the vendored document and its supplement)
BROWSER = "waha-mcp sandbox (not WhatsApp)"


def environment() -> dict[str, Any]:
    return {
        "version": VERSION,
        "engine": "NOWEB",
        "tier": "PLUS",
        "browser": BROWSER,
        "platform": f"{platform.system().lower()}/{platform.machine()}",
        "worker": {"id": "waha-mcp-sandbox"},
        "sandbox": True,
    }
