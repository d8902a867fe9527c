"""The tools' input schemas, shipped prebuilt beside this module (`schemas.json`), so that answering tools/list
at start-up builds no argument model (issue 19: building 125 of them was most of the registry's start-up cost).

`python -m waha_mcp.tools.shipped` rewrites the file from the argument models; a test checks that it equals
what they produce, so it cannot drift from the signatures. A tool missing from it has its schema built.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

FILE = Path(__file__).with_name("schemas.json")


@functools.cache
def _shipped() -> dict[str, dict[str, Any]]:
    try:
        loaded = json.loads(FILE.read_bytes())
    except FileNotFoundError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def shipped_schema(name: str) -> dict[str, Any] | None:
    return _shipped().get(name)


def built_schemas() -> dict[str, dict[str, Any]]:
    """Every tool's input schema as its argument model produces it, by tool name."""
    from waha_mcp.tools.registry import all_tools
    from waha_mcp.tools.schema import arguments_schema

    return {spec.name: arguments_schema(spec.arguments) for spec in sorted(all_tools(), key=lambda s: s.name)}


def render(schemas: dict[str, dict[str, Any]]) -> str:
    return json.dumps(schemas, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    schemas = built_schemas()
    FILE.write_text(render(schemas), encoding="utf-8")
    print(f"wrote {FILE} ({len(schemas)} tools)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
