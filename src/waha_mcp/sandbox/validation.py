"""Request bodies checked against the document's schemas, answered in NestJS ValidationPipe's words.

The schemas and compiled validators are the contract tests' (`request_body_errors`: errata-patched,
one cached validator per operation). The request schemas use only `type`, `required`, `enum`,
`items`, `allOf`, `oneOf` and (added for the contract tests) `unevaluatedProperties`. The first
three have a fixed class-validator wording and are reported here:

- `required` → "<field> should not be empty"
- `type`     → "<field> must be a string" (class-validator's words for each type)
- `enum`     → "<field> must be one of the following values: a, b"

The rest is not reported here:
- `unevaluatedProperties`: WAHA's ValidationPipe runs with `whitelist`, so fields the document does
  not list are dropped, not refused (refused only under WAHA_HTTP_STRICT_MODE).
- `oneOf` / `anyOf`: jsonschema can only say "matches none of the alternatives"; the route handlers
  check those fields themselves and say what WAHA says ("file must have either url or data").
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..openapi.contract import request_body_errors
from ..openapi.spec import Operation

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# class-validator's default messages (IsString, IsBoolean, IsNumber, IsInt, IsArray, IsObject).
_TYPE_WORDS = {
    "string": "a string",
    "boolean": "a boolean value",
    "number": "a number conforming to the specified constraints",
    "integer": "an integer number",
    "array": "an array",
    "object": "an object",
}


def body_problems(operation: Operation, body: Any) -> list[str]:
    """NestJS-worded problems with a parsed JSON body, in the order found (empty: nothing to refuse)."""
    errors = request_body_errors(operation, body)
    refused_nulls = [
        list(error.absolute_path)
        for error in errors
        if error.validator in ("type", "enum") and error.instance is None and _is_property(error)
    ]
    if refused_nulls:
        # class-validator's IsOptional lets null through like a missing field, and IsNotEmpty
        # refuses it like a missing one: check again without them, so `required` decides.
        errors = request_body_errors(operation, _without(body, refused_nulls))
    problems: list[str] = []
    for error in errors:
        message = _message(error)
        if message is not None and message not in problems:
            problems.append(message)
    return problems


def _is_property(error: ValidationError) -> bool:
    return bool(error.absolute_path) and isinstance(error.absolute_path[-1], str)


def _without(body: Any, paths: list[list[Any]]) -> Any:
    out = copy.deepcopy(body)
    for *parents, name in paths:
        node = out
        for part in parents:
            node = node[part]
        node.pop(name, None)
    return out


def _field(path: list[Any]) -> str:
    # class-validator names nested fields with dots, list indexes included: message.sections.0.rows
    return ".".join(str(part) for part in path)


def _message(error: ValidationError) -> str | None:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = _missing(error)
        return None if missing is None else f"{_field([*path, missing])} should not be empty"
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [str(error.validator_value)]
        kind = next((k for k in kinds if k != "null"), "object")
        expected = f"must be {_TYPE_WORDS.get(kind, kind)}"
    elif error.validator == "enum":
        listed = error.validator_value if isinstance(error.validator_value, list) else []
        values = ", ".join(str(v) for v in listed if v is not None)
        expected = f"must be one of the following values: {values}"
    else:
        return None
    if path and isinstance(path[-1], int):
        # A list item ({each: true}) is worded for the list: "each value in votes must be a string".
        return f"each value in {_field(path[:-1])} {expected}"
    return f"{_field(path)} {expected}"


def _missing(error: ValidationError) -> str | None:
    """The property a `required` error is about (jsonschema names it only inside its message)."""
    if not isinstance(error.instance, dict):
        return None
    # One error per missing property, each worded "'<name>' is a required property".
    required = error.validator_value if isinstance(error.validator_value, list) else []
    missing = (name for name in required if name not in error.instance)
    return next((name for name in missing if error.message.startswith(repr(name))), None)
