"""The registry: one declared effect per tool decides its policy; selection by toolset, tool and read-only."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest
from mcp import Client
from pydantic import ValidationError

from waha_mcp.config import ConfigError
from waha_mcp.tools.registry import POLICY, SANDBOX_ONLY, TOOLSETS, Effect, all_tools, client_view, select_tools
from waha_mcp.tools.schema import compact


def names(specs: list) -> list[str]:
    return [spec.name for spec in specs]


def test_order_is_deterministic_and_grouped_by_toolset() -> None:
    first, second = names(all_tools()), names(all_tools())
    assert first == second
    order = [list(TOOLSETS).index(spec.toolset) for spec in all_tools()]
    assert order == sorted(order)


def test_every_tool_names_the_waha_operations_it_reaches() -> None:
    from waha_mcp.openapi import load_spec

    spec = load_spec()
    for tool in all_tools():
        assert tool.name.startswith("waha_")
        # The sandbox-only tools act on the built-in emulator, and waha_get_audit_log on this server's store:
        # never on WAHA.
        assert bool(tool.operations) == (tool.toolset not in SANDBOX_ONLY and tool.name != "waha_get_audit_log"), (
            tool.name
        )
        assert all(op in spec.by_id for op in tool.operations), tool.name


def test_toolsets_filter() -> None:
    chosen = select_tools(toolsets=["server"])
    assert {spec.toolset for spec in chosen} == {"server"}
    everything = [spec for spec in all_tools() if spec.toolset not in SANDBOX_ONLY]
    assert len(select_tools(toolsets=["all"])) == len(everything)
    assert len(select_tools(toolsets=["all"], sandbox=True)) == len(all_tools())


def test_the_sandbox_toolset_is_listed_only_and_always_in_sandbox_mode() -> None:
    sandbox_tools = {spec.name for spec in all_tools() if spec.toolset == "sandbox"}
    assert sandbox_tools == {
        "waha_sandbox_pair",
        "waha_sandbox_receive",
        "waha_sandbox_set_state",
        "waha_sandbox_fault",
    }
    assert not sandbox_tools & set(names(select_tools(toolsets=["all"])))
    assert not sandbox_tools & set(names(select_tools()))
    assert sandbox_tools <= set(names(select_tools(sandbox=True)))
    assert sandbox_tools <= set(names(select_tools(toolsets=["chats"], sandbox=True)))


def test_the_sandbox_default_also_walks_the_guide_and_waits_for_replies() -> None:
    default, sandboxed = set(names(select_tools())), set(names(select_tools(sandbox=True)))
    sessions = {spec.name for spec in all_tools() if spec.toolset == "sessions"}
    assert sandboxed - default == sessions - default | {"waha_wait_for_message", "waha_get_events"} | {
        spec.name for spec in all_tools() if spec.toolset == "sandbox"
    }
    assert "waha_wait_for_message" not in default  # outside the sandbox the events toolset is opt-in


def test_single_tools_add_to_toolsets_or_stand_alone() -> None:
    assert names(select_tools(tools=["waha_get_session"])) == ["waha_get_session"]
    both = names(select_tools(toolsets=["server"], tools=["waha_get_session"]))
    assert "waha_get_session" in both and "waha_get_server_info" in both


def test_read_only_overrides_everything() -> None:
    chosen = select_tools(tools=["waha_delete_session", "waha_get_session"], read_only=True)
    assert names(chosen) == ["waha_get_session"]
    assert all(spec.read_only for spec in select_tools(read_only=True))


def test_unknown_names_fail_with_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown toolset.*valid: all, sessions"):
        select_tools(toolsets=["nope"])
    with pytest.raises(ConfigError, match="unknown tool"):
        select_tools(tools=["waha_nope"])


# effect → (readOnly, destructive, idempotent, openWorld), session policy, confirmation, audit
TABLE = {
    Effect.READ: ((True, False, True, False), "default", False, False),
    Effect.LOCAL: ((False, False, True, False), "default", False, True),
    Effect.VISIBLE: ((False, False, False, True), "default", False, True),
    Effect.DESTRUCTIVE: ((False, True, True, True), "explicit", True, True),
    Effect.ADMIN: ((False, True, False, False), "explicit", True, True),
}


def test_the_effect_table_is_the_whole_policy() -> None:
    assert set(POLICY) == set(Effect)
    for effect, (hints, session, confirm, audit) in TABLE.items():
        policy = POLICY[effect]
        assert policy.hints == hints and client_view(policy.annotations) == hints, effect
        assert (policy.session, policy.confirm, policy.audit) == (session, confirm, audit), effect


def test_annotations_carry_only_what_differs_from_the_mcp_defaults() -> None:
    sent = {effect: POLICY[effect].annotations.model_dump(by_alias=True, exclude_none=True) for effect in Effect}
    assert sent == {
        Effect.READ: {"readOnlyHint": True, "openWorldHint": False},
        Effect.LOCAL: {"destructiveHint": False, "idempotentHint": True, "openWorldHint": False},
        Effect.VISIBLE: {"destructiveHint": False},
        Effect.DESTRUCTIVE: {"idempotentHint": True},
        Effect.ADMIN: {"openWorldHint": False},
    }


def test_every_tool_takes_its_annotations_from_its_effect() -> None:
    for spec in all_tools():
        assert spec.annotations == POLICY[spec.effect].annotations, spec.name


# The effect of each tool whose classification was once disputed: one effect, one set of hints.
DISPUTED = {
    "waha_set_presence": Effect.VISIBLE,  # typing included: one tool for one effect
    "waha_edit_message": Effect.VISIBLE,
    "waha_react_to_message": Effect.VISIBLE,
    "waha_get_presence": Effect.LOCAL,  # asking for one chat's presence subscribes to it
    "waha_download_media": Effect.READ,  # its `save` argument writes, and is hidden in read-only mode
    "waha_delete_message": Effect.DESTRUCTIVE,
    "waha_delete_chat": Effect.DESTRUCTIVE,
    "waha_clear_chat": Effect.DESTRUCTIVE,
    "waha_stop_session": Effect.DESTRUCTIVE,
    "waha_delete_session": Effect.DESTRUCTIVE,
    "waha_logout_session": Effect.DESTRUCTIVE,
    "waha_start_session": Effect.LOCAL,
}


def test_disputed_tools_have_one_effect_each() -> None:
    by_name = {spec.name: spec for spec in all_tools()}
    assert "waha_set_typing" not in by_name
    for name, effect in DISPUTED.items():
        assert by_name[name].effect is effect, name


def test_destructive_tools_never_fall_back_to_the_default_session() -> None:
    destructive = [spec for spec in all_tools() if spec.effect in (Effect.DESTRUCTIVE, Effect.ADMIN)]
    assert len(destructive) >= 7
    for spec in destructive:
        # "none": a server-wide tool (keys, the server itself) takes `session` as given, never WAHA_SESSION.
        assert spec.session_policy in ("explicit", "none"), spec.name
        assert spec.session_policy == "explicit" or spec.scope == "server", spec.name


def test_read_only_mode_hides_arguments_that_write() -> None:
    (download,) = [spec for spec in all_tools() if spec.name == "waha_download_media"]
    assert "save" in download.schema_for(read_only=False, fleet=True)["properties"]
    assert "save" not in download.schema_for(read_only=True, fleet=True)["properties"]


def test_every_input_schema_is_compact() -> None:
    for spec in all_tools():
        assert not _noise(spec.input_schema), spec.name


def test_unknown_names_are_refused_at_every_depth_though_schemas_do_not_spend_bytes_saying_so() -> None:
    (send_list,) = [spec for spec in all_tools() if spec.name == "waha_send_list"]
    assert "additionalProperties" not in send_list.input_schema
    with pytest.raises(ValidationError) as refused:
        send_list.arguments.model_validate(
            {
                "chatId": "1@c.us",
                "title": "t",
                "button": "b",
                "sections": [{"title": "s", "rows": [{"title": "r", "x": 1}]}],
            }
        )
    assert refused.value.errors()[0]["loc"] == ("sections", 0, "rows", 0, "x")


def _noise(node: object) -> list[str]:
    """Keys that cost tokens and say nothing: pydantic titles, `$defs`, a closed-object flag, a `false` default
    for a flag (property names excepted)."""
    if isinstance(node, list):
        return [key for item in node for key in _noise(item)]
    if not isinstance(node, dict):
        return []
    found = [key for key in node if key in ("title", "$defs", "$ref")]
    found += ["additionalProperties"] if node.get("additionalProperties") is False else []
    found += ["default"] if node.get("default") is False else []
    for key, value in node.items():
        children = value.values() if key == "properties" else [value]
        found += [k for child in children for k in _noise(child)]
    return found


def test_paging_bounds_are_in_the_schema() -> None:
    (chats,) = [spec for spec in all_tools() if spec.name == "waha_get_chats"]
    props = chats.input_schema["properties"]
    assert (props["limit"]["minimum"], props["limit"]["maximum"]) == (1, 100)
    assert props["offset"]["minimum"] == 0


def test_the_default_set_is_small_and_covers_the_common_case() -> None:
    chosen = select_tools()
    assert len(chosen) <= 25
    assert {spec.toolset for spec in chosen} >= {"sessions", "chats", "messages", "contacts", "groups"}
    # Groups and contacts are there to read; admin never is.
    assert all(spec.read_only for spec in chosen if spec.toolset in ("groups", "contacts"))
    assert not [spec for spec in chosen if spec.toolset == "admin"]
    # Everything else is one setting away.
    assert len(select_tools(toolsets=["all"], sandbox=True)) == len(all_tools()) > len(chosen)


def test_a_merged_type_list_has_one_order_whatever_the_union_order() -> None:
    # `int | str` and `str | int` are one cached Union in typing: which order a schema sees depends on what was
    # evaluated before it, so the schema fixes the order itself.
    forward = compact({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]})
    backward = compact({"anyOf": [{"type": "null"}, {"type": "string"}, {"type": "integer"}]})
    assert forward == backward == {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}


def _types(node: object) -> list[object]:
    if isinstance(node, list):
        return [t for item in node for t in _types(item)]
    if not isinstance(node, dict):
        return []
    found = [node["type"]] if "type" in node else []
    children = [list(value.values()) if key == "properties" else value for key, value in node.items()]
    return found + [t for child in children for t in _types(child)]


def test_every_input_type_is_a_single_name_for_strict_clients() -> None:
    """The MCP Inspector's `--strict` check refuses `type: [...]` in an input schema: unions are anyOf."""
    for spec in all_tools():
        assert all(isinstance(t, str) for t in _types(spec.input_schema)), spec.name


