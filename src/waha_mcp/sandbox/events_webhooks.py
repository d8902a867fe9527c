"""Signed webhook delivery from the sandbox, as WAHA does it, for every logged event.

For each of the session's `config.webhooks[]` whose `events` include the event (or `*`): a POST of the
envelope with `X-Webhook-Request-Id`, `X-Webhook-Timestamp` (ms) and, with `hmac.key`, `X-Webhook-Hmac`
(hex HMAC-SHA512 of the raw body) and `X-Webhook-Hmac-Algorithm: sha512`. A non-2xx answer or a
connection failure is retried `retries.attempts` times, `retries.delaySeconds` apart (`delay_scale`
shrinks the waits in tests). Every attempt is kept in `attempts` for tests to read. Like everything in the
sandbox, nothing leaves the machine: only loopback URLs (127.0.0.1, ::1, localhost) get deliveries.

A profile that does not sign (Core 2024.10, src/core/webhooks.core.ts `WebhookSenderCore`) posts the envelope
without id or timestamp, once, with only `Content-Type` and `User-Agent: WAHA/<version>`: no `X-Webhook-*`
headers, no HMAC, no custom headers, no retries (the config's `hmac`, `retries` and `customHeaders` are kept
but unused).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2

if TYPE_CHECKING:
    from .app import Sandbox

log = logging.getLogger("waha_mcp.sandbox")
DEFAULT_ATTEMPTS = 3
DEFAULT_DELAY = 2.0


@dataclass
class Attempt:
    url: str
    event_id: str
    status: int | None  # None: no answer (connection failed)


@dataclass
class WebhookDelivery:
    sandbox: Sandbox
    delay_scale: float = 1.0
    attempts: list[Attempt] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _client: httpx2.AsyncClient | None = None

    def on_event(self, record: dict[str, Any]) -> None:
        session = self.sandbox.sessions.get(record["session"])
        hooks = (session.config.get("webhooks") if session is not None else None) or []
        for hook in hooks:
            if not isinstance(hook, dict) or not hook.get("url"):
                continue
            if not _local(str(hook["url"])):
                continue  # the sandbox never reaches out: only this machine's listeners get deliveries
            events = hook.get("events") or []
            if "*" not in events and record["event"] not in events:
                continue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # logged outside a running server (a direct model call): nobody to deliver to
            task = loop.create_task(self._deliver(hook, record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, hook: dict[str, Any], record: dict[str, Any]) -> None:
        profile = self.sandbox.profile
        body = json.dumps(profile.wire(record), ensure_ascii=False, separators=(",", ":")).encode()
        if not profile.signs_webhooks:
            plain = {"Content-Type": "application/json", "User-Agent": f"WAHA/{profile.version}"}
            await self._post(hook, record, body, plain, attempts=1, delay=0.0, policy="constant")
            return
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Request-Id": secrets.token_hex(8),
            "X-Webhook-Timestamp": str(int(time.time() * 1000)),
        }
        key = (hook.get("hmac") or {}).get("key") if isinstance(hook.get("hmac"), dict) else None
        if key:
            headers["X-Webhook-Hmac"] = hmac.new(str(key).encode(), body, hashlib.sha512).hexdigest()
            headers["X-Webhook-Hmac-Algorithm"] = "sha512"
        for extra in hook.get("customHeaders") or []:
            if isinstance(extra, dict) and extra.get("name"):
                headers[str(extra["name"])] = str(extra.get("value") or "")
        retries: dict[str, Any] = hook["retries"] if isinstance(hook.get("retries"), dict) else {}
        attempts = max(1, int(retries.get("attempts") or DEFAULT_ATTEMPTS))
        told = retries.get("delaySeconds")
        delay = float(told if told is not None else DEFAULT_DELAY)
        policy = retries.get("policy") or "constant"
        await self._post(hook, record, body, headers, attempts=attempts, delay=delay, policy=policy)

    async def _post(
        self,
        hook: dict[str, Any],
        record: dict[str, Any],
        body: bytes,
        headers: dict[str, str],
        *,
        attempts: int,
        delay: float,
        policy: str,
    ) -> None:
        if self._client is None:
            self._client = httpx2.AsyncClient(timeout=httpx2.Timeout(10, connect=2))
        for n in range(attempts):
            status: int | None = None
            try:
                response = await self._client.post(str(hook["url"]), content=body, headers=headers)
                status = response.status_code
            except httpx2.HTTPError:
                pass
            self.attempts.append(Attempt(str(hook["url"]), record["id"], status))
            if status is not None and 200 <= status < 300:
                return
            if n + 1 < attempts:
                wait = delay * (2**n if policy == "exponential" else n + 1 if policy == "linear" else 1)
                await asyncio.sleep(wait * self.delay_scale)
        log.info("sandbox: webhook %s for %s gave up after %d attempts", record["event"], record["id"], attempts)

    async def drain(self) -> None:
        """Wait for every delivery in progress (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")
