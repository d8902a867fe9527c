"""The collector's view of a long-running server's heap, set once start-up is done.

Everything built at start (the SDK, pydantic's models, the registry's tools, the OpenAPI routes) lives as long as the
process. Left to the cyclic collector, each full collection walks all of it again: about 60 ms a time here, a third of
a millisecond per stateless HTTP call (bench/http_stateless.py, docs/benchmarks.md). Frozen, it is never walked; a
larger first generation lets a call's short-lived objects die before a collection promotes them.
"""

from __future__ import annotations

import gc

# Objects allocated (net) before a first-generation collection; CPython's default is 700, fewer than one tool call
# allocates.
YOUNG = 10_000


def settle() -> None:
    """Freeze what start-up built (no collection first: it would cost the start, and import leaves little garbage)."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
