"""Reads about the server as a whole, used below the tools (session resolution, error advice, doctor)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from waha_mcp.client._http import QUIET, HTTPCore, routes
from waha_mcp.client.errors import TooOld, Unavailable, WAHAError
from waha_mcp.client.version import ServerVersion, release_of


class ServerAPI(HTTPCore):
    # The WAHA this client talks to, read once (`server_version`); `_version_read` stays False until an answer came.
    _version: ServerVersion | None = None
    _version_read: bool = False

    @property
    def transport(self) -> Any:
        """The transport given at construction (the built-in sandbox's in sandbox mode), else None."""
        return self._transport

    async def call(
        self,
        operation_id: str,
        session: str | None = None,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        accept: str = "application/json",
    ) -> Any:
        """As `HTTPCore.call`; a route a later WAHA release added is refused, unsent, on a WAHA known to be older."""
        route = routes().get(operation_id)
        if route is not None and route.since:
            await self._refuse_if_older(route.since, route.method, route.url_template, session)
        return await super().call(operation_id, session, path=path, query=query, body=body, accept=accept)

    async def require(self, session: str | None, operation_id: str) -> None:
        """`TooOld`, with nothing sent, when the connected WAHA is known to predate `operation_id`'s route."""
        route = routes()[operation_id]
        if route.since:
            await self._refuse_if_older(route.since, route.method, route.url_template, session)

    async def _refuse_if_older(self, since: str, method: str, template: str, session: str | None) -> None:
        if self._version_read:
            version = self._version
        else:
            token = QUIET.set(True)  # the version read is the client's bookkeeping, not the caller's operation
            try:
                version = await self.server_version()
            finally:
                QUIET.reset(token)
        if version is None or not version.release or version.at_least(*release_of(since)):
            return  # unknown: WAHA itself answers (a 404 is explained the same way)
        raise TooOld(
            f"{method} {template} came with WAHA {since}; this WAHA is {version.label}",
            since=since,
            version=version.label,
            method=method,
            path=template,
            session=session,
        )

    async def list_sessions(self, all: bool = False) -> list[dict[str, Any]]:
        return await self.call("SessionsController_list", query={"all": all}) or []

    async def ping(self) -> Any:
        return await self.call("PingController_ping")

    async def get_version(self) -> dict[str, Any] | None:
        """WAHA's answer to `GET /api/server/version`, read fresh (None when it is no JSON object); it also
        refreshes `server_version`."""
        answer = await self.call("ServerController_get")
        self.remember_version(answer)
        return answer if isinstance(answer, dict) else None

    def remember_version(self, answer: Any) -> ServerVersion | None:
        self._version, self._version_read = ServerVersion.from_answer(answer), True
        return self._version

    async def server_version(self) -> ServerVersion | None:
        """The WAHA's version and tier, read once per client; None when it cannot say.

        A WAHA that answered without a version is not asked again; one that could not be reached is.
        """
        if not self._version_read:
            try:
                await self.get_version()
            except Unavailable:
                return None
            except WAHAError:
                self._version_read = True  # it answered, without a version route: asking again changes nothing
        return self._version
