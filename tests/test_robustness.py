"""Property-based robustness: every registered tool, fed valid and hostile arguments from its own schema.

For each tool the schema comes from `tools/list` (so tools added later are covered without touching this
file) and hypothesis generates arguments: plausible ones, and broken ones (wrong types, missing required
fields, 100k-char strings, RTL/zero-width/emoji/NUL text, path-like ids, negative and huge numbers,
unknown extra fields). Each call goes through the in-memory MCP client against a sandbox that is reset
before every example (destructive tools cannot starve the next one), and must:

- come back as a result (the server never crashes, the client keeps working afterwards);
- never show a traceback;
- on failure: one `isError` text block, one line, with a reason, and no "internal error" (a crash);
- on success: JSON text;
- send WAHA only requests its OpenAPI document allows, and get answers it describes (the contract
  recorder sees requests and responses and is checked per example).

Hypothesis runs in a worker thread (`anyio.to_thread`) and drives the one MCP client on the event loop
through `anyio.from_thread`, so one server and client serve all examples of a tool (and shrinking works).
"""

from __future__ import annotations

import json
import logging
import os
import string
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from mcp import Client
from mcp_types import CallToolResult

from tests.conftest import CheckedTransport
from tests.contract_plugin import ContractRecorder
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.server import build_server
from waha_mcp.tools.registry import all_tools

# ROBUSTNESS_EXAMPLES=200 for a longer hunt; the default keeps the file well under a minute.
MAX_EXAMPLES = int(os.environ.get("ROBUSTNESS_EXAMPLES", "18"))
FAULT_EXAMPLES = max(4, MAX_EXAMPLES // 2)
HUGE = "x" * 100_000
ODD_TEXT = [
    "",
    " ",
    "\u202eevil\u202c",  # RTL override
    "a\u200bb\u200d",  # zero-width
    "\ufeffbom",
    "😀👍🏽🇩🇪",
    "\x00",
    "a\x00b",
    "line\nbreak\r\n",
    "\t",
    "../x",
    "../../etc/passwd",
    "a/b",
    "%2e%2e",
    "%2e%2e%2fx",
    "..",
    "/",
    "?x=1&y=2",
    "#frag",
    "a\\b",
    "名前",
    "مرحبا",
    "null",
    "{}",
    "'; DROP TABLE x; --",
    "{{7*7}}",
    HUGE,
]
IDS = [
    "default",
    "business",
    "ghost",
    "123@c.us",
    "14155550123",
    "+1 (415) 555-0123",
    "120363025246125486@g.us",
    "status@broadcast",
    "107450998222769@lid",
    "123@newsletter",
    "true_123@c.us_3EB0ABCDEF",
    "false_123@c.us_3EB0ABCDEF",
    "3EB0ABCDEF",
]
ODD_NUMBERS = [-1, 0, -(2**63), 2**63, 10**30, -0.5, 1e308, 3.5]
SECRETISH_URLS = [
    "http://example.com/a.jpg",
    "https://127.0.0.1:1/x",
    "file:///etc/passwd",
    "ftp://x/y",
    "javascript:1",
]


def odd_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ODD_TEXT),
        st.text(max_size=40),
        st.text(alphabet=string.printable, max_size=40),
    )


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        odd_text(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
        max_leaves=6,
    )


def session_configs() -> st.SearchStrategy[dict[str, Any]]:
    """Plausible session configs (with the odd hostile value), else arbitrary JSON objects."""
    webhook = st.fixed_dictionaries(
        {"url": st.one_of(st.sampled_from(SECRETISH_URLS), odd_text())},
        optional={
            "events": st.lists(st.sampled_from(["message", "session.status", "nope", ""]), max_size=3),
            "hmacKey": odd_text(),
        },
    )
    proxy = st.fixed_dictionaries({"server": odd_text()}, optional={"username": odd_text(), "password": odd_text()})
    plausible = st.fixed_dictionaries(
        {},
        optional={
            "metadata": st.dictionaries(odd_text(), odd_text(), max_size=2),
            "proxy": proxy,
            "webhooks": st.lists(webhook, max_size=2),
            "debug": st.booleans(),
        },
    )
    return st.one_of(plausible, st.dictionaries(st.text(max_size=10), json_values(), max_size=3))


