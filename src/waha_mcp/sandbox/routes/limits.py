"""🖥️ Sessions: the account limits WhatsApp enforces, as WAHA 2026.8.1 reads them on demand.

`GET /api/sessions/{session}/timelock` answers `ReachoutTimelockData` and `.../capping` answers `MessageCappingData`
(sessions.dto.ts; the WAHA 2026.8 blog post). WAHA fetches both from WhatsApp, so the session must be WORKING.
"""

from __future__ import annotations

from typing import Any

from ..registry import Ctx, route


@route("SessionsController_getReachoutTimelock")
async def get_timelock(ctx: Ctx) -> dict[str, Any]:
    session = await ctx.working_session()
    # Never restricted: WhatsApp's answer is the DEFAULT enforcement, inactive, no end.
    return session.reachout_timelock() or {"enforcementType": "DEFAULT", "isActive": False, "timeEnforcementEnds": None}


@route("SessionsController_getMessageCapping")
async def get_capping(ctx: Ctx) -> dict[str, Any]:
    session = await ctx.working_session()
    if session.capping is not None:
        return dict(session.capping)
    # No cap reported: "-1 when the account has no cap" (sessions.dto.ts `totalQuota`).
    return {
        "cappingStatus": "NONE",
        "totalQuota": -1,
        "usedQuota": 0,
        "cycleStart": None,
        "cycleEnd": None,
        "mvStatus": None,
        "oteStatus": None,
    }
