"""Load the vendored OpenAPI document and match concrete requests to its operations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

from waha_mcp import jsonfast

DOCUMENT = "openapi-2026.07.json"
# What WAHA added after its last published document (2026.7.1), written by hand from WAHA's source and docs pages:
# each operation names its first release (`x-waha-since`) and its sources (`x-source`). Merged into DOCUMENT.
SUPPLEMENT = "supplement-2026.9.json"
# What WAHA Core 2024.10.8 serves at /-json: the routes that version has (the sandbox's core-2024.10 profile).
DOCUMENT_2024_10 = "openapi-2024.10.8.json"
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # template, e.g. /api/{session}/chats/{chatId}
    operation_id: str
    tag: str
    summary: str
    deprecated: bool
    parameters: tuple[dict[str, Any], ...]
    request_schema: dict[str, Any] | None
    responses: dict[str, Any] = field(hash=False, compare=False)
    pattern: re.Pattern[str] = field(hash=False, compare=False, repr=False)
    literal_segments: int = 0
    since: str = ""  # the first WAHA release that has it, for operations of the supplement; "" for the rest

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def session_location(self) -> str | None:
        """Where WAHA expects the session name: 'path', 'query', 'body' or None."""
        for param in self.parameters:
            if param.get("name") == "session" and param.get("in") in ("path", "query"):
                return str(param["in"])
        schema = self.request_schema or {}
        if "session" in schema.get("properties", {}):
            return "body"
        return None

    def path_params(self, path: str) -> dict[str, str] | None:
        match = self.pattern.match(path)
        if not match:
            return None
        return {name: unquote(value) for name, value in match.groupdict().items()}


class Spec:
    """The parsed document with operation lookup by id and by concrete request."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.operations: list[Operation] = []
        for path, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method in METHODS:
                op = item.get(method)
                if op is None:
                    continue
                self.operations.append(self._operation(method.upper(), path, op, shared))
        self.by_id = {op.operation_id: op for op in self.operations}
        self.by_key = {op.key: op for op in self.operations}
        # Literal segments beat templates: /api/sessions/start before /api/sessions/{session}.
        self._ordered = sorted(self.operations, key=lambda op: -op.literal_segments)

    def _operation(self, method: str, path: str, op: dict[str, Any], shared: list[Any]) -> Operation:
        params = tuple(self.resolve(p) for p in [*shared, *op.get("parameters", [])])
        body = op.get("requestBody")
        schema = None
        if body:
            content = self.resolve(body).get("content", {})
            media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
            schema = self.resolve(media.get("schema"))
        segments = path.strip("/").split("/")
        regex = (
            "^/"
            + "/".join(f"(?P<{seg[1:-1]}>[^/]+)" if seg.startswith("{") else re.escape(seg) for seg in segments)
            + "$"
        )
        return Operation(
            method=method,
            path=path,
            operation_id=op.get("operationId", f"{method} {path}"),
            tag=(op.get("tags") or [""])[0],
            summary=op.get("summary", ""),
            deprecated=bool(op.get("deprecated")),
            parameters=params,
            request_schema=schema,
            responses=op.get("responses", {}),
            pattern=re.compile(regex),
            literal_segments=sum(1 for seg in segments if not seg.startswith("{")),
            since=str(op.get("x-waha-since") or ""),
        )

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (one level) to the node it names."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            target: Any = self.document
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def match(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request (raw, percent-encoded path) belongs to."""
        method = method.upper()
        for op in self._ordered:
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def path_exists(self, path: str) -> bool:
        return any(op.pattern.match(path) for op in self.operations)

    def active_operations(self) -> list[Operation]:
        return [op for op in self.operations if not op.deprecated]


def _read(name: str) -> dict[str, Any]:
    document = jsonfast.loads(resources.files("waha_mcp.openapi").joinpath(name).read_bytes())
    if not isinstance(document, dict):
        raise ValueError(f"{name} is not an OpenAPI document (not a JSON object)")
    return document


def with_supplement(document: dict[str, Any], supplement: dict[str, Any]) -> dict[str, Any]:
    """`document` with the supplement's paths, schemas and webhooks added and its schema amendments (new
    properties of existing schemas) applied; a name both define is a mistake in the supplement."""
    out = {**document, "paths": dict(document["paths"]), "webhooks": dict(document.get("webhooks", {}))}
    schemas = dict(document["components"]["schemas"])
    out["components"] = {**document["components"], "schemas": schemas}
    for kind, mine, theirs in (
        ("path", out["paths"], supplement.get("paths", {})),
        ("schema", schemas, supplement.get("components", {}).get("schemas", {})),
        ("webhook", out["webhooks"], supplement.get("webhooks", {})),
    ):
        clash = sorted(set(mine) & set(theirs))
        if clash:
            raise ValueError(f"the supplement redefines the {kind}(s) {', '.join(clash)}")
        mine.update(theirs)
    for name, amendment in supplement.get("x-amend-schemas", {}).items():
        target = schemas[name]
        clash = sorted(set(target.get("properties", {})) & set(amendment["properties"]))
        if clash:
            raise ValueError(f"the supplement redefines {name}.{', '.join(clash)}")
        schemas[name] = {**target, "properties": {**target.get("properties", {}), **amendment["properties"]}}
    return out


@cache
def load_spec(document: str = DOCUMENT) -> Spec:
    """The vendored document `document`; the newest (the default: what the client and the contract checks use)
    comes with the supplement of what later WAHA releases added."""
    data = _read(document)
    return Spec(with_supplement(data, _read(SUPPLEMENT)) if document == DOCUMENT else data)
