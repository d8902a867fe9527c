"""What the model sees, reviewed: one snapshot per tool, and the generated tool reference in docs/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio

from waha_mcp.config import Settings, load_settings
from waha_mcp.docs import tools_markdown
from waha_mcp.server import build_server
from waha_mcp.tools.registry import all_tools

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "snapshots" / "tools"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def _settings() -> Settings:
    # Every toolset: a tool that is off by default is still reviewed when its schema changes; output
    # schemas too, as clients that turn them on see them; and a fleet, as it lists every argument (one server
    # lists the same schemas less `server`: tests/e2e/test_one_server_schemas.py).
    return load_settings(
        WAHA_SERVERS="a=http://127.0.0.1:3000,b=http://127.0.0.1:3001",
        WAHA_TOOLSETS="all",
        WAHA_MCP_OUTPUT_SCHEMAS="1",
    )


def test_tool_schemas_match_their_snapshots() -> None:
    tools = anyio.run(build_server(_settings()).list_tools)
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    seen = set()
    for tool in tools:
        text = json.dumps(tool.model_dump(mode="json", by_alias=True, exclude_none=True), indent=2) + "\n"
        path = SNAPSHOTS / f"{tool.name}.json"
        seen.add(path.name)
        if UPDATE:
            path.write_text(text)
        assert path.exists(), f"no snapshot for {tool.name}: run UPDATE_SNAPSHOTS=1 pytest {__file__}"
        assert path.read_text() == text, f"{tool.name} changed: review, then UPDATE_SNAPSHOTS=1"
    stale = {path.name for path in SNAPSHOTS.glob("*.json")} - seen
    assert not stale, f"snapshots of removed tools: {sorted(stale)}"


def test_tool_reference_in_docs_is_current() -> None:
    expected = tools_markdown(all_tools()) + "\n"
    path = ROOT / "docs" / "tools.md"
    if UPDATE:
        path.write_text(expected)
    assert path.read_text() == expected, "docs/tools.md is stale: waha-mcp tools --markdown > docs/tools.md"


def test_readme_states_the_current_coverage() -> None:
    from waha_mcp.openapi.coverage import EXCLUDED, coverage_report

    report = coverage_report({spec.name: spec.operations for spec in all_tools()})
    assert not [row.operation_id for row in report.rows if row.covered and row.operation_id in EXCLUDED]
    readme = (ROOT / "README.md").read_text()
    assert f"{report.covered} of {report.total} non-deprecated WAHA operations ({round(report.percent)}%)" in readme


def test_readme_toolset_table_is_generated_from_the_registry() -> None:
    from waha_mcp.docs import README_END, README_START, toolsets_markdown

    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(README_START) : readme.index(README_END) + len(README_END)]
    expected = toolsets_markdown(all_tools())
    if UPDATE:
        (ROOT / "README.md").write_text(readme.replace(block, expected))
        block = expected
    assert block == expected, (
        "README toolset table is stale: UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py"
    )


def test_the_readme_test_command_installs_what_ci_installs() -> None:
    """Else a reader's run skips what CI runs (the postgres and transcription extras' tests)."""
    import re

    ci = re.findall(r'pip install[^\n]*-e "\.\[([^\]]*)\]"', (ROOT / ".ci" / "run").read_text())
    readme = re.findall(r'pip install -e "\.\[([^\]]*)\]" && python -m pytest', (ROOT / "README.md").read_text())
    assert ci and readme and set(readme) == set(ci), (readme, ci)
