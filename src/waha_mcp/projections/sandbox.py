"""What the `sandbox` toolset returns: the emulator's session, message or fault rules, marked as the emulator."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

NOTE = "emulator only: nothing reached WhatsApp"


class SandboxSession(TypedDict):
    session: str
    status: str
    me: str | None
    sandbox: str  # says plainly this is the emulator


class SandboxMessage(TypedDict):
    session: str
    messageId: str
    chatId: str
    text: str
    sandbox: str


class SandboxFaults(TypedDict):
    faults: list[dict[str, Any]]
    sandbox: str


def sandbox_session(info: dict[str, Any]) -> SandboxSession:
    me = info.get("me") or {}
    return {"session": str(info["name"]), "status": str(info["status"]), "me": me.get("id"), "sandbox": NOTE}


def sandbox_message(session: str, message: dict[str, Any], chat_id: str, text: str) -> SandboxMessage:
    return {"session": session, "messageId": str(message.get("id")), "chatId": chat_id, "text": text, "sandbox": NOTE}


def sandbox_faults(rules: list[dict[str, Any]]) -> SandboxFaults:
    return {"faults": rules, "sandbox": NOTE}
