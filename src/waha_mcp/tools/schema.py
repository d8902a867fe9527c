"""Typed argument markers and the compact JSON Schemas built from tool signatures.

A marker (chat id, message id, phone, session, paging) validates and normalises its value once, in the
argument model, so no tool calls an id helper itself; guards read `Marker.kind` to find the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, ValidationInfo

from waha_mcp import ids as wid
from waha_mcp.config import SESSION_NAME_RE
from waha_mcp.errors import ToolInputError
from waha_mcp.sessions import validate_session_name
from waha_mcp.times import parse_time


@dataclass(frozen=True)
class Marker:
    # chat | group | channel | message | status | phone | session | time | fetch_url | fetch_host (a proxy's
    # host:port) | fetch_text (a text whose links WAHA fetches for a preview unless `linkPreview` is false) |
    # server (a WAHA server of a fleet: registry.FLEET_ARGUMENTS)
    kind: str


def _normaliser(fn: Callable[..., str]) -> AfterValidator:
    def check(value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return fn(value, field=info.field_name or "value")
        except ToolInputError as exc:
            raise ValueError(str(exc)) from None

    return AfterValidator(check)


def _session(value: str, *, field: str) -> str:
    if value == "":
        raise ToolInputError("session is empty: omit it to use WAHA_SESSION, or name a session")
    return validate_session_name(value)


def _unix(value: str | int, *, field: str) -> int:
    return parse_time(value, field)


def _session_name(value: str, *, field: str) -> str:
    return validate_session_name(value)


# The same optional `session` on every tool; the pipeline replaces it with the resolved name. It carries no
# description: the server's instructions say once that WAHA_SESSION stands in when it is left out.
Session = Annotated[str | None, Marker("session"), _normaliser(_session)]
# A WAHA server of the fleet (WAHA_SERVERS) by name, on server-wide tools: a string checked against the configured
# names by the pipeline (an enum would cost schema bytes per fleet). Taken as `server` (registry.FLEET_ARGUMENTS):
# listed only when several servers are configured.
Server = Annotated[str | None, Marker("server"), Field(description="WAHA server by name (WAHA_SERVERS).")]
# A session named inside another argument (`sessions` lists): the same rule and refusal as `session`; the
# pattern tells the client the rule up front.
SessionName = Annotated[
    str,
    Field(json_schema_extra={"pattern": SESSION_NAME_RE.pattern}),
    _normaliser(_session_name),
]
# Ids carry no description: their names say enough, and every schema byte is paid on every turn.
ChatId = Annotated[str, Marker("chat"), _normaliser(wid.chat_id)]
GroupId = Annotated[str, Marker("group"), _normaliser(wid.group_id)]
ChannelId = Annotated[str, Marker("channel"), _normaliser(wid.channel_id)]
# Where WAHA also takes a channel's invite code or link (get, preview): a link is sent as its code.
ChannelRef = Annotated[
    str, Marker("channel"), _normaliser(wid.channel_ref), Field(description="Id, invite code or link.")
]
MessageId = Annotated[str, Marker("message"), _normaliser(wid.message_id)]
# One of your statuses: its chat is status@broadcast, and whom it reaches is said by the tool (`reach`).
StatusId = Annotated[str, Marker("status"), _normaliser(wid.message_id)]
Phone = Annotated[str, Marker("phone"), _normaliser(wid.phone_number), Field(description="International, digits.")]
# A URL WAHA fetches: the pipeline refuses private, loopback and local hosts once for all (see fetch_urls.py).
fetch_marker = Marker("fetch_url")  # also on arguments that take a URL or a local path
# Its rules (no private or local hosts) are said by the refusal, not repeated in every schema.
FetchUrl = Annotated[str, fetch_marker, Field(description="http(s) URL")]
FetchHost = Annotated[str, Marker("fetch_host")]
preview_marker = Marker("fetch_text")
Limit = Annotated[int, Field(ge=1, le=100)]
# Positions are stored as signed 64-bit integers (SQLite's INTEGER, PostgreSQL's bigint).
MAX_POSITION = 2**63 - 1


def _position(value: str | int) -> str:
    if int(value) > MAX_POSITION:
        raise ValueError(f"is past any position the store can hold (at most {MAX_POSITION})")
    return str(value)


if TYPE_CHECKING:
    # What tools receive: the argument model turns each accepted form into this.
    Timestamp = int
    Cursor = str
    PageToken = str
else:
    # A time as people and WAHA write it (waha_mcp.times.parse_time's rule); tools receive unix seconds.
    Timestamp = Annotated[str | int, Marker("time"), _normaliser(_unix)]
    # A position to continue from, as a string or (as the MCP Inspector sends `cursor=0`) a number; tools get a
    # string.
    Cursor = Annotated[
        Annotated[str, Field(pattern=r"^\d{1,19}$")] | Annotated[int, Field(ge=0)], AfterValidator(_position)
    ]
    # WAHA's own opaque page token (channel search), taken as a number too.
    PageToken = Annotated[Annotated[str, Field(max_length=1000)] | int, AfterValidator(str)]


def _words(value: str, *, field: str) -> str:
    if not value.strip():
        raise ToolInputError(f"{field} is empty (only spaces)")
    return value


# Text WhatsApp shows (a message, a name, a title) has at least one visible character:
# `Annotated[str, Field(min_length=1, max_length=N), visible]`. Tools that strip it before sending still do; this
# only refuses the blank.
visible = _normaliser(_words)
# The name of a group, channel, label or contact.
Name = Annotated[str, Field(min_length=1, max_length=100), visible]


Offset = Annotated[int, Field(ge=0)]


def _marker(annotation: Any) -> Marker | None:
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, Marker):
            return meta
    for arg in get_args(annotation):  # list[ChatId], ChatId | None
        found = _marker(arg)
        if found:
            return found
    return None


def markers_of(model: type[BaseModel]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        for meta in info.metadata:
            if isinstance(meta, Marker):
                out[name] = meta.kind
        if name not in out and info.annotation is not None:
            found = _marker(info.annotation)
            if found:
                out[name] = found.kind
    return out


def compact(schema: dict[str, Any]) -> dict[str, Any]:
    """Fewer tokens, same meaning: no titles, `$defs` inlined, `X | None = None` as optional `X`.

    Not said because it costs bytes on every turn and tells the model nothing: `additionalProperties:
    false` (the argument models refuse unknown names at every depth, naming the closest valid one),
    and defaults a model assumes anyway (`false` for a flag, `0` for an offset).
    """
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        return walk_object(node) if isinstance(node, dict) else node

    def walk_object(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node and node["$ref"].startswith("#/$defs/"):
            target = defs[node["$ref"].removeprefix("#/$defs/")]
            return walk_object({**target, **{k: v for k, v in node.items() if k != "$ref"}})
        out = {
            key: walk(value) if key != "properties" else {name: walk(v) for name, v in value.items()}
            for key, value in node.items()
            if key not in ("title", "$defs", "additionalProperties")
        }
        any_of = out.get("anyOf")
        if isinstance(any_of, list) and {"type": "null"} in any_of and out.get("default", 0) is None:
            # `X | None = None` is an optional X: leaving it out says the same.
            any_of = [item for item in any_of if item != {"type": "null"}]
            out.pop("default")
            out.pop("anyOf")
            out = {**any_of[0], **out} if len(any_of) == 1 else {"anyOf": any_of, **out}
        simple = out.get("anyOf")
        if isinstance(simple, list) and all(list(item) == ["type"] for item in simple):
            # Stays anyOf: strict clients (the MCP Inspector's `--strict`) refuse a `type` list in input schemas.
            out["anyOf"] = [{"type": name} for name in types_of(simple)]
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = walk(node["additionalProperties"])
        if out.get("default") is False and out.get("type") == "boolean":
            out.pop("default")
        elif out.get("default") == 0 and out.get("minimum") == 0 and out.get("type") == "integer":
            out.pop("default")
        return out

    return walk_object(schema)


def arguments_schema(model: type[BaseModel]) -> dict[str, Any]:
    return compact(model.model_json_schema())


def output_schema(annotation: Any) -> dict[str, Any] | None:
    """The output schema of a tool whose return annotation is a TypedDict (or a model); else None."""
    if annotation is None or get_origin(annotation) is not None or not isinstance(annotation, type):
        return None
    if not (issubclass(annotation, BaseModel) or hasattr(annotation, "__required_keys__")):
        return None
    schema = _lean_object(compact(TypeAdapter(annotation).json_schema()))
    # The pipeline adds the session that acted to every result.
    schema["properties"] = {"session": {"type": "string"}} | schema.get("properties", {})
    return schema


def _lean(node: Any) -> Any:
    """Output schemas go out on every tools/list: no descriptions, and `X | None` as `type: [x, null]`."""
    if isinstance(node, list):
        return [_lean(item) for item in node]
    return _lean_object(node) if isinstance(node, dict) else node


def _lean_object(node: dict[str, Any]) -> dict[str, Any]:
    out = {
        key: _lean(value) if key != "properties" else {name: _lean(v) for name, v in value.items()}
        for key, value in node.items()
        if key != "description"
    }
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and all(isinstance(item, dict) and item.keys() == {"type"} for item in any_of):
        out.pop("anyOf")
        out["type"] = types_of(any_of)
    return out


# One order for a merged type list: a union's member order comes from typing's cache (`int | str` and `str | int`
# are one cached Union), so it depends on what was evaluated before; the schema must not.
TYPE_ORDER = ("string", "integer", "number", "boolean", "object", "array", "null")


def types_of(any_of: list[dict[str, Any]]) -> list[str]:
    names = [item["type"] for item in any_of]
    return sorted(names, key=lambda name: TYPE_ORDER.index(name) if name in TYPE_ORDER else len(TYPE_ORDER))
