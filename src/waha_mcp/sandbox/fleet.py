"""The sandbox playing a WAHA fleet (`--sandbox-servers current,current,core-2024.10`): one emulator per entry,
each with its own sessions, profile and latency, so the fleet's routing, merged lists and bulk runs can be seen
(and tested) without WhatsApp.

Session names are distinct across the fleet, as a real fleet's must be (a name on two servers is refused):
- a Core 2024.10 entry holds `default`, the only session that version can hold (a second Core entry holds it
  too: a duplicate, which the fleet refuses as it would with real servers);
- with no Core entry, the first entry holds the one-server sandbox's names (default, business, sandbox3, ...);
- every other entry names its sessions after itself: `b1`, `b2`, ... on server `b`.
So `WAHA_SESSION=default` (the sandbox's default) is found somewhere in every fleet.
"""

from __future__ import annotations

from collections.abc import Sequence

from waha_mcp.servers import SandboxEntry

from .app import Sandbox
from .profiles import get_profile


def session_names(entries: Sequence[SandboxEntry], sessions: int) -> list[tuple[str, ...]]:
    """The names each entry's seeded sessions take, in entry order (see the module's docstring)."""
    core = [get_profile(e.profile).only_default for e in entries]
    holder = core.index(True) if any(core) else 0
    names: list[tuple[str, ...]] = []
    for i, entry in enumerate(entries):
        if core[i]:
            names.append(("default",))
        elif i == holder:
            names.append(())  # the one-server sandbox's own names (SandboxModel.seeded)
        else:
            names.append(tuple(f"{entry.name}{n}" for n in range(1, sessions + 1)))
    return names


def build_fleet(
    entries: Sequence[SandboxEntry],
    *,
    api_key: str | None = None,
    sessions: int = 2,
    time_factor: float = 1.0,
) -> dict[str, Sandbox]:
    """One `Sandbox` per entry, by server name: seeded apart (distinct worlds), each with its own latency."""
    return {
        entry.name: Sandbox(
            api_key=api_key,
            sessions=sessions,
            seed=n,
            profile=entry.profile,
            time_factor=time_factor,
            names=names,
            latency=entry.latency,
        )
        for n, (entry, names) in enumerate(zip(entries, session_names(entries, sessions), strict=True))
    }


def describe(name: str, sandbox: Sandbox, where: str = "") -> str:
    """One line for a banner: `a (WAHA 2026.9.1 PLUS, 50 ms): default, business`."""
    latency = f", {sandbox.latency * 1000:g} ms" if sandbox.latency else ""
    at = f" at {where}" if where else ""
    sessions = ", ".join(sandbox.sessions) or "no sessions"
    return f"{name}{at} (WAHA {sandbox.profile.version} {sandbox.profile.tier}{latency}): {sessions}"
