"""Chatting and Events: the `/api/send*` family, reactions, stars, seen, typing, `/api/{session}/events`.

The older Chatting routes take the session as the JSON body field `session`; events take it in the
path (`call()` puts it where the document says). Sends are never retried: a timeout after WAHA
accepted a message would send it twice.
"""

from __future__ import annotations

from typing import Any

from waha_mcp.client._http import HTTPCore


class ChattingAPI(HTTPCore):
    async def _chatting(self, operation: str, session: str, **fields: Any) -> Any:
        """Unset optional fields are left out of the body; `call()` adds `session`."""
        body = {key: value for key, value in fields.items() if value is not None}
        return await self.call(operation, session, body=body)

    async def send_text(
        self,
        session: str,
        chat_id: str,
        text: str,
        *,
        reply_to: str | None = None,
        link_preview: bool | None = None,
        link_preview_high_quality: bool | None = None,
        mentions: list[str] | None = None,
    ) -> Any:
        return await self._chatting(
            "ChattingController_sendText",
            session,
            chatId=chat_id,
            text=text,
            mentions=mentions or None,
            reply_to=reply_to,
            linkPreview=link_preview,
            linkPreviewHighQuality=link_preview_high_quality,
        )

    async def send_link_custom_preview(
        self,
        session: str,
        chat_id: str,
        text: str,
        preview: dict[str, Any],
        *,
        reply_to: str | None = None,
        high_quality: bool | None = None,
    ) -> Any:
        """`preview` is `{url, title, description, image?: {url} | {data}}`; `text` must contain `url`."""
        return await self._chatting(
            "ChattingController_sendLinkCustomPreview",
            session,
            chatId=chat_id,
            text=text,
            preview=preview,
            reply_to=reply_to,
            linkPreviewHighQuality=high_quality,
        )

    async def send_image(
        self,
        session: str,
        chat_id: str,
        file: dict[str, Any],
        *,
        caption: str | None = None,
        reply_to: str | None = None,
    ) -> Any:
        """`file` is `{mimetype, filename?, url}` or `{mimetype, filename?, data}` (base64)."""
        return await self._chatting(
            "ChattingController_sendImage", session, chatId=chat_id, file=file, caption=caption, reply_to=reply_to
        )

    async def send_file(
        self,
        session: str,
        chat_id: str,
        file: dict[str, Any],
        *,
        caption: str | None = None,
        reply_to: str | None = None,
    ) -> Any:
        return await self._chatting(
            "ChattingController_sendFile", session, chatId=chat_id, file=file, caption=caption, reply_to=reply_to
        )

    async def send_video(
        self,
        session: str,
        chat_id: str,
        file: dict[str, Any],
        *,
        convert: bool = False,
        caption: str | None = None,
        as_note: bool | None = None,
        reply_to: str | None = None,
    ) -> Any:
        """`file` needs `filename` when it is a URL (VideoRemoteFile requires it)."""
        return await self._chatting(
            "ChattingController_sendVideo",
            session,
            chatId=chat_id,
            file=file,
            convert=convert,
            caption=caption,
            asNote=as_note,
            reply_to=reply_to,
        )

    async def send_voice(
        self, session: str, chat_id: str, file: dict[str, Any], *, convert: bool, reply_to: str | None = None
    ) -> Any:
        """A voice note; phones play only OGG/Opus, so pass `convert=True` for anything else."""
        return await self._chatting(
            "ChattingController_sendVoice", session, chatId=chat_id, file=file, convert=convert, reply_to=reply_to
        )

    async def send_location(
        self,
        session: str,
        chat_id: str,
        latitude: float,
        longitude: float,
        title: str,
        *,
        reply_to: str | None = None,
    ) -> Any:
        return await self._chatting(
            "ChattingController_sendLocation",
            session,
            chatId=chat_id,
            latitude=latitude,
            longitude=longitude,
            title=title,
            reply_to=reply_to,
        )

    async def send_contact_vcard(
        self, session: str, chat_id: str, contacts: list[dict[str, Any]], *, reply_to: str | None = None
    ) -> Any:
        """`contacts`: `[{vcard}]` or `[{fullName, phoneNumber, organization?, whatsappId?, vcard: None}]`."""
        return await self._chatting(
            "ChattingController_sendContactVcard", session, chatId=chat_id, contacts=contacts, reply_to=reply_to
        )

    async def send_poll(
        self,
        session: str,
        chat_id: str,
        name: str,
        options: list[str],
        *,
        multiple_answers: bool = False,
        reply_to: str | None = None,
    ) -> Any:
        poll = {"name": name, "options": options, "multipleAnswers": multiple_answers}
        return await self._chatting(
            "ChattingController_sendPoll", session, chatId=chat_id, poll=poll, reply_to=reply_to
        )

    async def send_poll_vote(
        self,
        session: str,
        chat_id: str,
        poll_message_id: str,
        votes: list[str],
        *,
        poll_server_id: int | None = None,
    ) -> Any:
        return await self._chatting(
            "ChattingController_sendPollVote",
            session,
            chatId=chat_id,
            pollMessageId=poll_message_id,
            votes=votes,
            pollServerId=poll_server_id,
        )

    async def send_list(
        self, session: str, chat_id: str, message: dict[str, Any], *, reply_to: str | None = None
    ) -> Any:
        """`message`: `{title, description?, footer?, button, sections: [{title, rows: [{title, rowId}]}]}`."""
        return await self._chatting(
            "ChattingController_sendList", session, chatId=chat_id, message=message, reply_to=reply_to
        )

    async def send_buttons_reply(
        self,
        session: str,
        chat_id: str,
        selected_display_text: str,
        selected_button_id: str,
        *,
        reply_to: str | None = None,
    ) -> Any:
        return await self._chatting(
            "ChattingController_sendButtonsReply",
            session,
            chatId=chat_id,
            replyTo=reply_to,
            selectedDisplayText=selected_display_text,
            selectedButtonID=selected_button_id,
        )

    async def forward_message(self, session: str, chat_id: str, message_id: str) -> Any:
        """Forward `message_id` (from any chat) to `chat_id`."""
        return await self._chatting("ChattingController_forwardMessage", session, chatId=chat_id, messageId=message_id)

    async def send_seen(
        self,
        session: str,
        chat_id: str,
        *,
        message_ids: list[str] | None = None,
        participant: str | None = None,
    ) -> Any:
        return await self._chatting(
            "ChattingController_sendSeen",
            session,
            chatId=chat_id,
            messageIds=message_ids or None,
            participant=participant,
        )

    async def start_typing(self, session: str, chat_id: str) -> Any:
        return await self._chatting("ChattingController_startTyping", session, chatId=chat_id)

    async def stop_typing(self, session: str, chat_id: str) -> Any:
        return await self._chatting("ChattingController_stopTyping", session, chatId=chat_id)

    async def set_reaction(self, session: str, message_id: str, reaction: str) -> Any:
        """`reaction=""` removes this account's reaction."""
        return await self._chatting("ChattingController_setReaction", session, messageId=message_id, reaction=reaction)

    async def set_star(self, session: str, chat_id: str, message_id: str, star: bool) -> Any:
        return await self._chatting(
            "ChattingController_setStar", session, messageId=message_id, chatId=chat_id, star=star
        )

    async def send_event(
        self, session: str, chat_id: str, event: dict[str, Any], *, reply_to: str | None = None
    ) -> Any:
        """`event`: `{name, startTime (unix s), endTime?, description?, location?: {name}, extraGuestsAllowed?}`."""
        body = {
            key: value
            for key, value in {"chatId": chat_id, "event": event, "reply_to": reply_to}.items()
            if value is not None
        }
        return await self.call("EventsController_sendEvent", session, body=body)
