"""`POST /webhooks/waha[/<secret>]`: WAHA's webhook deliveries into the inbox.

The route exists only while webhooks are the event source (WAHA_MCP_EVENTS=webhook). Who may write to the inbox:
- A delivery to `/webhooks/waha/<WAHA_MCP_WEBHOOK_SECRET>` (constant-time compare) is authenticated by its path:
  the way for a WAHA that cannot sign (Core 2024.x sends no HMAC and no X-Webhook-* headers, see `waha_signs`).
  Any other segment is 401.
- With WAHA_MCP_WEBHOOK_HMAC_KEY set, `X-Webhook-Hmac` must be the hex HMAC-SHA512 of the raw body
  (`X-Webhook-Hmac-Algorithm`, when sent, must be sha512). Both may be set: a delivery is taken when its path or
  its signature authenticates it, and a signature that is sent must be right (401 otherwise) wherever it goes.
- With neither set, only a loopback bind takes unsigned deliveries (a Core WAHA on the same host; 403 otherwise),
  and only ones no browser page can make: `Content-Type: application/json` (415 otherwise), a `Host` naming this
  loopback listener (403 otherwise: DNS rebinding).
- A request with an `Origin` header is never a WAHA delivery (WAHA posts from Node, no browser): 403, always.
Nothing refused is stored, and no answer repeats the path or a key.
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
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send

from waha_mcp.capped_read import OverLimit, check_declared, read_capped
from waha_mcp.events.summary import BadEnvelope

if TYPE_CHECKING:
    from waha_mcp.config import Settings
    from waha_mcp.events import Events

log = logging.getLogger("waha_mcp.events")
PATH = "/webhooks/waha"
HMAC_HEADER = b"x-webhook-hmac"
ALGORITHM_HEADER = b"x-webhook-hmac-algorithm"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
Answer = tuple[int, bytes]
ORIGIN_REFUSED: Answer = (
    403,
    b'{"error":"a request with an Origin header comes from a browser page, never from WAHA"}',
)
NOT_JSON: Answer = (415, b'{"error":"an unsigned delivery must be Content-Type: application/json, as WAHA sends it"}')
FOREIGN_HOST: Answer = (
    403,
    b'{"error":"an unsigned delivery must name this loopback listener in Host; for any other name give WAHA the '
    b'secret path (WAHA_MCP_WEBHOOK_SECRET)"}',
)
WRONG_PATH: Answer = (
    401,
    b'{"error":"unknown webhook path: WAHA must post to the URL waha_configure_webhooks gave it"}',
)
UNAUTHENTICATED: Answer = (
    401,
    b'{"error":"unauthenticated delivery: post to the secret path (WAHA_MCP_WEBHOOK_SECRET) or sign it with '
    b'X-Webhook-Hmac (HMAC-SHA512 of the body, WAHA_MCP_WEBHOOK_HMAC_KEY)"}',
)
BAD_SIGNATURE: Answer = (401, b'{"error":"missing or wrong X-Webhook-Hmac (HMAC-SHA512 of the body)"}')
PUBLIC_UNSIGNED: Answer = (
    403,
    b'{"error":"unsigned deliveries are taken only on a loopback bind: set WAHA_MCP_WEBHOOK_SECRET (the path '
    b'waha_configure_webhooks gives WAHA) or WAHA_MCP_WEBHOOK_HMAC_KEY"}',
)


def handles(path: str) -> bool:
    """Is `path` the webhook route (`/webhooks/waha`, or with one more segment: the secret)?"""
    return path == PATH or path.startswith(PATH + "/")


def with_secret(url: str, secret: str | None) -> str:
    """The URL WAHA should post to: `url` with the secret as its path's last segment (once; a query stays last)."""
    if not secret:
        return url
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return parts._replace(path=path if path.endswith("/" + secret) else f"{path}/{secret}").geturl()


def without_secret(url: str, secret: str | None) -> str:
    """`url` without the secret path segment (what an older set-up gave WAHA)."""
    if not secret:
        return url
    parts = urlsplit(url)
    return parts._replace(path=parts.path.rstrip("/").removesuffix("/" + secret)).geturl()


def waha_signs(tier: str, release: tuple[int, ...]) -> bool | None:
    """Does this WAHA sign webhooks with `hmac.key`? Core 2024.x: no (its public `src/core/webhooks.core.ts` posts
    with content-type and User-Agent only; BEHAVIOUR.md, checked on a 2024.10.8 server). Plus: yes (waha-docs
    how-to/events, "HMAC authentication"). Core's public source of 2026.1 signs
    (`src/core/integrations/webhooks/WebhookSender.ts`), and from 2026.6 every Plus feature is in Core. Between
    2024.12 and 2026.1 for Core: not known (None)."""
    if tier == "PLUS":
        return True
    if release and release < (2024, 12):
        return False
    if release >= (2026, 1):
        return True
    return None