def strings_for(name: str) -> st.SearchStrategy[str]:
    lowered = name.lower()
    hints: list[str] = []
    if lowered == "session" or lowered == "name":
        hints = ["default", "business", "ghost", "new_one", "a" * 65]
    elif "chat" in lowered or lowered in ("caller", "ids"):
        hints = IDS
    elif "message" in lowered or lowered.endswith("_id") or lowered.endswith("id"):
        hints = IDS
    elif "phone" in lowered:
        hints = ["14155550123", "+49 151 1234 5678", "123", "abc"]
    elif "url" in lowered or lowered in ("file", "path"):
        hints = [*SECRETISH_URLS, "a.txt", "../secret", "/etc/passwd", "sub/../../x"]
    elif lowered in ("since", "until", "start", "end"):
        hints = ["2026-01-01T00:00:00+00:00", "1700000000", "yesterday", "-1"]
    elif lowered == "data":
        hints = ["aGVsbG8=", "not base64!", ""]
    elif lowered == "mimetype":
        hints = ["image/png", "audio/ogg; codecs=opus", "video/mp4", "x"]
    # Mostly plausible values (so success paths run deep), often hostile ones.
    if hints:
        return st.one_of(st.sampled_from(hints), st.sampled_from(hints), odd_text())
    return st.one_of(st.text(max_size=30), odd_text())


