"""Sandbox sessions and their lifecycle: STOPPED → STARTING → SCAN_QR_CODE → WORKING, or FAILED.

Pairing by passkey (WAHA 2026.7): PASSKEY_REQUIRED (a WebAuthn challenge to sign) → WORKING, or through
PASSKEY_CONFIRMATION_REQUIRED (a code to compare with the phone) when WhatsApp asks for it. A test
forces PASSKEY_REQUIRED with `Sandbox.set_status`.

A started session stays STARTING for the request that started it and moves on at the next request
(to WORKING when it is already paired, else SCAN_QR_CODE), so clients really see the transition.
A status forced by a test (`Sandbox.set_status`) is held: it does not move on by itself.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .eventlog import EventLog
from .render import render_ack, render_event
from .world import Ack, Message, World

STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED = "STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"
PASSKEY_REQUIRED, PASSKEY_CONFIRMATION_REQUIRED = "PASSKEY_REQUIRED", "PASSKEY_CONFIRMATION_REQUIRED"
STATUSES = (STOPPED, STARTING, SCAN_QR_CODE, PASSKEY_REQUIRED, PASSKEY_CONFIRMATION_REQUIRED, WORKING, FAILED)
RUNNING = (STARTING, SCAN_QR_CODE, PASSKEY_REQUIRED, PASSKEY_CONFIRMATION_REQUIRED, WORKING, FAILED)
PASSKEY_ORIGIN, PASSKEY_RP = "https://web.whatsapp.com", "web.whatsapp.com"
PUSH_NAME = "Sandbox Bot (not WhatsApp)"
# WAHA (WEBJS) rejects other characters; we apply the rule to every engine.
SESSION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,54}$")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SandboxSession:
    name: str
    seed: int
    config: dict[str, Any] = field(default_factory=dict)
    apps: list[Any] | None = None
    status: str = STOPPED
    me: dict[str, Any] | None = None
    world: World | None = None
    held: bool = False
    start_seq: int = 0
    # How long STARTING lasts (seconds, time factor applied) when the profile says; None: until the next request.
    starting_seconds: float | None = None
    started_at: float = 0.0  # time.monotonic() of the last start
    pairing_phone: str | None = None
    pairing_code: str | None = None
    qr_count: int = 0
    activity_ms: int | None = None
    log: EventLog | None = field(default=None, repr=False)  # where this session's events go
    statuses: list[dict[str, Any]] = field(default_factory=list)  # recent SessionStatusPoint history
    # WhatsApp's reach-out timelock (error 463): {isActive, timeEnforcementEnds (unix s), enforcementType}, once
    # WhatsApp has reported one for this account (`Sandbox.timelock`); WAHA 2026.7.2 shows it in `data`.
    reachout: dict[str, Any] | None = None

    # --- identity -------------------------------------------------------------------------------
    def digest(self, salt: str) -> bytes:
        return hashlib.sha256(f"{self.seed}:{self.name}:{salt}".encode()).digest()

    def default_phone(self) -> str:
        n = int.from_bytes(self.digest("phone")[:4], "big")
        return f"1{['202', '303', '415', '617'][n % 4]}5550{100 + n % 900:03d}"

    def qr_value(self) -> str:
        """What a WhatsApp pairing QR encodes: `2@ref,noise key,identity key,adv secret` (shortened)."""
        import base64

        ref = base64.b64encode(self.digest(f"ref{self.qr_count}")[:18]).decode()
        return f"2@{ref},waha-mcp-sandbox-not-WhatsApp,{self.name[:12]}"

    def passkey_challenge(self) -> dict[str, Any]:
        """`PasskeyChallenge`: the WebAuthn request options WhatsApp sends for this pairing attempt."""
        import base64

        def b64url(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        credential = {"id": b64url(self.digest("credential")[:16]), "type": "public-key"}
        return {
            "challenge": b64url(self.digest(f"passkey{self.qr_count}")),
            "timeout": 60000,
            "rpId": PASSKEY_RP,
            "allowCredentials": [credential | {"transports": ["internal", "hybrid"]}],
            "userVerification": "required",
        }

    def passkey_code(self) -> str:
        """The confirmation code WhatsApp shows on the phone (PASSKEY_CONFIRMATION_REQUIRED)."""
        return f"{int.from_bytes(self.digest(f'confirm{self.qr_count}')[:4], 'big') % 10000:04d}"

    # --- events -----------------------------------------------------------------------------------
    def announce(self, event: str, subject: Any) -> None:
        """Log one event; `Message`s in the payload (or as the payload) are rendered as `WAMessage`."""
        if self.log is None:
            return
        me_id = self.world.me_id if self.world else ""
        base_url = self.log.base_url

        engine = self.log.engine

        def render(value: Any) -> Any:
            if isinstance(value, Message):
                return render_event(value, me_id, engine, session=self.name, base_url=base_url)
            if isinstance(value, Ack):
                return render_ack(value, me_id, engine)
            return value

        payload = render(subject)
        if isinstance(payload, dict):
            payload = {key: render(value) for key, value in payload.items()}
        self.log.append(self.name, event, payload, metadata=self.config.get("metadata"), me=self.me)

    def become(self, status: str) -> None:
        """Change status; a change is a `session.status` event."""
        if status == self.status:
            return
        self.status = status
        self.statuses = [*self.statuses, {"status": status, "timestamp": now_ms()}][-10:]
        self.announce("session.status", {"name": self.name, "status": status, "statuses": list(self.statuses)})

    def announce_timelock(self) -> None:
        """WhatsApp set or lifted the reach-out timelock: a `session.status` event with it in `data` (as
        `GET /api/sessions/{session}` reports it), though the status itself is unchanged."""
        data = {"reachoutTimelock": self.reachout_timelock()}
        payload = {"name": self.name, "status": self.status, "statuses": list(self.statuses), "data": data}
        self.announce("session.status", payload)

    # --- transitions ------------------------------------------------------------------------------
    def touch(self) -> None:
        self.activity_ms = now_ms()

    def tick(self, seq: int) -> None:
        """Finish starting once a later request looks at the session (or once its starting time is over)."""
        if self.status != STARTING or self.held:
            return
        if self.starting_seconds is None:
            done = seq > self.start_seq
        else:
            done = time.monotonic() >= self.started_at + self.starting_seconds
        if done:
            self.become(WORKING if self.me else SCAN_QR_CODE)

    def start(self, seq: int) -> None:
        self.held, self.start_seq, self.started_at = False, seq, time.monotonic()
        self.become(STARTING)
        self.qr_count += 1
        self.touch()

    def stop(self) -> None:
        self.held = False
        self.become(STOPPED)
        self.pairing_phone = self.pairing_code = None
        self.touch()

    def logout(self, seq: int) -> None:
        self.me = None
        self.world = None
        self.reachout = None
        if self.status == STOPPED:
            self.touch()
        else:
            self.start(seq)

    def pair(self, phone: str | None = None) -> None:
        phone = phone or self.pairing_phone or self.default_phone()
        self.me = {
            "id": f"{phone}@c.us",
            "lid": f"{int.from_bytes(self.digest('lid')[:6], 'big')}@lid",
            "jid": f"{phone}:12@s.whatsapp.net",
            "pushName": PUSH_NAME,
        }
        if self.world is None or self.world.me_id != self.me["id"]:
            # The seeded session `business` is a WhatsApp Business account; the others are personal ones.
            business = self.name == "business"
            self.world = World.seeded(self.me["id"], PUSH_NAME, f"{self.seed}:{self.name}", business=business)
            self.world.announce = self.announce  # wired after seeding: seed data is history, not events
        self.held = False
        self.become(WORKING)
        self.pairing_phone = self.pairing_code = None
        self.touch()

    # --- reach-out timelock (WhatsApp error 463) ---------------------------------------------------
    def reachout_timelock(self) -> dict[str, Any] | None:
        """`data.reachoutTimelock` as WAHA 2026.7.2 reports it; it lifts by itself at `timeEnforcementEnds`."""
        if self.reachout is None:
            return None
        ends = self.reachout.get("timeEnforcementEnds")
        ended = isinstance(ends, int | float) and ends <= time.time()  # other forms are set as is by tests
        active = bool(self.reachout.get("isActive")) and not ended
        return self.reachout | {"isActive": active}

    def may_not_reach(self, chat_id: str) -> bool:
        """A send to a person with no conversation yet, while the timelock is active (existing chats still work)."""
        lock = self.reachout_timelock()
        if not lock or not lock["isActive"] or self.world is None or chat_id.endswith("@g.us"):
            return False
        chat = self.world.chats.get(chat_id)
        return chat is None or not chat.messages

    # --- JSON -------------------------------------------------------------------------------------
    def dto(self) -> dict[str, Any]:
        """SessionDTO: what create/start/stop/logout/restart/update return."""
        return {"name": self.name, "status": self.status, "config": self.config}

    def info(self, expand_apps: bool = False) -> dict[str, Any]:
        """SessionInfo: what GET /api/sessions[/{session}] return."""
        info: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "config": self.config,
            "me": self.me if self.status == WORKING else None,
            "presence": {},
            "timestamps": {"activity": self.activity_ms},
            "assignedWorker": "waha-mcp-sandbox",
        }
        lock = self.reachout_timelock() if self.status == WORKING else None
        if lock is not None:
            info["data"] = {"reachoutTimelock": lock}
        if expand_apps:
            info["apps"] = self.apps or []
        return info
