"""Chats: `/api/{session}/chats*` (overview, messages, read state, archive, pin, edit, delete)."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore

CHAT = "/api/{s}/chats/{chat}"
MESSAGE = "/api/{s}/chats/{chat}/messages/{msg}"


class ChatsAPI(HTTPCore):
    async def get_chats(
        self,
        session: str,
        *,
        sort_by: str | None = None,
        sort_order: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[dict[str, Any]]:
        params = {"sortBy": sort_by, "sortOrder": sort_order, "limit": limit, "offset": offset}
        path = self.path("/api/{s}/chats", s=session)
        return await self.request("GET", path, session=session, params=params) or []

    async def get_chats_overview(
        self, session: str, *, limit: int | None = None, offset: int | None = None, ids: list[str] | None = None
    ) -> list[dict[str, Any]]:
        params = {"limit": limit, "offset": offset, "ids": ids}
        path = self.path("/api/{s}/chats/overview", s=session)
        return await self.request("GET", path, session=session, params=params) or []

    async def post_chats_overview(
        self, session: str, *, limit: int | None = None, offset: int | None = None, ids: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """The POST form of the overview, for more ids than a URL comfortably carries."""
        pagination = {k: v for k, v in {"limit": limit, "offset": offset}.items() if v is not None}
        body = {"pagination": pagination, "filter": {"ids": ids} if ids else {}}
        path = self.path("/api/{s}/chats/overview", s=session)
        # A read despite the POST: safe to retry.
        return await self.request("POST", path, session=session, json_body=body, retry=True) or []

    async def get_chat_messages(
        self,
        session: str,
        chat_id: str,
        *,
        limit: int = 10,
        offset: int | None = None,
        sort_order: str | None = None,
        download_media: bool = False,
        timestamp_gte: int | None = None,
        timestamp_lte: int | None = None,
        from_me: bool | None = None,
        ack: str | None = None,
    ) -> list[dict[str, Any]]:
        params = {
            "limit": limit,
            "offset": offset,
            "sortOrder": sort_order,
            # WAHA downloads media by default; that is slow, so only on request.
            "downloadMedia": download_media,
            "filter.timestamp.gte": timestamp_gte,
            "filter.timestamp.lte": timestamp_lte,
            "filter.fromMe": from_me,
            "filter.ack": ack,
        }
        path = self.path(CHAT + "/messages", s=session, chat=chat_id)
        return await self.request("GET", path, session=session, params=params) or []

    async def get_chat_message(
        self, session: str, chat_id: str, message_id: str, *, download_media: bool = False
    ) -> dict[str, Any] | None:
        path = self.path(MESSAGE, s=session, chat=chat_id, msg=message_id)
        return await self.request("GET", path, session=session, params={"downloadMedia": download_media})

    async def read_chat_messages(
        self, session: str, chat_id: str, *, messages: int | None = None, days: int | None = None
    ) -> dict[str, Any] | None:
        path = self.path(CHAT + "/messages/read", s=session, chat=chat_id)
        return await self.request("POST", path, session=session, params={"messages": messages, "days": days})

    async def unread_chat(self, session: str, chat_id: str) -> Any:
        return await self.request("POST", self.path(CHAT + "/unread", s=session, chat=chat_id), session=session)

    async def archive_chat(self, session: str, chat_id: str, archived: bool = True) -> Any:
        action = "/archive" if archived else "/unarchive"
        return await self.request("POST", self.path(CHAT + action, s=session, chat=chat_id), session=session)

    async def delete_chat(self, session: str, chat_id: str) -> Any:
        return await self.request("DELETE", self.path(CHAT, s=session, chat=chat_id), session=session)

    async def clear_messages(self, session: str, chat_id: str) -> Any:
        path = self.path(CHAT + "/messages", s=session, chat=chat_id)
        return await self.request("DELETE", path, session=session)

    async def get_chat_picture(self, session: str, chat_id: str, *, refresh: bool = False) -> dict[str, Any] | None:
        path = self.path(CHAT + "/picture", s=session, chat=chat_id)
        return await self.request("GET", path, session=session, params={"refresh": refresh or None})

    async def edit_message(
        self, session: str, chat_id: str, message_id: str, text: str, *, link_preview: bool | None = None
    ) -> Any:
        body: dict[str, Any] = {"text": text}
        if link_preview is not None:
            body["linkPreview"] = link_preview
        path = self.path(MESSAGE, s=session, chat=chat_id, msg=message_id)
        return await self.request("PUT", path, session=session, json_body=body)

    async def delete_message(self, session: str, chat_id: str, message_id: str) -> Any:
        path = self.path(MESSAGE, s=session, chat=chat_id, msg=message_id)
        return await self.request("DELETE", path, session=session)

    async def pin_message(self, session: str, chat_id: str, message_id: str, duration: int) -> Any:
        """`duration` goes in the body (seconds); WhatsApp accepts 86400, 604800 or 2592000 only."""
        path = self.path(MESSAGE + "/pin", s=session, chat=chat_id, msg=message_id)
        return await self.request("POST", path, session=session, json_body={"duration": duration})

    async def unpin_message(self, session: str, chat_id: str, message_id: str) -> Any:
        path = self.path(MESSAGE + "/unpin", s=session, chat=chat_id, msg=message_id)
        return await self.request("POST", path, session=session)

    async def get_all_contacts(self, session: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """`GET /api/contacts/all?session=`: used to put names on message senders."""
        params = {"session": session, "limit": limit}
        return await self.request("GET", "/api/contacts/all", session=session, params=params) or []
