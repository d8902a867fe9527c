"""The hot path's fast parts and their fallbacks: JSON with and without orjson, the one-search secret check,
the event loop chosen for stdio, the OpenTelemetry middleware only when a tracer provider is set."""

from __future__ import annotations

import gc
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp.server._otel import OpenTelemetryMiddleware
from mcp_types import CallToolResult, TextContent
from opentelemetry import trace

from waha_mcp import cli, heap, jsonfast
from waha_mcp.config import load_settings
from waha_mcp.redact import Redactor
from waha_mcp.server import build_server

HAVE_ORJSON = importlib.util.find_spec("orjson") is not None
MODES = ["stdlib", pytest.param("orjson", marks=pytest.mark.skipif(not HAVE_ORJSON, reason="orjson not installed"))]


@pytest.fixture(params=MODES)
def json_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "stdlib":
        monkeypatch.setattr(jsonfast, "_orjson", False)
    else:
        import orjson

        monkeypatch.setattr(jsonfast, "_orjson", orjson)
    yield request.param


text = st.text(st.characters(codec="utf-8"), max_size=20) | st.sampled_from(["\u2028", '"\\', "\x00\x1f\x7f", "é🚚"])
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | text
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4))


@settings(max_examples=150, deadline=None)
@given(documents)
def test_dumps_matches_the_standard_library_exactly(document: Any) -> None:
    expected = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
    for module in [False] + ([importlib.import_module("orjson")] if HAVE_ORJSON else []):
        jsonfast._orjson = module
        try:
            assert jsonfast.dumps(document) == expected
            assert jsonfast.loads(expected.encode()) == json.loads(expected)
        finally:
            jsonfast._orjson = None


def test_what_orjson_refuses_goes_to_the_standard_library(json_mode: str) -> None:
    big = 2**70
    assert jsonfast.dumps({"n": big, "s": "\ud800", 1: True}) == json.dumps(
        {"n": big, "s": "\ud800", 1: True}, separators=(",", ":"), ensure_ascii=False
    )
    assert jsonfast.loads(b'{"n": 1180591620717411303424}') == {"n": 2**70}
    assert jsonfast.loads(b"[NaN]")[0] != jsonfast.loads(b"[NaN]")[0]  # NaN, as json.loads reads it
    with pytest.raises(ValueError):
        jsonfast.loads(b"<html>not json</html>")
    assert jsonfast.dumps({"when": __import__("datetime").date(2026, 1, 2)}) == '{"when":"2026-01-02"}'


def test_the_fast_library_is_looked_up_once_and_only_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonfast, "_orjson", None)
    assert jsonfast.fast_json() is HAVE_ORJSON
    assert jsonfast._orjson is not None


SECRET = st.text(st.characters(codec="utf-8"), min_size=4, max_size=12) | st.sampled_from(
    ['pa"ss\\word', "k\ney\t!", "sé🔑cret"]
)


@settings(max_examples=200, deadline=None)
@given(SECRET, documents, st.integers(0, 2), text, text, st.booleans())
def test_the_one_search_never_misses_what_the_rewrite_would_change(
    secret: str, document: Any, form: int, prefix: str, suffix: str, plant: bool
) -> None:
    """Exactness of the scrub shortcut: whenever the full rewrite would change the structured content or a
    text, `finds_in` says so (with either JSON library serialising)."""
    redactor = Redactor([secret])
    spelled = [secret, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1]][form]
    planted = {"data": document, "echo": f"{prefix}{spelled}{suffix}"} if plant else document
    for module in [False] + ([importlib.import_module("orjson")] if HAVE_ORJSON else []):
        jsonfast._orjson = module
        try:
            if redactor.value(planted) != planted:
                assert redactor.finds_in([], planted)
            serial = jsonfast.dumps(planted)
            if redactor.text(serial) != serial:
                assert redactor.finds_in([serial])
            if plant:
                assert redactor.finds_in([], planted)
        finally:
            jsonfast._orjson = None


def test_a_result_without_secrets_is_returned_as_is_and_one_with_them_is_rewritten() -> None:
    redactor = Redactor(["topsecret-key"])
    clean = CallToolResult(content=[TextContent(type="text", text='{"a":"b"}')], structured_content={"a": "b"})
    assert not redactor.finds_in(["{}"], clean.structured_content)
    leaked = {"note": 'quoted "topsecret-key" here', "nested": [{"k": "topsecret-key"}]}
    assert redactor.finds_in([], leaked)
    assert redactor.value(leaked) == {"note": 'quoted "***" here', "nested": [{"k": "***"}]}


def test_stdio_uses_uvloop_only_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = importlib.util.find_spec("uvloop") is not None
    assert cli.event_loop_options() == ({"use_uvloop": True} if installed else {})
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert cli.event_loop_options() == {}  # the fallback: asyncio's own loop


def test_settling_the_heap_freezes_what_start_up_built_and_widens_the_young_generation() -> None:
    """`serve` calls it once start-up is done (heap.py): full collections then never walk the start-up heap."""
    threshold = gc.get_threshold()
    kept = [[index] for index in range(100)]  # objects start-up built, tracked by the collector
    try:
        heap.settle()
        assert gc.get_freeze_count() >= len(kept)
        assert gc.get_threshold() == (heap.YOUNG, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_no_telemetry_middleware_without_a_tracer_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(WAHA_BASE_URL="http://127.0.0.1:3000")
    assert not any(isinstance(step, OpenTelemetryMiddleware) for step in build_server(settings).middleware)

    class Provider(trace.TracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
            return trace.NoOpTracer()

    monkeypatch.setattr(trace, "get_tracer_provider", lambda: Provider())
    assert any(isinstance(step, OpenTelemetryMiddleware) for step in build_server(settings).middleware)


def test_the_sandbox_starts_without_jsonschema_until_a_body_is_validated() -> None:
    # jsonschema and referencing cost the emulator's start-up ~40 ms; they are loaded by the first validation.
    script = (
        "import sys\n"
        "from waha_mcp.sandbox import Sandbox\n"
        "from waha_mcp.openapi.contract import request_body_errors\n"
        "from waha_mcp.openapi.spec import load_spec\n"
        "Sandbox()\n"
        "print('jsonschema' in sys.modules, 'referencing' in sys.modules)\n"
        "operation = next(op for op in load_spec().operations if op.operation_id == 'ChattingController_sendText')\n"
        "assert request_body_errors(operation, {'chatId': 1})\n"
        "print('jsonschema' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True"]
