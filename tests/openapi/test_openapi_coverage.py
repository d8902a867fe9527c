"""Coverage report over the non-deprecated operations of the WAHA document (2026.7.1 and the supplement of
the 12 operations 2026.7.2 to 2026.9.1 added)."""

from __future__ import annotations

import pytest

from waha_mcp.openapi.coverage import EXCLUDED, coverage_report
from waha_mcp.openapi.spec import load_spec


def test_totals_come_from_the_document() -> None:
    spec = load_spec()
    assert len(spec.operations) == 174
    deprecated = [op for op in spec.operations if op.deprecated]
    assert len(deprecated) == 10
    report = coverage_report({})
    assert report.total == 164 == len(spec.active_operations())
    assert report.covered == 0
    assert report.percent == 0.0
    assert report.excluded == 4 == len(EXCLUDED)
    assert len(report.uncovered) == 160  # missing: neither reached nor excluded
    assert {row.operation_id for row in report.rows if row.excluded} == set(EXCLUDED)
    assert {row.operation_id for row in report.rows} == {op.operation_id for op in spec.active_operations()}


def test_rows_are_grouped_by_tag_in_document_order() -> None:
    spec = load_spec()
    report = coverage_report({})
    declared = [tag["name"] for tag in spec.document["tags"]]
    used = [group.tag for group in report.tags]
    assert used == [tag for tag in declared if any(op.tag == tag for op in spec.active_operations())]
    assert "🗄️ Storage" not in used  # declared, but no operations
    for group in report.tags:
        expected = [op.operation_id for op in spec.active_operations() if op.tag == group.tag]
        assert [row.operation_id for row in group.rows] == expected
    assert report.tags[0].tag == "🖥️ Sessions"
    assert report.tags[0].total == 12  # 13 minus the 3 deprecated start/stop/logout, plus timelock and capping


def test_tools_are_listed_per_operation() -> None:
    report = coverage_report(
        {
            "send_message": ["ChattingController_sendText", "ChattingController_sendImage"],
            "chat_send": ("ChattingController_sendText",),
            "list_sessions": iter(["SessionsController_list"]),
            "legacy": ["ChattingController_reply"],  # deprecated: listed apart, not counted
        }
    )
    rows = {row.operation_id: row for row in report.rows}
    assert rows["ChattingController_sendText"].tools == ("chat_send", "send_message")
    assert rows["SessionsController_list"].tools == ("list_sessions",)
    assert rows["SessionsController_create"].tools == ()
    assert report.covered == 3
    assert report.percent == pytest.approx(300 / 164)
    assert report.deprecated_reached == {"ChattingController_reply": ("legacy",)}
    assert "ChattingController_reply" not in rows


def test_full_coverage() -> None:
    ops = [op.operation_id for op in load_spec().operations]
    report = coverage_report({"everything": ops})
    assert (report.covered, report.total, report.percent) == (164, 164, 100.0)
    assert report.summary() == "164/164 non-deprecated operations covered (100.0%)"
    assert report.excluded == 0  # an excluded operation some tool reaches counts as covered


def test_exclusions_have_reasons_and_are_not_missing() -> None:
    assert set(EXCLUDED) == {
        "McpController_post",
        "ServerDebugController_cpuProfile",
        "ServerDebugController_heapsnapshot",
        "ServerDebugController_browserTrace",
    }
    assert all(len(reason) > 20 for reason in EXCLUDED.values())
    report = coverage_report({"list_sessions": ["SessionsController_list"]})
    assert report.summary() == "1/164 non-deprecated operations covered (0.6%); 4 excluded, 159 missing"
    text = report.text()
    assert any(line.startswith("  [-] POST /mcp ") and "excluded: WAHA's own MCP" in line for line in text.splitlines())
    assert "| POST | `/mcp` | `McpController_post` | excluded: WAHA's own MCP endpoint" in report.markdown()
    with pytest.raises(ValueError, match="NoSuch_op"):
        coverage_report({}, excluded={"NoSuch_op": "gone"})
    assert coverage_report({}, excluded={}).excluded == 0


def test_unknown_operation_ids_raise_naming_them() -> None:
    with pytest.raises(ValueError, match=r"ChatsController_starMessage \(claimed by star_message\)") as info:
        coverage_report({"star_message": ["ChatsController_starMessage"], "ok": ["SessionsController_list"]})
    assert "SessionsController_list" not in str(info.value)


def test_a_bare_string_is_one_operation_id() -> None:
    report = coverage_report({"list_sessions": "SessionsController_list"})
    assert report.covered == 1


def test_markdown_and_text_rendering() -> None:
    report = coverage_report({"list_sessions": ["SessionsController_list"], "legacy": ["ChattingController_reply"]})
    markdown = report.markdown()
    assert "1/164 non-deprecated operations covered (0.6%); 4 excluded, 159 missing" in markdown
    assert "| 🖥️ Sessions | 1/12 |" in markdown
    assert "| GET | `/api/sessions` | `SessionsController_list` | `list_sessions` |" in markdown
    assert "| POST | `/api/sessions` | `SessionsController_create` | — |" in markdown
    assert "| `ChattingController_reply` | `legacy` |" in markdown
    assert markdown.count("| Method | Path | operationId | Tools |") == len(report.tags)

    text = report.text()
    assert text.splitlines()[0] == "1/164 non-deprecated operations covered (0.6%); 4 excluded, 159 missing"
    assert any(
        line.startswith("  [x] GET /api/sessions ") and line.endswith("list_sessions") for line in text.splitlines()
    )
    assert any(line.startswith("  [ ] POST /api/sessions ") for line in text.splitlines())
