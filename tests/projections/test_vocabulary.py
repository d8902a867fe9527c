"""One key vocabulary in every tool result, fixed by the output schemas the client validates against.

- every tool declares an output schema (an object; `session` is the acting session's name);
- every key, at any depth, is camelCase;
- chats are `chatId`, messages `messageId` (or `<what>ChatId` / `<what>MessageId`); a bare `id` only names
  the entity it sits in (a chat, message or person in a list, `me`, `replyTo`), never a result's top level;
- no `chat`, `message`, `msg`, `at`, `timestamp`... as keys;
- a time is ISO 8601 under `time` or `<what>Time`, never `...At`, `...Date`, `...Timestamp`;
- tools build results through `waha_mcp.projections`, never from dict literals.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_type_hints

import anyio
import pytest
from typing_extensions import is_typeddict

import waha_mcp.projections as projections
import waha_mcp.tools as tools_package
from waha_mcp.config import load_settings
from waha_mcp.projections.common import Kind
from waha_mcp.server import build_server

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
FORBIDDEN = {"chat", "message", "msg", "msgId", "chatID", "messageID", "at", "ts", "timestamp", "date", "when"}
NOT_A_TIME = re.compile(r".(At|Date|Timestamp|Ts)$")
TIME = re.compile(r"^time$|.Time$")


def _output_schemas() -> dict[str, dict[str, Any] | None]:
    # In sandbox mode, so the `sandbox` toolset is listed too.
    settings = load_settings(
        WAHA_BASE_URL="http://x", WAHA_TOOLSETS="all", WAHA_MCP_SANDBOX=True, WAHA_MCP_OUTPUT_SCHEMAS="1"
    )
    server = build_server(settings)
    return {tool.name: tool.output_schema for tool in anyio.run(server.list_tools)}


SCHEMAS = _output_schemas()


def _keys(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, schema) for every property, through items, anyOf and nested objects."""
    if isinstance(node, list):
        for item in node:
            yield from _keys(item, path)
        return
    if not isinstance(node, dict):
        return
    for name, sub in (node.get("properties") or {}).items():
        yield path, name, sub
        yield from _keys(sub, f"{path}.{name}")
    for key in ("items", "anyOf", "additionalProperties"):
        if key in node:
            yield from _keys(node[key], f"{path}[]" if key == "items" else path)


def test_every_tool_declares_an_output_object_naming_its_session() -> None:
    missing = sorted(name for name, schema in SCHEMAS.items() if not schema)
    assert not missing, f"tools without an output schema: {missing}"
    for name, schema in SCHEMAS.items():
        assert schema is not None and schema["type"] == "object", name
        assert schema["properties"]["session"] == {"type": "string"}, name


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
def test_output_keys_follow_the_vocabulary(tool: str) -> None:
    for path, key, sub in _keys(SCHEMAS[tool]):
        where = f"{tool}: {path}.{key}".replace(": .", ": ")
        assert CAMEL.match(key), f"{where} is not camelCase"
        assert key not in FORBIDDEN, f"{where}: name ids chatId/messageId and times time/...Time"
        assert not NOT_A_TIME.search(key), f"{where}: a time is `time` or ends with `Time`"
        if key == "id":
            assert path, f"{where}: a result's own ids are chatId, messageId, ... (bare `id` only in entities)"
        if key.lower().endswith(("chatid", "messageid")):
            assert key.endswith(("chatId", "ChatId", "messageId", "MessageId")), f"{where}: spelled chatId/messageId"
        if TIME.search(key):
            assert sub.get("type") in ("string", ["string", "null"]), f"{where}: a time is an ISO 8601 string"


def _typed_dicts() -> Iterator[type]:
    for info in pkgutil.iter_modules(projections.__path__):
        module = importlib.import_module(f"{projections.__name__}.{info.name}")
        for _, value in inspect.getmembers(module, is_typeddict):
            if value.__module__ == module.__name__:
                yield value


def _is_time(annotation: Any) -> bool:
    if Kind("time") in getattr(annotation, "__metadata__", ()):
        return True
    return any(_is_time(arg) for arg in get_args(annotation))


@pytest.mark.parametrize("shape", list(_typed_dicts()), ids=lambda t: t.__name__)
def test_times_are_named_time_and_typed_time(shape: type) -> None:
    for key, annotation in get_type_hints(shape, include_extras=True).items():
        if _is_time(annotation):
            assert TIME.search(key), f"{shape.__name__}.{key} holds a time: name it `time` or `<what>Time`"
        elif TIME.search(key):
            pytest.fail(f"{shape.__name__}.{key} is named as a time: type it `Time` (ISO 8601)")


def test_projection_types_cover_what_tools_return() -> None:
    names = {t.__name__ for t in _typed_dicts()}
    assert {"Chat", "Message", "Sent", "SessionInfo", "ServerInfo", "Presences", "MediaFile"} <= names


def _tool_functions() -> Iterator[tuple[str, ast.AsyncFunctionDef]]:
    for path in sorted(Path(tools_package.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.AsyncFunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", None) == "tool" for d in node.decorator_list
            ):
                yield f"{path.stem}.{node.name}", node


def _literal(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Dict | ast.DictComp):
        return True
    return isinstance(node, ast.BinOp) and (_literal(node.left) or _literal(node.right))


def test_tools_build_results_through_projections() -> None:
    found = list(_tool_functions())
    assert len(found) == len(SCHEMAS)
    for name, fn in found:
        for node in ast.walk(fn):
            if isinstance(node, ast.Return):
                assert not _literal(node.value), f"{name} returns a dict it built: use a projection"
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("image_result", "Rich"):
                assert not any(_literal(arg) for arg in node.args), f"{name} builds a result dict: use a projection"
