"""Chats: `/api/{session}/chats*` (overview, messages, read state, archive, pin, edit, delete)."""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore


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
        query = {"sortBy": sort_by, "sortOrder": sort_order, "limit": limit, "offset": offset}
        return await self.call("ChatsController_getChats", session, query=query) or []

    async def get_chats_overview(
        self, session: str, *, limit: int | None = None, offset: int | None = None, ids: list[str] | None = None
    ) -> list[dict[str, Any]]:
        query = {"limit": limit, "offset": offset, "ids": ids}
        return await self.call("ChatsController_getChatsOverview", session, query=query) or []

    async def post_chats_overview(
        self, session: str, *, limit: int | None = None, offset: int | None = None, ids: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """The POST form of the overview, for more ids than a URL comfortably carries."""
        pagination = {k: v for k, v in {"limit": limit, "offset": offset}.items() if v is not None}
        body = {"pagination": pagination, "filter": {"ids": ids} if ids else {}}
        return await self.call("ChatsController_postChatsOverview", session, body=body) or []

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
        query = {
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
        chat = {"chatId": chat_id}
        return await self.call("ChatsController_getChatMessages", session, path=chat, query=query) or []

    async def get_chat_message(
        self, session: str, chat_id: str, message_id: str, *, download_media: bool = False
    ) -> dict[str, Any] | None:
        message = {"chatId": chat_id, "messageId": message_id}
        query = {"downloadMedia": download_media}
        return await self.call("ChatsController_getChatMessage", session, path=message, query=query)

    async def read_chat_messages(
        self, session: str, chat_id: str, *, messages: int | None = None, days: int | None = None
    ) -> dict[str, Any] | None:
        query = {"messages": messages, "days": days}
        return await self.call("ChatsController_readChatMessages", session, path={"chatId": chat_id}, query=query)

    async def unread_chat(self, session: str, chat_id: str) -> Any:
        return await self.call("ChatsController_unreadChat", session, path={"chatId": chat_id})

    async def archive_chat(self, session: str, chat_id: str, archived: bool = True) -> Any:
        operation = "ChatsController_archiveChat" if archived else "ChatsController_unarchiveChat"
        return await self.call(operation, session, path={"chatId": chat_id})

    async def delete_chat(self, session: str, chat_id: str) -> Any:
        return await self.call("ChatsController_deleteChat", session, path={"chatId": chat_id})

    async def clear_messages(self, session: str, chat_id: str) -> Any:
        return await self.call("ChatsController_clearMessages", session, path={"chatId": chat_id})

    async def get_chat_picture(self, session: str, chat_id: str, *, refresh: bool = False) -> dict[str, Any] | None:
        query = {"refresh": refresh or None}
        return await self.call("ChatsController_getChatPicture", session, path={"chatId": chat_id}, query=query)

    async def edit_message(
        self, session: str, chat_id: str, message_id: str, text: str, *, link_preview: bool | None = None
    ) -> Any:
        body: dict[str, Any] = {"text": text}
        if link_preview is not None:
            body["linkPreview"] = link_preview
        message = {"chatId": chat_id, "messageId": message_id}
        return await self.call("ChatsController_editMessage", session, path=message, body=body)

    async def delete_message(self, session: str, chat_id: str, message_id: str) -> Any:
        message = {"chatId": chat_id, "messageId": message_id}
        return await self.call("ChatsController_deleteMessage", session, path=message)

    async def pin_message(self, session: str, chat_id: str, message_id: str, duration: int) -> Any:
        """`duration` goes in the body (seconds); WhatsApp accepts 86400, 604800 or 2592000 only."""
        message = {"chatId": chat_id, "messageId": message_id}
        return await self.call("ChatsController_pinMessage", session, path=message, body={"duration": duration})

    async def unpin_message(self, session: str, chat_id: str, message_id: str) -> Any:
        message = {"chatId": chat_id, "messageId": message_id}
        return await self.call("ChatsController_unpinMessage", session, path=message)

    async def get_all_contacts(self, session: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """`GET /api/contacts/all?session=`: used to put names on message senders."""
        return await self.call("ContactsController_getAll", session, query={"limit": limit}) or []