@pytest.mark.parametrize("tool", ["waha_get_events", "waha_wait_for_event", "waha_wait_for_message",
                                  "waha_get_audit_log", "waha_search_channels"])  # fmt: skip
def test_cursors_are_taken_as_numbers_too(tool: str) -> None:
    """The Inspector sends `cursor=0` as a number: the same cursor, as the tool's string."""
    (spec,) = [spec for spec in all_tools() if spec.name == tool]
    assert spec.arguments.model_validate({"cursor": 0}).cursor == "0"  # type: ignore[attr-defined]
    assert spec.arguments.model_validate({"cursor": "12"}).cursor == "12"  # type: ignore[attr-defined]


def test_output_schemas_are_built_on_first_use_not_at_start() -> None:
    spec = next(spec for spec in all_tools() if spec.name == "waha_get_chats")
    fresh = type(spec)(**{f.name: getattr(spec, f.name) for f in fields(spec)})
    assert "output_schema" not in vars(fresh)  # nothing built yet
    assert fresh.output_schema == spec.output_schema and "output_schema" in vars(fresh)


def test_the_shipped_input_schemas_are_what_the_argument_models_build() -> None:
    """tools/list answers from schemas.json without building a model; it must say what the models check."""
    from waha_mcp.tools import shipped

    built = shipped.built_schemas()
    assert set(built) == {spec.name for spec in all_tools()}
    assert shipped.FILE.read_text(encoding="utf-8") == shipped.render(built), (
        "src/waha_mcp/tools/schemas.json is stale: python -m waha_mcp.tools.shipped"
    )


