"""Sessions, pairing and screenshot: `/api/sessions*`, `/api/{session}/auth/*`, `/api/screenshot`."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import Binary, HTTPCore


class SessionsAPI(HTTPCore):
    async def list_sessions(self, all: bool = False) -> list[dict[str, Any]]:
        return await self.request("GET", "/api/sessions", params={"all": all}) or []

    async def get_session(self, session: str) -> dict[str, Any]:
        return await self.request("GET", self.path("/api/sessions/{s}", s=session), session=session)

    async def create_session(
        self, name: str | None = None, start: bool = True, config: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"start": start}
        if name is not None:
            body["name"] = name
        if config is not None:
            body["config"] = config
        return await self.request("POST", "/api/sessions", session=name, json_body=body)

    async def update_session(self, session: str, config: dict[str, Any]) -> dict[str, Any]:
        path = self.path("/api/sessions/{s}", s=session)
        return await self.request("PUT", path, session=session, json_body={"config": config}, retry=False)

    async def delete_session(self, session: str) -> Any:
        return await self.request("DELETE", self.path("/api/sessions/{s}", s=session), session=session)

    async def _session_action(self, session: str, action: str) -> Any:
        path = self.path("/api/sessions/{s}/" + action, s=session)
        return await self.request("POST", path, session=session)

    async def start_session(self, session: str) -> Any:
        return await self._session_action(session, "start")

    async def stop_session(self, session: str) -> Any:
        return await self._session_action(session, "stop")

    async def restart_session(self, session: str) -> Any:
        return await self._session_action(session, "restart")

    async def logout_session(self, session: str) -> Any:
        return await self._session_action(session, "logout")

    async def get_me(self, session: str) -> dict[str, Any] | None:
        return await self.request("GET", self.path("/api/sessions/{s}/me", s=session), session=session)

    async def get_qr(self, session: str, format: str = "image") -> Binary | dict[str, Any]:
        """PNG bytes for `format="image"`, `{"value": ...}` for `format="raw"`."""
        accept = "image/png" if format == "image" else "application/json"
        path = self.path("/api/{s}/auth/qr", s=session)
        return await self.request("GET", path, session=session, params={"format": format}, accept=accept)

    async def request_pairing_code(self, session: str, phone_number: str, method: str | None = None) -> Any:
        body: dict[str, Any] = {"phoneNumber": phone_number}
        if method:
            body["method"] = method
        path = self.path("/api/{s}/auth/request-code", s=session)
        return await self.request("POST", path, session=session, json_body=body)

    async def get_screenshot(self, session: str) -> Binary | dict[str, Any]:
        return await self.request(
            "GET", "/api/screenshot", session=session, params={"session": session}, accept="image/jpeg"
        )
