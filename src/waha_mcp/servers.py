"""The WAHA servers this MCP server talks to: one (`WAHA_BASE_URL`) or a fleet (`WAHA_SERVERS`, `WAHA_SERVERS_FILE`).

WAHA has no router of its own: its scaling guide leaves a table of workers (URL, key, capacity) to the
application. This module reads that table; the client layer routes each session to the server holding it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SERVER_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# The name of the one server of the `WAHA_BASE_URL` shorthand (and of the built-in sandbox when it plays one).
SINGLE = "waha"
SERVER_KEYS = frozenset({"url", "api_key", "capacity"})


class ServersError(ValueError):
    """A bad server table: the message names the entry and what is wrong, never a key."""


@dataclass(frozen=True, slots=True)
class WAHAServer:
    name: str
    url: str  # as configured: it may carry `user:password@` for a WAHA behind basic auth
    api_key: str | None = None
    capacity: int | None = None  # sessions this server should carry; None: no limit known

    def __repr__(self) -> str:  # never the key or the password, whatever prints it
        return f"WAHAServer(name={self.name!r}, url={self.shown!r}, capacity={self.capacity!r})"

    @property
    def shown(self) -> str:
        """The URL as it may be shown: without the credentials of a WAHA behind basic auth."""
        from waha_mcp.config import split_credentials

        return split_credentials(self.url)[0]

    @property
    def secrets(self) -> tuple[str, ...]:
        """What output and logs must never show: the key and the basic-auth password."""
        from waha_mcp.config import split_credentials

        return tuple(s for s in (self.api_key, split_credentials(self.url)[2]) if s)


def check_url(url: str, where: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServersError(f"{where}: url must be an http(s) URL such as http://10.0.0.5:3000")
    return url.strip().rstrip("/")


def check_name(name: str, where: str) -> str:
    if not SERVER_NAME_RE.fullmatch(name):
        raise ServersError(f"{where}: server names use 1-32 letters, digits, '_' or '-'")
    return name


def parse_inline(value: str, api_key: str | None) -> tuple[WAHAServer, ...]:
    """`a=http://10.0.0.5:3000,b=http://10.0.0.6:3000`: every server uses `api_key` (WAHA_API_KEY)."""
    servers = []
    for n, entry in enumerate((part.strip() for part in value.split(",")), 1):
        if not entry:
            continue
        name, sep, url = entry.partition("=")
        where = f"entry {n}" + (f" ({name.strip()!r})" if sep and SERVER_NAME_RE.fullmatch(name.strip()) else "")
        if not sep:
            raise ServersError(f"{where}: write name=url, e.g. a=http://10.0.0.5:3000")
        servers.append(WAHAServer(check_name(name.strip(), where), check_url(url, where), api_key))
    return unique(servers)


def load_file(path: str, api_key: str | None) -> tuple[WAHAServer, ...]:
    """A TOML file with one top-level table per server: `[a]` with `url`, optional `api_key` and `capacity`."""
    try:
        data = tomllib.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServersError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ServersError(f"{path} is not valid TOML: {exc}") from None
    servers = []
    for name, table in data.items():
        where = f"[{name}]" if SERVER_NAME_RE.fullmatch(name) else "a table"
        check_name(name, where)
        servers.append(from_table(name, table, api_key, where))
    return unique(servers)


def from_table(name: str, table: Any, api_key: str | None, where: str) -> WAHAServer:
    if not isinstance(table, dict):
        raise ServersError(f"{where}: must be a table with url (and optional api_key, capacity)")
    unknown = sorted(set(table) - SERVER_KEYS)
    if unknown:
        raise ServersError(f"{where}: unknown keys {', '.join(unknown)} (known: api_key, capacity, url)")
    url = table.get("url")
    if not isinstance(url, str):
        raise ServersError(f'{where}: url is required, e.g. url = "http://10.0.0.5:3000"')
    key = table.get("api_key", api_key)
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise ServersError(f"{where}: api_key must be a non-empty string")
    capacity = table.get("capacity")
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1):
        raise ServersError(f"{where}: capacity must be a whole number of sessions, 1 or more")
    return WAHAServer(name, check_url(url, where), key.strip() if isinstance(key, str) else None, capacity)


def unique(servers: list[WAHAServer]) -> tuple[WAHAServer, ...]:
    """Each name and each WAHA once: the same WAHA listed twice would make every one of its sessions a duplicate."""
    if not servers:
        raise ServersError("no servers listed")
    names: dict[str, WAHAServer] = {}
    urls: dict[str, str] = {}
    for server in servers:
        if server.name in names:
            raise ServersError(f"server {server.name!r} is listed twice")
        address = server.shown.lower()
        if address in urls:
            raise ServersError(f"servers {urls[address]!r} and {server.name!r} are the same WAHA ({server.shown})")
        names[server.name], urls[address] = server, server.name
    return tuple(servers)


# --- the sandbox playing a fleet (`--sandbox-servers`, WAHA_MCP_SANDBOX_SERVERS) -----------------------------
# Servers are named a, b, c, ... in the order given, unless an entry names its own (`x=current`).
SANDBOX_NAMES = "abcdefghijklmnopqrstuvwxyz"
MAX_LATENCY = 10.0  # seconds: more is a typo, not a far-away server
LATENCY_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


@dataclass(frozen=True, slots=True)
class SandboxEntry:
    """One emulated WAHA of the sandbox fleet: its name, the profile it plays, its round-trip latency (s)."""

    name: str
    profile: str
    latency: float = 0.0

    @property
    def url(self) -> str:
        """Where the in-process fleet says it is (never resolved: a stand-in transport answers)."""
        return f"http://sandbox-{self.name}"


def parse_sandbox_servers(value: str) -> tuple[SandboxEntry, ...]:
    """`current,current:50ms,core-2024.10`: one emulator per entry, `[name=]profile[:latency]`."""
    from waha_mcp.sandbox.profiles import PROFILES  # only a sandbox fleet pays for the import

    entries = []
    for n, entry in enumerate((part.strip() for part in value.split(",")), 1):
        if not entry:
            continue
        name, sep, rest = entry.rpartition("=")
        where = f"entry {n}"
        if sep:
            name = check_name(name.strip(), where)
        elif n > len(SANDBOX_NAMES):
            raise ServersError(f"{where}: name servers past the 26th yourself (name=profile)")
        else:
            name = SANDBOX_NAMES[n - 1]
        profile, _, latency = rest.strip().partition(":")
        if profile not in PROFILES:
            raise ServersError(f"{where} ({name!r}): unknown profile {profile!r}; one of {', '.join(PROFILES)}")
        entries.append(SandboxEntry(name, profile, _latency(latency.strip(), f"{where} ({name!r})")))
    if not entries:
        raise ServersError("no servers listed")
    seen: dict[str, str] = {}
    for e in entries:
        if e.name.lower() in seen:
            raise ServersError(f"servers {seen[e.name.lower()]!r} and {e.name!r}: each needs a name of its own")
        seen[e.name.lower()] = e.name
    return tuple(entries)


def _latency(text: str, where: str) -> float:
    if not text:
        return 0.0
    found = LATENCY_RE.fullmatch(text)
    if found is None:
        raise ServersError(f"{where}: latency is a duration such as 50ms or 0.2s, not {text!r}")
    seconds = float(found[1]) / (1000 if found[2] == "ms" else 1)
    if seconds > MAX_LATENCY:
        raise ServersError(f"{where}: latency {text} is over {MAX_LATENCY:g}s")
    return seconds