def value_for(schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    """A value that matches `schema` (mostly), drawn for the property called `name`."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema or "oneOf" in schema:
        options = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if isinstance(s, dict)]
        return st.one_of([value_for(s, name) for s in options]) if options else json_values()
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([value_for({**schema, "type": k}, name) for k in kind])
    if kind == "string":
        return strings_for(name)
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        base: st.SearchStrategy[Any] = st.integers(
            min_value=int(low) if low is not None else -1000, max_value=int(high) if high is not None else 1000
        )
        if kind == "number":
            base = st.one_of(base, st.floats(min_value=-180, max_value=180, allow_nan=False))
        return st.one_of(base, base, st.sampled_from(ODD_NUMBERS))
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return st.lists(value_for(items, name), max_size=4)
    if kind == "object":
        if schema.get("properties"):
            return arguments_for(schema, mutate=False)
        if name == "config":
            return session_configs()
        if name == "sections":
            rows = st.lists(st.fixed_dictionaries({"title": odd_text()}, optional={"id": odd_text()}), max_size=2)
            return st.one_of(
                st.fixed_dictionaries({"title": odd_text(), "rows": rows}),
                st.dictionaries(st.text(max_size=8), json_values(), max_size=3),
            )
        return st.dictionaries(st.text(max_size=10), json_values(), max_size=3)
    return json_values()


def wrong_type(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A JSON value of another type than `schema` asks for."""
    kind = schema.get("type")
    pool: dict[str, st.SearchStrategy[Any]] = {
        "string": st.sampled_from(["text", HUGE[:200]]),
        "integer": st.sampled_from([7, -(2**64)]),
        "number": st.sampled_from([1.5, -1e300]),
        "boolean": st.booleans(),
        "array": st.just(["a", 1]),
        "object": st.just({"k": [1, None]}),
        "null": st.none(),
    }
    kinds = set(kind) if isinstance(kind, list) else {kind}
    compatible = kinds | ({"integer"} if "number" in kinds else set())
    if "enum" in schema:
        return st.sampled_from(["not-in-enum", 42, None])
    others = [strategy for key, strategy in pool.items() if key not in compatible]
    return st.one_of(others)


@st.composite
def arguments_for(draw: st.DrawFn, schema: dict[str, Any], mutate: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties") or {}
    required = [name for name in schema.get("required", []) if name in props]
    out: dict[str, Any] = {}
    for name, sub in props.items():
        if name in required or draw(st.booleans()):
            out[name] = draw(value_for(sub if isinstance(sub, dict) else {}, name))
    if not mutate:
        return out
    mutation = draw(st.sampled_from(["none", "none", "none", "wrong_type", "drop_required", "extra", "huge", "null"]))
    note(f"mutation: {mutation}")
    if mutation == "wrong_type" and props:
        name = draw(st.sampled_from(sorted(props)))
        out[name] = draw(wrong_type(props[name]))
    elif mutation == "drop_required" and required:
        out.pop(draw(st.sampled_from(required)), None)
    elif mutation == "extra":
        out[draw(st.sampled_from(["zzz", "__proto__", "session_id", "../x", ""]))] = draw(json_values())
    elif mutation == "huge" and props:
        out[draw(st.sampled_from(sorted(props)))] = HUGE
    elif mutation == "null" and props:
        out[draw(st.sampled_from(sorted(props)))] = None
    return out


def plausible(schema: dict[str, Any], name: str) -> Any:
    """One ordinary value for a required argument, so a sweep can vary the others."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind  # one of several allowed types
    lowered = name.lower()
    if kind == "string":
        if "chat" in lowered or lowered == "caller":
            return "14155550123@c.us"
        if "message" in lowered or lowered.endswith("id"):
            return "true_14155550123@c.us_3EB0ABCDEF"
        if "phone" in lowered:
            return "14155550123"
        if lowered in ("start", "since", "until", "end"):
            return "2030-01-01T10:00:00+00:00"
        return "hello"
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        return [plausible(items, name)]
    if kind == "object":
        return {}
    return None


# --- the property ---------------------------------------------------------------------------------------


class CrashLog(logging.Handler):
    """Collects ERROR records from waha_mcp (a tool crash logs its traceback there)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def texts_of(result: CallToolResult) -> list[str]:
    return [block.text for block in result.content if block.type == "text"]


def assert_well_formed(name: str, result: CallToolResult) -> None:
    texts = texts_of(result)
    for text in texts:
        assert "Traceback" not in text and 'File "' not in text, f"{name}: traceback in output: {text[:300]}"
    if result.is_error:
        assert len(texts) == 1 and len(result.content) == 1, f"{name}: error must be one text block: {texts}"
        message = texts[0]
        assert "\n" not in message and "\r" not in message, f"{name}: multi-line error: {message!r}"
        assert len(message.strip()) >= 15, f"{name}: error without a reason: {message!r}"
        assert len(message) <= 1000, f"{name}: unbounded error ({len(message)} chars): {message[:200]!r}"
        assert "internal error" not in message, f"{name}: the tool crashed: {message}"
    else:
        assert texts, f"{name}: success without text"
        for text in texts:
            json.loads(text)  # every success is JSON


TOOL_NAMES = [spec.name for spec in all_tools()]


def _settings(files_dir: str) -> Any:
    return load_settings(
        WAHA_BASE_URL="http://sandbox",
        WAHA_SESSION="default",
        WAHA_TOOLSETS="all",
        WAHA_MCP_FILES_DIR=files_dir,
        WAHA_MCP_SANDBOX=True,  # the `sandbox` toolset is listed only then
    )


async def test_every_listed_tool_is_covered(tmp_path: Any) -> None:
    """Tools are parametrized from the registry; this keeps tools/list and the registry in step."""
    server = build_server(_settings(str(tmp_path)), transport=sandbox_transport(Sandbox()))
    async with Client(server) as client:
        listed = await client.list_tools()
        names = [tool.name for tool in listed.tools]
        assert listed.next_cursor is None
    assert sorted(names) == sorted(TOOL_NAMES)


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The events toolset's waits end at once here: these tests check answers, not waiting (tests/events do)."""
    monkeypatch.setattr("waha_mcp.tools.events.MAX_WAIT", 0.05)


@pytest.mark.parametrize("tool_name", TOOL_NAMES)
async def test_tool_survives_generated_arguments(tool_name: str, tmp_path: Any) -> None:
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "voice.ogg").write_bytes(b"OggS\x00fake")
    sandbox = Sandbox(sessions=2)
    recorder = ContractRecorder()
    sandbox.on_request.append(recorder.hook)
    server = build_server(_settings(str(tmp_path)), transport=CheckedTransport(sandbox, recorder))
    crashes = CrashLog()
    logging.getLogger("waha_mcp").addHandler(crashes)
    mode = "legacy" if TOOL_NAMES.index(tool_name) % 2 else "auto"
    outcomes = {"ok": 0, "error": 0}
    try:
        async with Client(server, mode=mode) as client:
            listed = {tool.name: tool for tool in (await client.list_tools()).tools}
            schema = listed[tool_name].input_schema

            async def one(arguments: dict[str, Any]) -> None:
                sandbox.reset()
                recorder.reset()
                crashes.records.clear()
                result = await client.call_tool(tool_name, arguments)
                assert_well_formed(tool_name, result)
                assert not crashes.records, f"{tool_name} logged a crash: {crashes.records[0].getMessage()}"
                recorder.assert_clean()
                outcomes["error" if result.is_error else "ok"] += 1

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(arguments=arguments_for(schema))
            def prop(arguments: dict[str, Any]) -> None:
                anyio.from_thread.run(one, arguments)

            await anyio.to_thread.run_sync(prop)

            # The server is still up and serving after everything it was fed.
            sandbox.reset()
            alive = await client.call_tool("waha_list_sessions", {})
            assert not alive.is_error, texts_of(alive)
            assert tool_name in {tool.name for tool in (await client.list_tools()).tools}
    finally:
        logging.getLogger("waha_mcp").removeHandler(crashes)
    # The generator reaches both sides: without failures the hostile half is not hostile, and
    # tools with no required argument should succeed on some plausible input.
    assert outcomes["error"] > 0, f"{tool_name}: no generated argument was refused"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_unknown_tool_names_get_a_short_one_line_error(mode: str, tmp_path: Any) -> None:
    server = build_server(_settings(str(tmp_path)), transport=sandbox_transport(Sandbox()))
    async with Client(server, mode=mode) as client:
        for name in ["nope", "waha_get_session\n", "x\ny", HUGE, "", "../waha_get_session", "\u202e"]:
            result = await client.call_tool(name, {})
            assert result.is_error
            assert_well_formed(f"unknown tool {name[:20]!r}", result)
            assert "unknown tool" in texts_of(result)[0]
        assert not (await client.call_tool("waha_list_sessions", {})).is_error


HOSTILE_STRINGS = [HUGE, "\x00", "a\x00b", "../x", "a/b", "%2e%2e", "\u202eevil", "a\u200bb", "😀", "line\nbreak", ""]


@pytest.mark.parametrize("tool_name", TOOL_NAMES)
async def test_hostile_strings_in_every_string_argument(tool_name: str, tmp_path: Any) -> None:
    """Deterministic sweep: each string argument in turn gets each hostile value, the rest ordinary."""
    sandbox = Sandbox(sessions=2)
    recorder = ContractRecorder()
    sandbox.on_request.append(recorder.hook)
    server = build_server(_settings(str(tmp_path)), transport=CheckedTransport(sandbox, recorder))
    crashes = CrashLog()
    logging.getLogger("waha_mcp").addHandler(crashes)
    try:
        async with Client(server) as client:
            tool = next(t for t in (await client.list_tools()).tools if t.name == tool_name)
            props: dict[str, Any] = tool.input_schema.get("properties") or {}
            base = {name: plausible(props[name], name) for name in tool.input_schema.get("required", [])}
            strings = [name for name, sub in props.items() if sub.get("type") == "string" and "enum" not in sub]
            for name in strings:
                for hostile in HOSTILE_STRINGS:
                    sandbox.reset()
                    result = await client.call_tool(tool_name, {**base, name: hostile})
                    assert_well_formed(f"{tool_name}({name}={hostile[:20]!r})", result)
                    assert not crashes.records, f"{tool_name}({name}=...) crashed: {crashes.records[0].getMessage()}"
                    if name == "session" and hostile:
                        # A hostile session name never reaches WAHA, in any form.
                        assert result.is_error and "invalid session name" in texts_of(result)[0]
                        assert sandbox.requests == []
            recorder.assert_clean()
    finally:
        logging.getLogger("waha_mcp").removeHandler(crashes)


FAULT_STATUSES = [400, 401, 403, 404, 409, 422, 429, 500, 501, 502, 503, 504]


@st.composite
def faults(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["status", "status", "drop", "malformed", "empty"]))
    rule: dict[str, Any] = {"kind": kind, "times": draw(st.sampled_from([1, 2, None]))}
    if kind == "status":
        rule["status"] = draw(st.sampled_from(FAULT_STATUSES))
    if kind == "drop":
        rule["body"] = draw(st.sampled_from([None, "after", "connect"]))
    if kind == "malformed":
        rule["body"] = draw(st.sampled_from([None, "<html>502 Bad Gateway</html>", "{", "\x00\xff"]))
    return rule


