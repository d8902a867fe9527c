"""`POST /webhooks/waha`: WAHA's webhook deliveries into the inbox.

- With WAHA_MCP_WEBHOOK_HMAC_KEY set, `X-Webhook-Hmac` must be the hex HMAC-SHA512 of the raw body
  (constant-time compare; `X-Webhook-Hmac-Algorithm`, when sent, must be sha512): otherwise 401 and
  nothing is stored. Without a key, only a loopback listener accepts deliveries (403 otherwise).
- A body over WAHA_MCP_WEBHOOK_MAX_BYTES is 413 (reading stops at the cap); malformed JSON or a body that
  is not an event envelope is 400.
- 200 only once the event is durably stored, so WAHA's own retries cover any failure here (503); a
  retried delivery (same envelope `id`, or for WAHA Core's id-less envelopes the same content digest:
  summary.derived_id) is acknowledged again and stored once.
- An envelope older than the inbox's retention is acknowledged but not stored (it would be pruned at
  once); it is counted as `stale`. Every answer is counted (`Ingest.counters`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING

from starlette.types import Receive, Scope, Send

from waha_mcp.events.summary import BadEnvelope

if TYPE_CHECKING:
    from waha_mcp.events import Events

log = logging.getLogger("waha_mcp.events")
PATH = "/webhooks/waha"
HMAC_HEADER = b"x-webhook-hmac"
ALGORITHM_HEADER = b"x-webhook-hmac-algorithm"


def signature(key: str, body: bytes) -> str:
    """What WAHA sends in `X-Webhook-Hmac`: hex HMAC-SHA512 of the raw body."""
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


class WebhookReceiver:
    """An ASGI app answering WAHA's deliveries (mounted at PATH, or alone on the stdio-mode listener)."""

    def __init__(self, events: Events, *, key: str | None, max_bytes: int, allow_unsigned: bool) -> None:
        self.events = events
        self._key = key
        self.max_bytes = max_bytes
        # No key: anyone who can reach the route could write to the inbox, so only loopback binds allow it.
        self.allow_unsigned = allow_unsigned

    @property
    def counters(self) -> Counter[str]:
        return self.events.ingest.counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        status, body = await self._handle(scope, receive)
        self.counters[f"webhook{status}"] += 1
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        if scope.get("method") != "POST":
            return 405, b'{"error":"POST WAHA webhook envelopes here"}'
        headers = dict(scope.get("headers") or [])
        if self._key is None and not self.allow_unsigned:
            return 403, b'{"error":"set WAHA_MCP_WEBHOOK_HMAC_KEY (and the same hmac.key in WAHA) to receive webhooks"}'
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return 413, b'{"error":"body too large"}'
        raw = await _read(receive, self.max_bytes)
        if raw is None:
            return 413, b'{"error":"body too large"}'
        if self._key is not None:
            given = headers.get(HMAC_HEADER, b"").strip().lower()
            algorithm = headers.get(ALGORITHM_HEADER, b"sha512").strip().lower()
            expected = signature(self._key, raw).encode()
            if algorithm != b"sha512" or not hmac.compare_digest(given, expected):
                return 401, b'{"error":"missing or wrong X-Webhook-Hmac (HMAC-SHA512 of the body)"}'
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return 400, b'{"error":"malformed JSON"}'
        events = self.events
        stamp = envelope.get("timestamp") if isinstance(envelope, dict) else None
        if isinstance(stamp, int | float) and stamp < (time.time() - events.inbox.max_age_s) * 1000:
            self.counters["stale"] += 1
            return 200, b'{"ok":true,"stored":false,"stale":true}'
        try:
            outcome = await events.ingest.accept(envelope, "webhook", raw)
        except BadEnvelope as exc:
            return 400, json.dumps({"error": str(exc)}).encode()
        except Exception as exc:  # the store failed: WAHA retries a non-2xx
            log.error("events: a webhook delivery was not stored (%s); WAHA will retry it", type(exc).__name__)
            return 503, b'{"error":"not stored; retry later"}'
        return 200, b'{"ok":true,"stored":true}' if outcome.new else b'{"ok":true,"stored":false,"duplicate":true}'


async def _read(receive: Receive, cap: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)
