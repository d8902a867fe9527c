"""How much of the WAHA document the MCP tools reach, per operation and per tag."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from waha_mcp.openapi.spec import Spec, load_spec

__all__ = ["EXCLUDED", "CoverageRow", "Report", "TagCoverage", "coverage_report"]

# Operations no tool is meant to reach, with the reason: counted as excluded, not as missing.
EXCLUDED: dict[str, str] = {
    "McpController_post": "WAHA's own MCP endpoint: an MCP server for the same API, not an operation to wrap",
    "ServerDebugController_cpuProfile": "debug profiling of WAHA's node process: large binary dumps for developers",
    "ServerDebugController_heapsnapshot": "debug profiling of WAHA's node process: a heap dump holding every secret",
    "ServerDebugController_browserTrace": "debug profiling of a session's browser: a Chrome DevTools trace",
}


@dataclass(frozen=True)
class CoverageRow:
    operation_id: str
    method: str
    path: str
    summary: str
    tools: tuple[str, ...]  # sorted; empty when no tool reaches the operation
    excluded: str | None = None  # why no tool reaches it on purpose (EXCLUDED), when none does

    @property
    def covered(self) -> bool:
        return bool(self.tools)

    @property
    def missing(self) -> bool:
        return not self.tools and self.excluded is None


@dataclass(frozen=True)
class TagCoverage:
    tag: str
    rows: tuple[CoverageRow, ...]

    @property
    def covered(self) -> int:
        return sum(row.covered for row in self.rows)

    @property
    def excluded(self) -> int:
        return sum(row.excluded is not None and not row.covered for row in self.rows)

    @property
    def total(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Report:
    tags: tuple[TagCoverage, ...]
    # Deprecated operations some tool still reaches (operationId -> tools); not counted in totals.
    deprecated_reached: Mapping[str, tuple[str, ...]]

    @property
    def rows(self) -> tuple[CoverageRow, ...]:
        return tuple(row for tag in self.tags for row in tag.rows)

    @property
    def covered(self) -> int:
        return sum(tag.covered for tag in self.tags)

    @property
    def excluded(self) -> int:
        return sum(tag.excluded for tag in self.tags)

    @property
    def total(self) -> int:
        return sum(tag.total for tag in self.tags)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    @property
    def uncovered(self) -> tuple[CoverageRow, ...]:
        """Operations no tool reaches and none is meant to skip: the missing ones."""
        return tuple(row for row in self.rows if row.missing)

    def summary(self) -> str:
        out = f"{self.covered}/{self.total} non-deprecated operations covered ({self.percent:.1f}%)"
        if self.excluded:
            out += f"; {self.excluded} excluded, {len(self.uncovered)} missing"
        return out

    def markdown(self) -> str:
        lines = ["# WAHA API coverage", "", self.summary(), ""]
        lines += ["| Tag | Covered |", "|---|---|"]
        lines += [f"| {tag.tag} | {tag.covered}/{tag.total} |" for tag in self.tags]
        for tag in self.tags:
            lines += ["", f"## {tag.tag} — {tag.covered}/{tag.total}", ""]
            lines += ["| Method | Path | operationId | Tools |", "|---|---|---|---|"]
            for row in tag.rows:
                reached = ", ".join(f"`{tool}`" for tool in row.tools) or (
                    f"excluded: {row.excluded}" if row.excluded else "—"
                )
                lines.append(f"| {row.method} | `{row.path}` | `{row.operation_id}` | {reached} |")
        if self.deprecated_reached:
            lines += ["", "## Deprecated operations still reached", ""]
            lines += ["| operationId | Tools |", "|---|---|"]
            for op_id, tools in self.deprecated_reached.items():
                lines.append(f"| `{op_id}` | {', '.join(f'`{tool}`' for tool in tools)} |")
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        lines = [self.summary()]
        for tag in self.tags:
            lines += ["", f"{tag.tag}  {tag.covered}/{tag.total}"]
            width = max(len(f"{row.method} {row.path}") for row in tag.rows)
            for row in tag.rows:
                mark = "[x]" if row.covered else "[ ]" if row.missing else "[-]"
                route = f"{row.method} {row.path}".ljust(width)
                shown = ", ".join(row.tools) or (f"excluded: {row.excluded}" if row.excluded else "-")
                lines.append(f"  {mark} {route}  {shown}")
        if self.deprecated_reached:
            lines += ["", "deprecated operations still reached:"]
            lines += [f"  {op_id}: {', '.join(tools)}" for op_id, tools in self.deprecated_reached.items()]
        return "\n".join(lines) + "\n"


def _tag_order(spec: Spec) -> list[str]:
    """Tags as the document declares them, then any used but undeclared, by first use."""
    order = [str(tag["name"]) for tag in spec.document.get("tags", [])]
    for op in spec.operations:
        if op.tag not in order:
            order.append(op.tag)
    return order


def coverage_report(
    tool_operations: Mapping[str, Iterable[str]], spec: Spec | None = None, excluded: Mapping[str, str] | None = None
) -> Report:
    """Map tool name -> operationIds it reaches into a per-operation coverage report.

    `excluded` (default `EXCLUDED`): operations left out on purpose, with the reason. Raises ValueError
    when a tool claims an operationId the document does not have.
    """
    spec = spec or load_spec()
    excluded = EXCLUDED if excluded is None else excluded
    stray = sorted(set(excluded) - set(spec.by_id))
    if stray:
        raise ValueError(f"excluded operationIds not in the WAHA document: {', '.join(stray)}")
    reached: dict[str, set[str]] = {}
    unknown: dict[str, list[str]] = {}
    for tool, op_ids in tool_operations.items():
        # A bare string would otherwise be iterated character by character.
        for op_id in [op_ids] if isinstance(op_ids, str) else op_ids:
            if op_id in spec.by_id:
                reached.setdefault(op_id, set()).add(tool)
            else:
                unknown.setdefault(op_id, []).append(tool)
    if unknown:
        listed = "; ".join(f"{op_id} (claimed by {', '.join(sorted(t))})" for op_id, t in sorted(unknown.items()))
        raise ValueError(f"operationIds not in the WAHA document: {listed}")

    by_tag: dict[str, list[CoverageRow]] = {tag: [] for tag in _tag_order(spec)}
    deprecated: dict[str, tuple[str, ...]] = {}
    for op in spec.operations:
        tools = tuple(sorted(reached.get(op.operation_id, ())))
        if op.deprecated:
            if tools:
                deprecated[op.operation_id] = tools
            continue
        reason = None if tools else excluded.get(op.operation_id)
        by_tag[op.tag].append(CoverageRow(op.operation_id, op.method, op.path, op.summary, tools, reason))
    tags = tuple(TagCoverage(tag, tuple(rows)) for tag, rows in by_tag.items() if rows)
    return Report(tags=tags, deprecated_reached=deprecated)