def signature(key: str, body: bytes) -> str:
    """What WAHA sends in `X-Webhook-Hmac`: hex HMAC-SHA512 of the raw body."""
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


class WebhookReceiver:
    """An ASGI app answering WAHA's deliveries (mounted at PATH, or alone on the stdio-mode listener)."""

    def __init__(
        self, events: Events, *, key: str | None, max_bytes: int, loopback: bool, secret: str | None = None
    ) -> None:
        self.events = events
        self._key = key
        self._secret = secret.encode() if secret else None
        self.max_bytes = max_bytes
        # Nothing to authenticate with: anyone who can reach the route could write to the inbox, so only a
        # loopback bind takes such deliveries (a Core WAHA on the same host), and only non-browser-shaped ones.
        self.allow_unsigned = loopback and key is None and secret is None

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

    def _who(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[Answer | None, bool]:
        """A refusal, or None and whether the signature must be checked; before any of the body is read."""
        raw_headers = scope.get("headers") or []
        if any(name == b"origin" for name, _ in raw_headers):
            return ORIGIN_REFUSED, False
        rest = str(scope.get("path", "")).removeprefix(PATH)
        by_path = False
        if rest:
            given = rest.removeprefix("/").encode()
            # Compared whole and in constant time; a segment after the secret is no match.
            if self._secret is None or not hmac.compare_digest(given, self._secret):
                return WRONG_PATH, False
            by_path = True
        signed = self._key is not None and HMAC_HEADER in headers
        if by_path or signed:
            return None, signed
        if self._key is not None or self._secret is not None:
            return (BAD_SIGNATURE if self._secret is None else UNAUTHENTICATED), False
        if not self.allow_unsigned:
            return PUBLIC_UNSIGNED, False
        media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if media != b"application/json":
            return NOT_JSON, False
        if not _names_this_listener(headers.get(b"host", b""), scope.get("server")):
            return FOREIGN_HOST, False
        return None, False

    async def _handle(self, scope: Scope, receive: Receive) -> Answer:
        if scope.get("method") != "POST":
            return 405, b'{"error":"POST WAHA webhook envelopes here"}'
        headers = dict(scope.get("headers") or [])
        refused, check_signature = self._who(scope, headers)
        if refused is not None:
            return refused
        try:
            check_declared(headers.get(b"content-length"), self.max_bytes)
            raw = await read_capped(_body(receive), self.max_bytes)
        except OverLimit:
            return 413, b'{"error":"body too large"}'
        if check_signature:
            assert self._key is not None
            given = headers.get(HMAC_HEADER, b"").strip().lower()
            algorithm = headers.get(ALGORITHM_HEADER, b"sha512").strip().lower()
            expected = signature(self._key, raw).encode()
            if algorithm != b"sha512" or not hmac.compare_digest(given, expected):
                return BAD_SIGNATURE
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


def receiver_for(settings: Settings, events: Events, bind: str) -> WebhookReceiver:
    """The receiver for a listener bound to `bind` (WAHA_MCP_HOST, or WAHA_MCP_WEBHOOK_HOST in stdio mode)."""
    from waha_mcp.config import is_loopback

    return WebhookReceiver(
        events,
        key=settings.hmac_key,
        secret=settings.path_secret,
        max_bytes=settings.webhook_max_bytes,
        loopback=is_loopback(bind),
    )


def _names_this_listener(host: bytes, server: Any) -> bool:
    """Does a `Host` header name this loopback listener: a loopback name, and the port it listens on (when known)?
    A page whose name was rebound to 127.0.0.1 still sends its own name."""
    text = host.decode("latin-1").strip().lower()
    if text.startswith("["):
        inside, _, rest = text.partition("]")
        name, port = inside + "]", rest.removeprefix(":")
    else:
        name, _, port = text.partition(":")
    if name not in LOOPBACK_NAMES or (port and not port.isdigit()):
        return False
    listening = server[1] if isinstance(server, tuple | list) and len(server) > 1 else None
    return listening is None or (int(port) if port else 80) == int(listening)


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    """An ASGI request's body, chunk by chunk, until its end (or the client's going)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        yield message.get("body", b"")
        if not message.get("more_body"):
            return
