"""Check concrete HTTP requests and responses against the vendored WAHA OpenAPI document.

Every function returns a list of one-line problems; an empty list means "conforms". The tests run
every request the client sends (and every response the sandbox returns) through here, so schemas
are preprocessed once and validators are compiled once per schema location.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:  # jsonschema and referencing are imported at the first validation (the sandbox starts faster)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

from waha_mcp.openapi.spec import DOCUMENT, Operation, Spec, load_spec

__all__ = [
    "ERRATA",
    "check_request",
    "check_response",
    "check_schema",
    "check_webhook",
    "json_schema_document",
    "request_body_errors",
]

# The preprocessed document is registered under this URI so `#/components/schemas/X` refs resolve.
_REQUEST_URI = "urn:waha-openapi:request"
_RESPONSE_URI = "urn:waha-openapi:response"
_COMPOSITION = ("$ref", "allOf", "anyOf", "oneOf")
_ANNOTATIONS = ("description", "default", "example", "deprecated")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_MAX_MESSAGE = 300


# --------------------------------------------------------------------------- document preparation


def _to_json_schema(node: Any, *, close_objects: bool) -> Any:
    """Rewrite OpenAPI 3.0-isms of the document into plain JSON Schema 2020-12.

    - `nullable: true` and `default: null` both mean "null is allowed too".
    - `required: true` inside a property schema (NestJS output) is not JSON Schema: dropped.
    - A string `enum` typed `object` (NestJS output) is typed `string`.
    - With `close_objects`, object schemas that list `properties` reject unknown ones, so an
      invented request field is caught. Responses stay open: real WAHA sends more than documented.
    """
    if isinstance(node, list):
        return [_to_json_schema(item, close_objects=close_objects) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value, close_objects=close_objects) for key, value in node.items()}
    if "required" in out and not isinstance(out["required"], list):
        del out["required"]
    enum, kind = out.get("enum"), out.get("type")
    if isinstance(enum, list) and kind == "object" and enum and all(isinstance(v, str) for v in enum):
        # NestJS emits `type: object` for string enums (every webhook envelope's `event`).
        out["type"] = "string"
    if (
        close_objects
        and isinstance(out.get("properties"), dict)
        and "additionalProperties" not in out
        and "unevaluatedProperties" not in out
        and all(isinstance(value, dict) for value in out["properties"].values())
    ):
        out["unevaluatedProperties"] = False
    nullable = out.pop("nullable", False) is True or ("default" in out and out["default"] is None)
    if not nullable:
        return out
    if any(key in out for key in _COMPOSITION) or "type" not in out:
        meta = {key: out.pop(key) for key in ("description", "default", "example", "deprecated") if key in out}
        return {**meta, "anyOf": [{"type": "null"}, out]}
    types = out["type"] if isinstance(out["type"], list) else [out["type"]]
    out["type"] = [*types, "null"] if "null" not in types else types
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _convert_document(document: dict[str, Any], *, close_objects: bool) -> dict[str, Any]:
    """Convert only the schema-bearing parts; the rest of the document is left as it is."""
    out = copy.deepcopy(document)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema":
                    node[key] = _to_json_schema(value, close_objects=close_objects)
                elif key == "schemas" and isinstance(value, dict):
                    node[key] = {
                        name: _to_json_schema(schema, close_objects=close_objects) for name, schema in value.items()
                    }
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(out)
    return out


# Places where the document contradicts its own examples and the real server. Each replaces the
# node at a JSON pointer of the original document before conversion.
ERRATA: tuple[tuple[str, Any, str], ...] = (
    (
        "/components/schemas/WebhookConfig/properties/events/items",
        {"type": "string"},
        "events are event names ('message', 'session.status'); the document says objects",
    ),
    (
        "/components/schemas/MessagePollVoteRequest/properties/votes/items",
        {"type": "string", "description": "Poll option you are voting for"},
        "votes is a list of option names; the document nests an array in each item",
    ),
    *(
        (
            f"/components/schemas/{schema}/properties/{field}",
            {"type": "string", "default": default},
            f"{schema}.{field} is a string; NestJS documented the untyped default as an object",
        )
        for schema, field, default in (
            ("VoiceRemoteFile", "mimetype", "audio/ogg; codecs=opus"),
            ("VoiceBinaryFile", "mimetype", "audio/ogg; codecs=opus"),
            ("VoiceBinaryFile", "filename", "voice-message.mp3"),
            ("VideoRemoteFile", "mimetype", "video/mp4"),
            ("VideoRemoteFile", "filename", "video.mp4"),
            ("VideoBinaryFile", "mimetype", "video/mp4"),
            ("VideoBinaryFile", "filename", "video.mp4"),
        )
    ),
    (
        "/components/schemas/MessagePoll/properties/multipleAnswers",
        {"type": "boolean", "default": False},
        "multipleAnswers is a boolean (its default is false); the document says object",
    ),
    (
        "/components/schemas/MessageTextRequest/properties/mentions",
        {"type": "array", "items": {"type": "string"}},
        "WAHA's send-messages guide documents `mentions` (ids to @mention) on sendText; the document omits it",
    ),
    (
        "/components/schemas/SessionInfo/properties/me",
        {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/MeInfo"}]},
        "real WAHA sends me: null for a session that is not paired yet",
    ),
    (
        "/components/schemas/ChatPictureResponse/properties/url",
        {"anyOf": [{"type": "null"}, {"type": "string"}]},
        "WAHA answers {url: null} for a chat or group without a picture",
    ),
    (
        "/components/schemas/WAMessage/required",
        ["id", "timestamp", "from", "fromMe", "source", "body", "hasMedia", "mediaUrl", "ack", "ackName"],
        "NOWEB sends `to` and `participant` only in groups (getFromToParticipant, session.noweb.core.ts)",
    ),
    *(
        (
            f"/components/schemas/{schema}/properties/{field}",
            {"anyOf": [{"type": "null"}, {"type": "string"}]},
            "GOWS sends `to` and `participant` as null outside groups (getFromToParticipant, session.gows.core.ts)",
        )
        for schema in ("WAMessage", "WAMessageAckBody")
        for field in ("to", "participant")
    ),
    (
        "/components/schemas/WAMessageAckBody/required",
        ["id", "from", "fromMe", "ack", "ackName"],
        "NOWEB's acks carry `to` and `participant` only in groups (convertMessageUpdateToMessageAck)",
    ),
    (
        "/components/schemas/LidToPhoneNumber/properties/pn",
        {"anyOf": [{"type": "null"}, {"type": "string"}]},
        "an unknown LID answers pn: null (lids.controller.ts: result.pn = result.pn || null)",
    ),
    (
        "/components/schemas/LidToPhoneNumber/properties/lid",
        {"anyOf": [{"type": "null"}, {"type": "string"}]},
        "an unknown number answers lid: null (lids.controller.ts: result.lid = result.lid || null)",
    ),
    *(
        (
            f"/components/schemas/{schema}/properties/{field}",
            {"anyOf": [{"type": "null"}, {"type": "string"}]},
            "a channel without a picture answers preview and picture null (issue 21's audit)",
        )
        for schema in ("Channel", "ChannelPublicInfo")
        for field in ("preview", "picture")
    ),
    (
        "/components/schemas/NowebConfig/required",
        [],
        "markOnline has a default (true) and the document's own example omits it",
    ),
)


def _apply_errata(document: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(document)
    for pointer, replacement, _why in ERRATA:
        *parents, last = (part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/"))
        node: Any = out
        for part in parents:
            node = node[part]
        # A new property may be added (a field WAHA accepts but the document omits); anything else must exist.
        if last not in node and parents[-1:] != ["properties"]:
            raise KeyError(f"erratum for {pointer} no longer applies to the document")
        node[last] = copy.deepcopy(replacement)
    return out


@cache
def json_schema_document(kind: str, document: str = DOCUMENT) -> dict[str, Any]:
    """The document as JSON Schema 2020-12, for `kind` 'request' (closed objects) or 'response'.

    The errata are about the newest document; an older one (a sandbox profile's) is taken as it is.
    Cached and shared by every validator: read it, do not mutate it.
    """
    if kind not in ("request", "response"):
        raise ValueError(f"kind must be 'request' or 'response', not {kind!r}")
    source = load_spec(document).document
    source = _apply_errata(source) if document == DOCUMENT else source
    return _convert_document(source, close_objects=kind == "request")


@cache
def _registry(kind: str, document: str = DOCUMENT) -> Registry:
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    uri = _REQUEST_URI if kind == "request" else _RESPONSE_URI
    resource = DRAFT202012.create_resource(json_schema_document(kind, document))
    return Registry().with_resources([(uri, resource)])  # with_resource is the same, without a return type


def _pointer(*parts: str) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@cache
def _validator(kind: str, pointer: str, document: str = DOCUMENT) -> Draft202012Validator:
    """A compiled validator for the schema at `pointer` inside the converted document."""
    from jsonschema import Draft202012Validator

    uri = _REQUEST_URI if kind == "request" else _RESPONSE_URI
    return Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=_registry(kind, document))


@cache
def _param_validator(schema_json: str) -> Draft202012Validator:
    # Parameter schemas are small and inline; keyed by their JSON text so identical ones share.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_to_json_schema(json.loads(schema_json), close_objects=False))


# --------------------------------------------------------------------------- message helpers


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _location(prefix: str, path: Iterator[Any] | Any) -> str:
    out = prefix
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _message(error: ValidationError) -> str:
    if error.validator == "unevaluatedProperties":
        return error.message.replace("Unevaluated properties", "Properties not in the document")
    return error.message


def _describe(error: ValidationError, prefix: str) -> str:
    where = _location(prefix, error.absolute_path)
    message = _message(error)
    # The `{"type": "null"}` branch added for nullable fields is never the interesting one.
    context = [e for e in error.context if e.schema != {"type": "null"}] or error.context
    from jsonschema.exceptions import best_match

    closest = best_match(context) if context else None
    if closest is not None:
        inner = _location(where, closest.relative_path)
        message = f"{_short(error.instance)} matches none of the alternatives; closest: {inner}: "
        message += _message(closest)
    return _one_line(f"{where}: {message}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _schema_errors(validator: Draft202012Validator, instance: Any, prefix: str) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(error, prefix) for error in errors]


def _label(op: Operation) -> str:
    return f"{op.key} ({op.operation_id})"


# --------------------------------------------------------------------------- requests


def _parse_query(query: Mapping[str, list[str]] | str) -> dict[str, list[str]]:
    if isinstance(query, str):
        return parse_qs(query.lstrip("?"), keep_blank_values=True)
    return {name: list(values) for name, values in query.items()}


def _coerce(raw: str, schema: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Turn one query string value into the typed value its schema describes."""
    kind = schema.get("type")
    if kind == "boolean":
        if raw in ("true", "false"):
            return raw == "true", None
        return None, f"{raw!r} is not a boolean (send 'true' or 'false')"
    if kind in ("number", "integer"):
        pattern = _INTEGER if kind == "integer" else _NUMBER
        if not pattern.fullmatch(raw):
            return None, f"{raw!r} is not {'an integer' if kind == 'integer' else 'a number'}"
        value = float(raw)
        if not math.isfinite(value):
            return None, f"{raw!r} is not a finite number"
        return (int(raw) if kind == "integer" or _INTEGER.fullmatch(raw) else value), None
    return raw, None


def _check_query(op: Operation, query: dict[str, list[str]]) -> list[str]:
    problems: list[str] = []
    declared = {p["name"]: p for p in op.parameters if p.get("in") == "query"}
    for name in query:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(f"query: unknown parameter {name!r} (declared: {known})")
    for name, param in declared.items():
        values = query.get(name)
        if not values:
            if param.get("required"):
                problems.append(f"query: missing required parameter {name!r}")
            continue
        schema = param.get("schema") or {}
        if schema.get("type") == "array":
            # form style, explode=true (the OpenAPI default): the parameter repeats once per item.
            items = schema.get("items") or {}
            coerced = [_coerce(raw, items) for raw in values]
            errors = [f"query {name!r}: {error}" for _, error in coerced if error]
            if errors:
                problems.extend(errors)
                continue
            instance: Any = [value for value, _ in coerced]
        else:
            if len(values) > 1:
                problems.append(f"query {name!r}: given {len(values)} times, the document allows one value")
                continue
            instance, error = _coerce(values[0], schema)
            if error:
                problems.append(f"query {name!r}: {error}")
                continue
        validator = _param_validator(json.dumps(schema, sort_keys=True))
        problems.extend(_schema_errors(validator, instance, f"query {name!r}"))
    return problems


def _check_path(op: Operation, raw_path: str) -> list[str]:
    problems: list[str] = []
    values = op.path_params(raw_path) or {}
    for param in op.parameters:
        if param.get("in") != "path":
            continue
        name = param["name"]
        value = values.get(name)
        if value is None:
            problems.append(f"path: parameter {name!r} is not in the path template")
        elif not value.strip():
            problems.append(f"path: parameter {name!r} is empty")
    return problems


def _check_body(op: Operation, body: Any, has_body: bool) -> list[str]:
    item = load_spec().document["paths"][op.path][op.method.lower()]
    declared = item.get("requestBody")
    if declared is None:
        return ["body: sent, but the operation takes no request body"] if has_body else []
    declared = load_spec().resolve(declared)
    content = declared.get("content", {})
    if not has_body:
        return ["body: missing, the operation requires a JSON body"] if declared.get("required") else []
    media = "application/json" if "application/json" in content else next(iter(content), None)
    if media is None or "schema" not in content[media]:
        return []
    pointer = _pointer("paths", op.path, op.method.lower(), "requestBody", "content", media, "schema")
    if "$ref" in item["requestBody"]:
        ref = item["requestBody"]["$ref"]
        pointer = ref.lstrip("#") + _pointer("content", media, "schema")
    return _schema_errors(_validator("request", pointer), body, "body")


def _session_places(op: Operation, query: dict[str, list[str]], body: Any) -> list[str]:
    places = []
    if "{session}" in op.path:
        places.append("path")
    if query.get("session"):
        places.append("query")
    if isinstance(body, dict) and "session" in body:
        places.append("body")
    return places


def _check_session(op: Operation, raw_path: str, query: dict[str, list[str]], body: Any) -> list[str]:
    expected = op.session_location
    found = _session_places(op, query, body)
    where = ", ".join(found) or "nowhere"
    if expected is None:
        # Unknown query/body fields are reported elsewhere; this names the likely mistake.
        stray = [place for place in found if place != "path"]
        if stray:
            return [f"session: this operation takes no session, but one was sent in the {where}"]
        return []
    names = {"path": "the {session} path segment", "query": "the 'session' query parameter"}
    names["body"] = "the 'session' field of the JSON body"
    problems: list[str] = []
    if expected not in found:
        problems.append(f"session: expected in {names[expected]}, found in: {where}")
    else:
        value: Any = None
        if expected == "path":
            value = (op.path_params(raw_path) or {}).get("session")
        elif expected == "query":
            value = query["session"][0]
        else:
            value = body.get("session")
        if isinstance(value, str) and not value.strip():
            problems.append(f"session: {names[expected]} is empty")
    return problems


def _unmatched(spec: Spec, method: str, raw_path: str) -> str:
    label = f"{method} {raw_path}"
    allowed = sorted({op.method for op in spec.operations if op.pattern.match(raw_path)})
    if allowed:
        return f"{label}: no {method} operation on this path (the document allows {', '.join(allowed)})"
    for op in spec.operations:
        if op.method == method and _lenient_pattern(op.path).match(raw_path):
            return f"{_label(op)}: a path parameter is empty in {raw_path!r}"
    return f"{label}: no operation in the document matches this path"


@cache
def _lenient_pattern(template: str) -> re.Pattern[str]:
    parts = ["[^/]*" if seg.startswith("{") else re.escape(seg) for seg in template.strip("/").split("/")]
    return re.compile("^/" + "/".join(parts) + "$")


def check_request(
    method: str,
    raw_path: str,
    query: Mapping[str, list[str]] | str,
    body: Any | None,
    *,
    has_body: bool,
) -> list[str]:
    """Problems with one request (empty list: it conforms to the document).

    `raw_path` is the percent-encoded path without the query string; `body` is the parsed JSON
    body, meaningful only when `has_body` is true (so a literal JSON `null` can be told apart).
    """
    spec = load_spec()
    method = method.upper()
    op = spec.match(method, raw_path)
    if op is None:
        return [_unmatched(spec, method, raw_path)]
    parsed = _parse_query(query)
    problems = [
        *_check_path(op, raw_path),
        *_check_query(op, parsed),
        *_check_body(op, body, has_body),
        *_check_session(op, raw_path, parsed, body if has_body else None),
    ]
    label = _label(op)
    return [f"{label}: {problem}" for problem in problems]


@cache
def _json_body_pointer(method: str, path: str) -> str | None:
    """Where the JSON request-body schema of one operation sits in the converted document."""
    item = load_spec().document["paths"][path][method.lower()]
    declared = item.get("requestBody")
    if declared is None:
        return None
    content = load_spec().resolve(declared).get("content", {})
    if "schema" not in content.get("application/json", {}):
        return None
    if "$ref" in declared:
        return str(declared["$ref"]).lstrip("#") + _pointer("content", "application/json", "schema")
    return _pointer("paths", path, method.lower(), "requestBody", "content", "application/json", "schema")


def request_body_errors(operation: Operation, body: Any) -> list[ValidationError]:
    """The raw schema errors of a parsed JSON request body (empty: it conforms, or no JSON body is declared).

    Same errata-patched, closed-object schemas and cached validators as `check_request`, but the
    jsonschema errors themselves, for callers that word them their own way (the sandbox answers
    like NestJS). Properties the document does not list come back as `unevaluatedProperties`.
    """
    pointer = _json_body_pointer(operation.method, operation.path)
    if pointer is None:
        return []
    return list(_validator("request", pointer).iter_errors(body))


# --------------------------------------------------------------------------- responses


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _declared_response(op: Operation, status: int, spec: Spec) -> tuple[str, dict[str, Any]] | None:
    """The response object for `status`; a 2xx falls back to the single documented 2xx.

    Real WAHA answers 200 where the document says 201 (and the reverse); the body must still
    have the documented shape.
    """
    if str(status) in op.responses:
        return str(status), spec.resolve(op.responses[str(status)])
    if 200 <= status < 300:
        success = [code for code in op.responses if code.startswith("2")]
        if len(success) == 1:
            return success[0], spec.resolve(op.responses[success[0]])
    if "default" in op.responses:
        return "default", spec.resolve(op.responses["default"])
    return None


def check_response(
    operation: Operation, status: int, content_type: str | None, body: bytes, document: str = DOCUMENT
) -> list[str]:
    """Problems with one response to `operation` (empty list: it conforms to the document).

    `document` names another vendored document (an older WAHA's) whose operation `operation` is.
    """
    spec = load_spec(document)
    label = f"{_label(operation)}: response {status}"
    media = _media_type(content_type)
    found = _declared_response(operation, status, spec)
    content: dict[str, Any] = (found[1].get("content") or {}) if found else {}
    declared = {_media_type(key): key for key in content}
    success = 200 <= status < 300

    if media is not None and media.startswith("image/") and media not in declared:
        return [f"{label}: {media} is not a documented response of this operation"]
    if not body.strip():
        return []  # WAHA sends empty 2xx bodies (delete, stop, /me while logged out).
    if not content:
        return []  # Undocumented (all error statuses are): nothing to check against.
    if media is None:
        return [f"{label}: body without a Content-Type (documented: {', '.join(content)})"]
    if media not in declared:
        if success:
            return [f"{label}: content type {media} not documented (documented: {', '.join(content)})"]
        return []
    key = declared[media]
    if not _is_json(media) or "schema" not in content[key]:
        return []
    try:
        instance = json.loads(body)
    except ValueError as exc:
        return [f"{label}: body is not valid JSON ({exc})"]
    item = spec.document["paths"][operation.path][operation.method.lower()]["responses"]
    code = found[0] if found else str(status)
    if "$ref" in item[code]:
        pointer = item[code]["$ref"].lstrip("#") + _pointer("content", key, "schema")
    else:
        pointer = _pointer("paths", operation.path, operation.method.lower(), "responses", code)
        pointer += _pointer("content", key, "schema")
    return [f"{label}: {p}" for p in _schema_errors(_validator("response", pointer, document), instance, "body")]


# --------------------------------------------------------------------------- schemas and webhooks


def check_schema(name: str, instance: Any, *, kind: str = "response") -> list[str]:
    """Problems with `instance` as a `#/components/schemas/<name>` value.

    `kind='request'` rejects properties the document does not list; 'response' allows them.
    """
    if name not in load_spec().document["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in the WAHA document")
    pointer = _pointer("components", "schemas", name)
    return [f"{name}: {p}" for p in _schema_errors(_validator(kind, pointer), instance, "value")]


def check_webhook(event: str, envelope: Any) -> list[str]:
    """Problems with a webhook envelope (`{id, timestamp, session, event, payload, ...}`) for `event`."""
    webhooks = load_spec().document.get("webhooks", {})
    label = f"webhook {event}"
    if event not in webhooks:
        return [f"{label}: not an event of the WAHA document"]
    content = webhooks[event]["post"]["requestBody"]["content"]
    media = "application/json" if "application/json" in content else next(iter(content))
    pointer = _pointer("webhooks", event, "post", "requestBody", "content", media, "schema")
    problems = _schema_errors(_validator("response", pointer), envelope, "body")
    # The document's `event` allows every event name; the envelope must carry its own.
    if isinstance(envelope, dict) and "event" in envelope and envelope["event"] != event:
        problems.append(f"body.event: {envelope['event']!r} sent for the {event!r} webhook")
    return [f"{label}: {p}" for p in problems]
