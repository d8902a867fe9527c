"""Contract checking for tests: every request the sandbox sees is checked against the WAHA document.

Wiring (in tests/conftest.py), for example:

    pytest_plugins = ["contract_plugin"]          # provides the `contract_recorder` fixture

    @pytest.fixture
    def sandbox(contract_recorder):
        sb = Sandbox(...)
        sb.on_request.append(contract_recorder.hook)
        ...

The fixture fails the test at teardown when any recorded request broke the contract.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import pytest

from waha_mcp.openapi.contract import check_request, check_response
from waha_mcp.openapi.spec import DOCUMENT, load_spec

__all__ = ["ContractRecorder", "RecordedRequestLike", "contract_recorder"]

SANDBOX_CONTROL_PREFIX = "/__sandbox/"


class RecordedRequestLike(Protocol):
    method: str
    path: str  # raw, percent-encoded, without the query string
    query: Mapping[str, list[str]]
    body: bytes


class ContractRecorder:
    """Collects contract problems from every request (and optionally response) it is shown."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0
        # The sandbox may run its server in another thread.
        self._lock = threading.Lock()

    def hook(self, recorded: RecordedRequestLike) -> None:
        """Callback for `sandbox.on_request`: check one recorded request."""
        if recorded.path.startswith(SANDBOX_CONTROL_PREFIX):
            return
        raw: bytes = recorded.body or b""
        has_body = bool(raw.strip())
        body: Any = None
        if has_body:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                label = f"{recorded.method.upper()} {recorded.path}"
                self._add([f"{label}: body is not valid JSON ({exc})"])
                return
        problems = check_request(recorded.method, recorded.path, dict(recorded.query), body, has_body=has_body)
        headers = {key.lower(): value for key, value in (getattr(recorded, "headers", None) or {}).items()}
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if has_body and headers and media != "application/json":
            # Every requestBody in the document is application/json.
            label = f"{recorded.method.upper()} {recorded.path}"
            problems.append(f"{label}: body sent with Content-Type {media or 'missing'!r}, expected 'application/json'")
        self._add(problems)

    def record_response(
        self,
        method: str,
        raw_path: str,
        status: int,
        content_type: str | None,
        body: bytes,
        document: str = DOCUMENT,
    ) -> None:
        """Check a response the sandbox (or a fake) returned for a documented operation.

        `document` is the document of the WAHA that answered (a sandbox profile's older one).
        """
        if raw_path.startswith(SANDBOX_CONTROL_PREFIX):
            return
        op = load_spec(document).match(method, raw_path)
        if op is None:
            return  # the request hook already reported the unknown route (or that WAHA lacks it)
        self._add(check_response(op, status, content_type, body, document))

    def _add(self, problems: list[str]) -> None:
        with self._lock:
            self.checked += 1
            self.problems.extend(problems)

    def reset(self) -> None:
        with self._lock:
            self.problems.clear()
            self.checked = 0

    def assert_clean(self) -> None:
        with self._lock:
            problems = list(self.problems)
        if problems:
            listed = "\n".join(f"  - {problem}" for problem in problems)
            raise AssertionError(f"{len(problems)} WAHA contract problem(s):\n{listed}")


@pytest.fixture
def contract_recorder() -> Iterator[ContractRecorder]:
    recorder = ContractRecorder()
    yield recorder
    recorder.assert_clean()
