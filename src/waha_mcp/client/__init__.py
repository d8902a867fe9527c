"""The WAHA HTTP client: `call(operationId, session, ...)` from the OpenAPI document, plus named methods only
where there is logic; no session is held."""

from __future__ import annotations

from waha_mcp.client._http import Binary, Route, routes, segment
from waha_mcp.client.errors import (
    BadResponse,
    BusinessOnly,
    EndpointMissing,
    MessageCapped,
    NotFound,
    NotOnFileServer,
    RateLimited,
    ReachoutLimited,
    Redirected,
    SessionNotReady,
    TierLimit,
    TooLarge,
    TooOld,
    Unauthorized,
    Unavailable,
    WAHAError,
)
from waha_mcp.client.server import ServerAPI
from waha_mcp.client.version import ServerVersion


class WAHAClient(ServerAPI):
    """`WAHAClient(base_url, api_key)`; every session-scoped method takes `session` first."""


__all__ = [
    "BadResponse",
    "Binary",
    "BusinessOnly",
    "EndpointMissing",
    "MessageCapped",
    "NotFound",
    "NotOnFileServer",
    "RateLimited",
    "ReachoutLimited",
    "Redirected",
    "Route",
    "ServerVersion",
    "SessionNotReady",
    "TierLimit",
    "TooLarge",
    "TooOld",
    "Unauthorized",
    "Unavailable",
    "WAHAClient",
    "WAHAError",
    "routes",
    "segment",
]