def fresh(spec: Any) -> Any:
    """The spec as registration left it: nothing built on it yet."""
    return type(spec)(**{f.name: getattr(spec, f.name) for f in fields(spec)})


async def test_listing_builds_no_argument_model_and_a_call_builds_only_its_own(transport: Any) -> None:
    from waha_mcp.config import load_settings
    from waha_mcp.server import build_server

    specs = [fresh(spec) for spec in all_tools() if spec.toolset not in SANDBOX_ONLY]
    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="all")
    server = build_server(settings, tools=specs, transport=transport)
    listed = {tool.name: tool.input_schema for tool in await server.list_tools()}
    single = {
        spec.name: spec.schema_for(False, fleet=False) for spec in all_tools() if spec.toolset not in SANDBOX_ONLY
    }
    assert listed == single
    assert not [spec.name for spec in specs if "arguments" in vars(spec) or "markers" in vars(spec)]
    async with Client(server) as client:
        assert not (await client.call_tool("waha_get_session", {})).is_error
    assert [spec.name for spec in specs if "arguments" in vars(spec)] == ["waha_get_session"]


def test_name_and_toolset_come_from_the_function_and_its_module() -> None:
    from waha_mcp.tools import sessions
    from waha_mcp.tools.registry import REGISTRY

    assert REGISTRY["waha_get_session"].fn is sessions.get_session
    assert REGISTRY["waha_get_session"].toolset == "sessions"
    assert REGISTRY["waha_get_server_info"].toolset == "server"  # where its module says otherwise, it is given
    for spec in all_tools():
        assert spec.name == f"waha_{spec.fn.__name__}", spec.name


