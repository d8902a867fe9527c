"""A fleet of sandboxes, each a real WAHA emulator on its own loopback socket (uvicorn, port 0), configured through
`WAHA_SERVERS` as an operator would; every request each one receives is contract-checked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.conftest import TIME_FACTOR
from tests.contract_plugin import ContractRecorder
from tests.e2e.servers import sandbox_on_socket
from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.app import RecordedRequest
from waha_mcp.sandbox.model import default_config
from waha_mcp.server import WahaMCP, build_server


@dataclass
class Member:
    name: str
    sandbox: Sandbox
    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def requests_for(self, session: str) -> list[RecordedRequest]:
        """The requests this server received that name `session` (path, query or body), each checked to have
        come to this server's own address."""
        found = [r for r in self.sandbox.requests if session in names_of(r)]
        for r in found:
            assert r.headers.get("host") == self.host, (r.method, r.path, r.headers.get("host"), self.host)
        return found


def names_of(r: RecordedRequest) -> set[str]:
    """The session names a request carries: `/api/{s}/...`, `/api/sessions/{s}`, `?session=`, a body's `session`."""
    parts = [unquote(p) for p in r.path.split("/")]
    names = set(r.query.get("session", []))
    if len(parts) > 3 and parts[1] == "api":
        names.add(parts[3] if parts[2] == "sessions" else parts[2])
    if isinstance(r.json, dict) and isinstance(r.json.get("session"), str):
        names.add(r.json["session"])
    if r.method == "POST" and r.path == "/api/sessions" and isinstance(r.json, dict):
        names.add(str(r.json.get("name")))
    return names


def holding(sandbox: Sandbox, *names: str) -> Sandbox:
    """The sandbox with exactly these sessions, each paired and WORKING."""
    sandbox.model.sessions.clear()
    for name in names:
        sandbox.new_session(name, default_config(), None, start=False).pair()
    return sandbox


def json_of(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@asynccontextmanager
async def fleet(
    contract: ContractRecorder, layout: dict[str, tuple[str, tuple[str, ...]]], servers_file: str | None = None,
    **env: Any,
) -> AsyncIterator[tuple[dict[str, Member], WahaMCP]]:  # fmt: skip
    """Sandboxes by server name: (profile, sessions); a core-2024.10 server keeps its one `default`. The MCP server
    is built from `WAHA_SERVERS` (or `servers_file`, a TOML template with `{name}` URLs filled in)."""
    async with AsyncExitStack() as stack:
        members: dict[str, Member] = {}
        for name, (profile, sessions) in layout.items():
            sandbox = Sandbox(profile=profile, time_factor=TIME_FACTOR, sessions=1)
            if sessions:
                holding(sandbox, *sessions)
            sandbox.on_request.append(contract.hook)
            url = await stack.enter_async_context(sandbox_on_socket(sandbox))
            members[name] = Member(name, sandbox, url)
        if servers_file is not None:
            path = env.pop("path")
            with open(path, "w", encoding="utf-8") as out:
                out.write(servers_file.format(**{name: m.url for name, m in members.items()}))
            settings = load_settings(WAHA_SERVERS_FILE=path, **env)
        else:
            settings = load_settings(WAHA_SERVERS=",".join(f"{n}={m.url}" for n, m in members.items()), **env)
        yield members, build_server(settings)
