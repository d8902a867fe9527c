"""JSON on the hot path (WAHA's answers in, tool results out): orjson when it is installed (a dependency
on CPython), else the standard library. Looked up on first use, so importing waha_mcp never pays for it.

Both give the same values: what orjson refuses (integers past 64 bits, lone surrogates, NaN in a body) goes to
the standard library instead. Spellings that differ: a float in exponent form (`1e16`, stdlib `1e+16`: the same
number to any JSON reader), NaN or infinity (orjson `null`, stdlib `NaN`, which is not JSON), and a plain Enum
(orjson writes its value; results carry none, only StrEnums, which both write as the string).
"""

from __future__ import annotations

import json
from typing import Any

_orjson: Any = None  # the module once found, False when it is not installed


def _fast() -> Any:
    global _orjson
    if _orjson is None:
        try:
            import orjson
        except ImportError:
            _orjson = False
        else:
            _orjson = orjson
    return _orjson


def fast_json() -> bool:
    """Is orjson in use?"""
    return bool(_fast())


def _std_dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def dumps(data: Any) -> str:
    """Compact JSON text, non-ASCII as is, unknown objects through `str` (as `json.dumps(default=str)`)."""
    fast = _fast()
    if fast:
        try:
            encoded: bytes = fast.dumps(data, default=str, option=_options(fast))  # orjson.dumps -> bytes
            return encoded.decode()
        except TypeError:  # a 65-bit int, a lone surrogate: the stdlib spells it
            pass
    return _std_dumps(data)


def loads(raw: bytes | str) -> Any:
    """Parse JSON; raises ValueError (json.JSONDecodeError) for what is not JSON, as `json.loads` does."""
    fast = _fast()
    if fast:
        try:
            return fast.loads(raw)
        except fast.JSONDecodeError:  # not JSON to orjson, maybe to the stdlib (NaN, huge ints): it decides
            pass
    return json.loads(raw)


def _options(fast: Any) -> int:
    # Datetimes and dataclasses go through `default` (str), as with json.dumps; keys need not be str.
    flags: int = fast.OPT_NON_STR_KEYS | fast.OPT_PASSTHROUGH_DATETIME | fast.OPT_PASSTHROUGH_DATACLASS
    return flags