@pytest.mark.parametrize("tool_name", TOOL_NAMES)
async def test_tool_survives_waha_faults(tool_name: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ordinary arguments, WAHA misbehaving on every route: a clean answer, and no write sent twice."""
    monkeypatch.setattr("waha_mcp.client._http.BACKOFF", 0.001)  # retries keep their count, not their pause
    (tmp_path / "a.txt").write_text("hello")
    sandbox = Sandbox(sessions=2)
    recorder = ContractRecorder()
    sandbox.on_request.append(recorder.hook)
    server = build_server(_settings(str(tmp_path)), transport=CheckedTransport(sandbox, recorder))
    crashes = CrashLog()
    logging.getLogger("waha_mcp").addHandler(crashes)
    try:
        async with Client(server) as client:
            tool = next(t for t in (await client.list_tools()).tools if t.name == tool_name)
            props: dict[str, Any] = tool.input_schema.get("properties") or {}
            arguments = {name: plausible(props[name], name) for name in tool.input_schema.get("required", [])}
            if "session" in props:
                arguments["session"] = "default"

            async def one(rule: dict[str, Any]) -> None:
                sandbox.reset()
                recorder.reset()
                crashes.records.clear()
                sandbox.faults.add(None, **rule)
                result = await client.call_tool(tool_name, arguments)
                assert_well_formed(tool_name, result)
                assert not crashes.records, f"{tool_name} logged a crash: {crashes.records[0].getMessage()}"
                writes = [(r.method, r.path, r.body) for r in sandbox.requests if r.method != "GET"]
                assert len(writes) == len(set(writes)), f"{tool_name} sent a write twice: {writes}"
                gets = [(r.method, r.path, str(r.query)) for r in sandbox.requests if r.method == "GET"]
                assert all(gets.count(g) <= 3 for g in gets), f"{tool_name} retried a read too often: {gets}"
                recorder.assert_clean()

            @settings(
                max_examples=FAULT_EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            )
            @given(rule=faults())
            def prop(rule: dict[str, Any]) -> None:
                anyio.from_thread.run(one, rule)

            await anyio.to_thread.run_sync(prop)
    finally:
        logging.getLogger("waha_mcp").removeHandler(crashes)
