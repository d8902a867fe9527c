"""Coverage measured, not declared: the WAHA operations each tool reaches during the test run.

A tool that sends an operation it does not declare fails the test at once. At the end of a full run
(every test collected), each declared operation must have been reached by some test of that tool.
Workers of a parallel run send what they saw to the controller (pytest-xdist's `workeroutput`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from mcp_types import CallToolResult

from waha_mcp.tools import pipeline
from waha_mcp.tools.pipeline import Invocation, Next
from waha_mcp.tools.registry import all_tools

REACHED: dict[str, set[str]] = defaultdict(set)
UNDECLARED: list[str] = []


async def _observe(inv: Invocation, nxt: Next) -> CallToolResult:
    try:
        return await nxt(inv)
    finally:
        for operation in inv.operations:
            REACHED[inv.spec.name].add(operation)
            if operation not in inv.spec.operations:
                UNDECLARED.append(f"{inv.spec.name} sent {operation}, which it does not declare")


def pytest_configure(config: pytest.Config) -> None:
    # Just before `run`: it sees every call that got past the checks.
    pipeline.STEPS.insert(len(pipeline.STEPS) - 1, _observe)


@pytest.fixture(autouse=True)
def _no_undeclared_operation() -> Iterator[None]:
    yield
    found, UNDECLARED[:] = list(UNDECLARED), []
    assert not found, "; ".join(found)


def pytest_testnodedown(node: Any, error: Any) -> None:
    for tool, ops in json.loads(node.workeroutput.get("reached", "{}")).items():
        REACHED[tool].update(ops)


def unreached() -> list[str]:
    return [
        f"{spec.name}: {op}" for spec in all_tools() for op in spec.operations if op not in REACHED.get(spec.name, ())
    ]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the observations to the controller
        workeroutput["reached"] = json.dumps({tool: sorted(ops) for tool, ops in REACHED.items()})
        return
    full_run = not config.args or config.args == list(config.getini("testpaths"))
    if exitstatus != 0 or not full_run or config.getoption("keyword") or config.getoption("markexpr"):
        return
    missing = unreached()
    if missing:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"declared WAHA operations no test reached ({len(missing)}): {'; '.join(missing)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
