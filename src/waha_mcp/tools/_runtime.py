"""Binds a registered tool to the server: session resolution, error mapping, result shaping, schema."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcp_types import CallToolResult, TextContent, ToolAnnotations

from waha_mcp.client import BadResponse, WAHAError
from waha_mcp.errors import ToolInputError, explain, one_line
from waha_mcp.projections import REDACTED
from waha_mcp.sessions import resolve_session, validate_session_name
from waha_mcp.tools._common import Deps, error_result, result
from waha_mcp.tools.registry import ToolSpec

log = logging.getLogger("waha_mcp.tools")


def bind(spec: ToolSpec, deps: Deps) -> Callable[..., Awaitable[CallToolResult]]:
    """A function with the tool's signature minus `w`, which the MCP SDK can register."""
    signature = inspect.signature(spec.fn, eval_str=True)
    params = list(signature.parameters.values())[1:]
    if not any(p.name == "session" for p in params):
        raise TypeError(f"{spec.name} must take a `session` parameter")

    async def call(**kwargs: Any) -> CallToolResult:
        # WAHA or a proxy may quote a credential back (in an error, an echoed config): it is not passed on.
        return _scrub(await run(**kwargs), _secrets(deps, kwargs))

    async def run(**kwargs: Any) -> CallToolResult:
        try:
            kwargs["session"] = await _session(spec, deps, kwargs.get("session"))
            out = await spec.fn(deps, **kwargs)
        except ToolInputError as exc:
            return error_result(one_line(f"{spec.name}: {exc}"))
        except BadResponse as exc:
            if not (exc.accepted and not spec.read_only):
                return error_result(await explain(exc, deps.client))
            # A write WAHA accepted (2xx): an error would invite a second send, silence would hide it.
            out = {
                "warning": f"WAHA accepted {exc.where} ({exc.status}) but answered with "
                f"{exc.problem}: the result is unknown; check before repeating it"
            }
        except WAHAError as exc:
            return error_result(await explain(exc, deps.client))
        except Exception:
            # The traceback stays in the server log (stderr); the agent gets one line.
            log.exception("tool %s crashed", spec.name)
            return error_result(f"{spec.name} failed with an internal error; details are in the server log")
        if isinstance(out, CallToolResult):
            return out
        return result(out if isinstance(out, dict) else {"result": out})

    call.__name__ = spec.name
    call.__doc__ = spec.description
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=CallToolResult
    )
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": CallToolResult}
    return call


_SECRET_FIELDS = ("password", "secret", "token", "hmac", "api_key", "apikey")


def _secrets(deps: Deps, arguments: dict[str, Any]) -> list[str]:
    """The API key and every credential-like value in the call's arguments, longest first."""
    found = [deps.settings.api_key or ""]

    def walk(node: Any, field: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, str(key).lower())
        elif isinstance(node, list):
            for value in node:
                walk(value, field)
        elif isinstance(node, str) and (field == "key" or any(word in field for word in _SECRET_FIELDS)):
            found.append(node)

    walk(arguments, "")
    return sorted({secret for secret in found if len(secret) >= 4}, key=len, reverse=True)


def _scrub(out: CallToolResult, secrets: list[str]) -> CallToolResult:
    if not secrets:
        return out

    def clean(node: Any) -> Any:
        if isinstance(node, str):
            for secret in secrets:
                node = node.replace(secret, REDACTED)
            return node
        if isinstance(node, dict):
            return {key: clean(value) for key, value in node.items()}
        if isinstance(node, list):
            return [clean(value) for value in node]
        return node

    content = [
        block.model_copy(update={"text": clean(block.text)}) if isinstance(block, TextContent) else block
        for block in out.content
    ]
    structured = clean(out.structured_content) if out.structured_content is not None else None
    return out.model_copy(update={"content": content, "structured_content": structured})


async def _session(spec: ToolSpec, deps: Deps, given: str | None) -> str | None:
    if spec.session == "none":
        return validate_session_name(given) if given else None
    return await resolve_session(
        deps.client,
        given,
        deps.settings.waha_session,
        tool=spec.name,
        allow_default=spec.session == "default",
    )


def annotations(spec: ToolSpec) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=spec.read_only,
        destructive_hint=spec.destructive,
        idempotent_hint=spec.idempotent,
        open_world_hint=spec.open_world,
    )


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Fewer tokens, same meaning: no titles, `$defs` inlined, `X | None = None` as optional `X`."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node and node["$ref"].startswith("#/$defs/"):
            target = defs[node["$ref"].removeprefix("#/$defs/")]
            return walk({**target, **{k: v for k, v in node.items() if k != "$ref"}})
        out = {
            key: walk(value) if key != "properties" else {name: walk(v) for name, v in value.items()}
            for key, value in node.items()
            if key not in ("title", "$defs", "additionalProperties")
        }
        any_of = out.get("anyOf")
        if (
            isinstance(any_of, list)
            and len(any_of) == 2
            and {"type": "null"} in any_of
            and out.get("default", 0) is None
        ):
            (kept,) = [item for item in any_of if item != {"type": "null"}]
            out.pop("anyOf")
            out.pop("default")
            out = {**kept, **out}
        return out

    return walk(schema)