def test_a_registration_naming_an_argument_the_tool_lacks_fails_at_import() -> None:
    from waha_mcp.tools._common import Session
    from waha_mcp.tools.registry import REGISTRY, tool

    async def probe_tool(w: Any, session: Session = None) -> dict[str, Any]:
        return {}

    with pytest.raises(TypeError, match=r"names unknown arguments \['labelId'\]"):
        tool("A probe.", effect=Effect.LOCAL, target="labelId", toolset="labels")(probe_tool)
    with pytest.raises(ValueError, match="unknown toolset 'test_registry' for waha_probe_tool"):
        tool("A probe.", effect=Effect.LOCAL)(probe_tool)
    assert "waha_probe_tool" not in REGISTRY


@pytest.mark.parametrize("cursor", ["9999999999999999999", 2**64])
async def test_a_cursor_past_any_stored_position_is_refused_clearly(transport: Any, cursor: str | int) -> None:
    """The store keeps positions as signed 64-bit integers: a larger cursor is a bad argument, not a crash."""
    from waha_mcp.config import load_settings
    from waha_mcp.server import build_server

    settings = load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default", WAHA_TOOLSETS="events")
    async with Client(build_server(settings, transport=transport)) as client:
        for tool in ("waha_get_events", "waha_wait_for_event"):
            out = await client.call_tool(
                tool, {"cursor": cursor, "timeout": 1} if "wait" in tool else {"cursor": cursor}
            )
            text = out.content[0].text  # type: ignore[union-attr]
            assert out.is_error and "cursor" in text and "past any position the store can hold" in text, text


def test_the_fleet_argument_is_the_server_type_and_leaves_the_one_server_schema() -> None:
    """The registration's one rule (registry.FLEET_ARGUMENTS) and the `Server` type agree: no `server` argument means
    anything but a WAHA server of the fleet, and none typed so goes by another name (it would stay listed)."""
    fleet = [spec for spec in all_tools() if spec.fleet_arguments]
    assert len(fleet) == 8
    for spec in all_tools():
        typed = {name for name, kind in spec.markers.items() if kind == "server"}
        assert typed == set(spec.fleet_arguments), spec.name
        several, one = spec.schema_for(False, fleet=True), spec.schema_for(False, fleet=False)
        assert several is spec.input_schema  # a fleet is listed exactly as shipped
        assert one == several if not spec.fleet_arguments else "server" not in one["properties"]
        assert {k: v for k, v in several["properties"].items() if k != "server"} == one["properties"], spec.name
        assert spec.schema_for(False, fleet=False) is one  # derived once, not per call
    # Read-only and one server together hide both kinds (no shipped tool has both: a probe that does).
    (info,) = [spec for spec in all_tools() if spec.name == "waha_get_server_info"]
    probe = replace(info, writes=("environment",))
    assert set(probe.schema_for(read_only=True, fleet=False)["properties"]) == {"session", "health"}
    assert set(probe.schema_for(read_only=True, fleet=True)["properties"]) == {"session", "server", "health"}


def test_a_fleet_argument_must_be_optional() -> None:
    from waha_mcp.tools._common import Server, Session
    from waha_mcp.tools.registry import REGISTRY, tool

    async def probe_tool(w: Any, server: Server, session: Session = None) -> dict[str, Any]:
        return {}

    with pytest.raises(TypeError, match="server must be optional"):
        tool("A probe.", effect=Effect.LOCAL, toolset="labels")(probe_tool)
    assert "waha_probe_tool" not in REGISTRY
