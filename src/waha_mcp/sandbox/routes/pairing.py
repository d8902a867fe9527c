"""📱 Pairing: QR code, pairing code, passkey, screenshot.

Passkey pairing: in PASSKEY_REQUIRED the challenge is a `PasskeyChallenge`; the submitted assertion must
be for that challenge (clientDataJSON of type `webauthn.get`, origin web.whatsapp.com, an allowed
credential) or WhatsApp refuses it (a 422 here); a good one pairs the session. In
PASSKEY_CONFIRMATION_REQUIRED the code is read and the pairing confirmed. Submit and confirm answer an
empty 201. Outside those statuses WAHA answers its status mismatch.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import anyio
from starlette.responses import Response

from .. import errors
from ..images import SCREENSHOT_JPEG, base64_file, qr_code_png
from ..registry import Ctx, route
from ..state import (
    PASSKEY_CONFIRMATION_REQUIRED,
    PASSKEY_ORIGIN,
    PASSKEY_REQUIRED,
    SCAN_QR_CODE,
    STARTING,
    WORKING,
)


def _wants_json(ctx: Ctx) -> bool:
    return "application/json" in ctx.request.headers.get("accept", "")


@route("AuthController_getQR")
async def get_qr(ctx: Ctx) -> Any:
    fmt = ctx.q_choice("format", ("image", "raw"), "image")
    session = await ctx.running_session((SCAN_QR_CODE,))
    value = session.qr_value()
    if fmt == "raw":
        return {"value": value}
    png = qr_code_png(value)
    if _wants_json(ctx):
        return base64_file("image/png", png)
    return Response(png, media_type="image/png")


@route("AuthController_requestCode")
async def request_code(ctx: Ctx) -> dict[str, str]:
    ctx.core_rules()
    waiting = ctx.sandbox.get_session(ctx.session_name)
    if waiting is not None and ctx.body.get("method") and ctx.sandbox.profile.engine == "NOWEB":
        # NOWEB's requestCode refuses any `method` first thing (src/core/engines/noweb/session.noweb.core.ts).
        raise errors.nest(422, "NOWEB engine doesn't support any 'method', remove it and try again")
    if ctx.sandbox.profile.pairing_hangs_while_starting and waiting is not None and waiting.status == STARTING:
        # NOWEB offline: WAHA waits for a QR that never comes and never answers (BEHAVIOUR.md).
        await anyio.sleep_forever()
    session = await ctx.running_session((SCAN_QR_CODE,))
    phone = "".join(ch for ch in str(ctx.body["phoneNumber"]) if ch.isdigit())
    digest = session.digest(f"code:{phone}")
    alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ123456789"  # WhatsApp avoids look-alike characters
    code = "".join(alphabet[b % len(alphabet)] for b in digest[:8])
    session.pairing_phone, session.pairing_code = phone or None, f"{code[:4]}-{code[4:]}"
    return {"code": session.pairing_code}


@route("AuthController_getPasskeyChallenge")
async def passkey_challenge(ctx: Ctx) -> dict[str, Any]:
    return (await ctx.running_session((PASSKEY_REQUIRED,))).passkey_challenge()


def _client_data(value: Any) -> dict[str, Any]:
    try:
        text = base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4))
        data = json.loads(text)
    except (binascii.Error, ValueError):
        data = None
    if not isinstance(data, dict):
        raise errors.nest(422, "Passkey assertion rejected: clientDataJSON is not base64url JSON")
    return data


@route("AuthController_submitPasskey")
async def submit_passkey(ctx: Ctx) -> None:
    session = await ctx.running_session((PASSKEY_REQUIRED,))
    pending = session.passkey_challenge()
    client = _client_data(ctx.body["response"]["clientDataJSON"])
    allowed = {cred["id"] for cred in pending["allowCredentials"]}
    if client.get("type") != "webauthn.get" or client.get("origin") != PASSKEY_ORIGIN:
        raise errors.nest(422, f"Passkey assertion rejected: not a webauthn.get from {PASSKEY_ORIGIN}")
    if client.get("challenge") != pending["challenge"]:
        raise errors.nest(422, "Passkey assertion rejected: the challenge does not match the pending one")
    if ctx.body["id"] not in allowed or ctx.body["type"] != "public-key":
        raise errors.nest(422, "Passkey assertion rejected: unknown credential")
    session.pair()


@route("AuthController_getPasskeyConfirmation")
async def passkey_confirmation(ctx: Ctx) -> dict[str, str]:
    return {"code": (await ctx.running_session((PASSKEY_CONFIRMATION_REQUIRED,))).passkey_code()}


@route("AuthController_confirmPasskey")
async def confirm_passkey(ctx: Ctx) -> None:
    (await ctx.running_session((PASSKEY_CONFIRMATION_REQUIRED,))).pair()


def _noweb_screenshot(ctx: Ctx, session: Any) -> Response | dict[str, str]:
    """NOWEB has no page: its QR while SCAN_QR_CODE, else its 422s (Profile.noweb_screenshot)."""
    if session.status == STARTING:
        raise errors.nest(422, "The session is starting, please try again after few seconds")
    if session.status == WORKING:
        raise errors.nest(422, "Can not get screenshot for non chrome based engine.")
    if session.status != SCAN_QR_CODE:
        raise errors.nest(422, f"Unknown status - {session.status}")
    png = qr_code_png(session.qr_value())
    return base64_file("image/png", png) if _wants_json(ctx) else Response(png, media_type="image/png")


@route("ScreenshotController_screenshot")
async def screenshot(ctx: Ctx) -> Response | dict[str, str]:
    session = await ctx.running_session()
    if ctx.sandbox.profile.noweb_screenshot:
        return _noweb_screenshot(ctx, session)
    if session.status in ctx.sandbox.profile.screenshot_fails:
        # No page to capture yet (or any more): WAHA's unhandled exception.
        raise ctx.exception(f"Session '{session.name}' has no page to screenshot ({session.status})")
    if _wants_json(ctx):
        return base64_file("image/jpeg", SCREENSHOT_JPEG)
    return Response(SCREENSHOT_JPEG, media_type="image/jpeg")
