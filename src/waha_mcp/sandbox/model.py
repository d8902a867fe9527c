"""`SandboxModel`: every piece of emulator state, in one object.

The `Sandbox` holds exactly one model and replaces it on `reset()`, so nothing a test or a client
created (sessions, their worlds, calls, file-server settings) can outlive a reset. Route modules
keep no state of their own: they read and write the model through `ctx.sandbox.model`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .eventlog import EventLog
from .state import SandboxSession

SEED_SESSION_NAMES = ("default", "business")


@dataclass
class Call:
    id: str
    caller: str
    timestamp: int
    status: str = "offer"  # offer → rejected

    def to_waha(self, session: str) -> dict[str, Any]:
        """`CallData`, as in the call.received webhook."""
        return {
            "id": self.id,
            "from": self.caller,
            "timestamp": self.timestamp,
            "isVideo": False,
            "isGroup": False,
            "status": self.status,
            "session": session,
            "_data": {},
        }


@dataclass
class SandboxModel:
    seed: int
    sessions: dict[str, SandboxSession] = field(default_factory=dict)
    calls: dict[tuple[str, str], Call] = field(default_factory=dict)  # (session, call id) → call
    # WHATSAPP_FILES_LIFETIME: downloaded files expire that long after download (None: never).
    files_lifetime: float | None = None
    log: EventLog = field(default_factory=EventLog)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # API key id → ApiKeyDTO (routes/admin.py)
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)  # app id → App (routes/admin.py)
    stops: list[dict[str, Any]] = field(default_factory=list)  # POST /api/server/stop requests, {force, time}
    deleted: set[str] = field(default_factory=set)  # session names deleted since (WAHA Core's empty-201 quirk)

    @classmethod
    def seeded(
        cls, seed: int, sessions: int, previous: SandboxModel | None = None, names: tuple[str, ...] = ()
    ) -> SandboxModel:
        """The initial world: `sessions` paired sessions named default, business, sandbox3, ... (or `names`).

        Event ids continue from `previous` (the model a reset replaces), so they only grow.
        """
        model = cls(seed=seed, log=EventLog(previous.log if previous else None))
        for i in range(sessions):
            if i < len(names):
                name = names[i]
            else:
                name = SEED_SESSION_NAMES[i] if i < len(SEED_SESSION_NAMES) else f"sandbox{i + 1}"
            session = model.add_session(name, default_config())
            session.pair()
        model.log.clear()  # the seed is the initial world, not something that happened
        return model

    def add_session(self, name: str, config: dict[str, Any], apps: list[Any] | None = None) -> SandboxSession:
        session = SandboxSession(name=name, seed=self.seed, config=config, apps=apps, log=self.log)
        self.sessions[name] = session
        return session

    # --- calls ----------------------------------------------------------------------------------
    def ring(self, session: str, caller: str) -> Call:
        """Someone calls the session's account (`caller` is a normalized chat id)."""
        if session not in self.sessions:
            raise KeyError(f"no sandbox session {session!r}")
        call = Call(id=secrets.token_hex(16).upper(), caller=caller, timestamp=int(time.time()))
        self.calls[(session, call.id)] = call
        self.sessions[session].announce("call.received", call.to_waha(session))
        return call

    def calls_of(self, session: str) -> list[Call]:
        return [call for (name, _), call in self.calls.items() if name == session]


def default_config() -> dict[str, Any]:
    return {
        "metadata": {"sandbox": "true"},
        "debug": False,
        # markOnline is required by the documents (2024.10.8 has no erratum for it).
        "noweb": {"markOnline": True, "store": {"enabled": True, "fullSync": False}},
        "webhooks": [],
    }
