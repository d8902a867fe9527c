"""The WAHA HTTP client: one class composed of one mixin per WAHA area; no session is held."""

from __future__ import annotations

from waha_mcp.client._http import Binary, segment
from waha_mcp.client.chats import ChatsAPI
from waha_mcp.client.chatting import ChattingAPI
from waha_mcp.client.errors import (
    BadResponse,
    EndpointMissing,
    NotFound,
    RateLimited,
    SessionNotReady,
    TierLimit,
    TooLarge,
    Unauthorized,
    Unavailable,
    WAHAError,
)
from waha_mcp.client.media import MediaAPI
from waha_mcp.client.presence import PresenceAPI
from waha_mcp.client.server import ServerAPI
from waha_mcp.client.sessions import SessionsAPI


class WAHAClient(SessionsAPI, ServerAPI, ChattingAPI, ChatsAPI, PresenceAPI, MediaAPI):
    """`WAHAClient(base_url, api_key)`; every session-scoped method takes `session` first."""


__all__ = [
    "BadResponse",
    "Binary",
    "EndpointMissing",
    "NotFound",
    "RateLimited",
    "SessionNotReady",
    "TierLimit",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "WAHAClient",
    "WAHAError",
    "segment",
]
