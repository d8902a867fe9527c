"""Sessions, pairing and screenshot: `/api/sessions*`, `/api/{session}/auth/*`, `/api/screenshot`."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import Binary, HTTPCore


class SessionsAPI(HTTPCore):
    async def list_sessions(self, all: bool = False) -> list[dict[str, Any]]:
        return await self.call("SessionsController_list", query={"all": all}) or []

    async def get_session(self, session: str) -> dict[str, Any]:
        return await self.call("SessionsController_get", session)

    async def create_session(
        self, name: str | None = None, start: bool = True, config: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"start": start}
        if name is not None:
            body["name"] = name
        if config is not None:
            body["config"] = config
        # The name travels in the body; passed as `session` too so an error names it.
        return await self.call("SessionsController_create", name, body=body)

    async def update_session(self, session: str, config: dict[str, Any]) -> dict[str, Any]:
        return await self.call("SessionsController_update", session, body={"config": config})

    async def delete_session(self, session: str) -> Any:
        return await self.call("SessionsController_delete", session)

    async def start_session(self, session: str) -> Any:
        return await self.call("SessionsController_start", session)

    async def stop_session(self, session: str) -> Any:
        return await self.call("SessionsController_stop", session)

    async def restart_session(self, session: str) -> Any:
        return await self.call("SessionsController_restart", session)

    async def logout_session(self, session: str) -> Any:
        return await self.call("SessionsController_logout", session)

    async def get_me(self, session: str) -> dict[str, Any] | None:
        return await self.call("SessionsController_getMe", session)

    async def get_qr(self, session: str, format: str = "image") -> Binary | dict[str, Any]:
        """PNG bytes for `format="image"`, `{"value": ...}` for `format="raw"`."""
        accept = "image/png" if format == "image" else "application/json"
        return await self.call("AuthController_getQR", session, query={"format": format}, accept=accept)

    async def request_pairing_code(self, session: str, phone_number: str, method: str | None = None) -> Any:
        body: dict[str, Any] = {"phoneNumber": phone_number}
        if method:
            body["method"] = method
        return await self.call("AuthController_requestCode", session, body=body)

    async def get_screenshot(self, session: str) -> Binary | dict[str, Any]:
        return await self.call("ScreenshotController_screenshot", session, accept="image/jpeg")
