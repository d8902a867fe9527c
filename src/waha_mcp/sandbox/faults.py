"""Fault injection: make chosen routes slow, fail, drop the connection or send broken bodies.

A rule targets an operationId, a "METHOD /path/template" key, or every request (route None).
`times` limits how many matching requests it hits; None means until cleared.

Kinds: latency (sleep `delay`, then answer normally; stacks with one other kind), status (answer
`status` with a NestJS body, or `body` if given), drop (close the connection without a response:
before the request is handled by default, after it was handled with body="after", as a refused
connection with body="connect"), malformed (the real 2xx answer cut short, still
`Content-Type: application/json`; a string `body` replaces it), empty (2xx with an empty body).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeGuard, get_args

FaultKind = Literal["latency", "status", "drop", "malformed", "empty"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


def _is_kind(kind: str) -> TypeGuard[FaultKind]:
    return kind in FAULT_KINDS


class DropConnection(Exception):
    """Raised by the app to close the connection without a response.

    `phase` is "read" (the request was sent, no response came: httpx ReadError) or
    "connect" (as if the connection was refused: httpx ConnectError, in-process only).
    """

    def __init__(self, phase: str = "read") -> None:
        super().__init__(f"sandbox fault: connection dropped ({phase})")
        self.phase = phase


@dataclass
class FaultRule:
    route: str | None
    kind: FaultKind
    status: int = 500
    delay: float = 0.0
    times: int | None = None
    body: Any = None
    hits: int = 0

    def matches(self, operation_id: str | None, key: str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return self.route is None or self.route in (operation_id, key)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The active fault rules of one sandbox."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self,
        route: str | None = None,
        *,
        kind: str,  # a FaultKind; checked here, as it comes from a client
        status: int = 500,
        delay: float = 0.0,
        times: int | None = None,
        body: Any = None,
    ) -> FaultRule:
        if not _is_kind(kind):
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for unlimited)")
        rule = FaultRule(route=route, kind=kind, status=status, delay=delay, times=times, body=body)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, operation_id: str | None, key: str | None) -> list[FaultRule]:
        """Rules hitting this request, counted as used. Latency rules stack with one other kind."""
        hit: list[FaultRule] = []
        terminal = False
        for rule in self.rules:
            if not rule.matches(operation_id, key):
                continue
            if rule.kind != "latency":
                if terminal:
                    continue
                terminal = True
            rule.hits += 1
            hit.append(rule)
        return hit
