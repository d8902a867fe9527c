"""Tool selection: toolsets, single tools and read-only mode, decided once at start-up."""

from __future__ import annotations

import pytest

from waha_mcp.config import ConfigError
from waha_mcp.tools.registry import TOOLSETS, all_tools, select_tools


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
        assert tool.operations, tool.name
        assert all(op in spec.by_id for op in tool.operations), tool.name


def test_toolsets_filter() -> None:
    chosen = select_tools(toolsets=["server"])
    assert {spec.toolset for spec in chosen} == {"server"}
    assert len(select_tools(toolsets=["all"])) == len(all_tools())


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


def test_destructive_session_tools_need_an_explicit_session() -> None:
    by_name = {spec.name: spec for spec in all_tools()}
    for name in ["waha_delete_session", "waha_logout_session", "waha_stop_session"]:
        assert by_name[name].session == "explicit" and by_name[name].destructive
