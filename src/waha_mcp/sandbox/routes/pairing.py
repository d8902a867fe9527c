"""📱 Pairing: QR code, pairing code, screenshot."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..images import SCREENSHOT_JPEG, base64_file, qr_code_png
from ..registry import Ctx, route
from ..state import SCAN_QR_CODE


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
    session = await ctx.running_session((SCAN_QR_CODE,))
    phone = "".join(ch for ch in str(ctx.body["phoneNumber"]) if ch.isdigit())
    digest = session.digest(f"code:{phone}")
    alphabet = "ABCDEFGHJKLMNPQRSTVWXYZ123456789"  # WhatsApp avoids look-alike characters
    code = "".join(alphabet[b % len(alphabet)] for b in digest[:8])
    session.pairing_phone, session.pairing_code = phone or None, f"{code[:4]}-{code[4:]}"
    return {"code": session.pairing_code}


@route("ScreenshotController_screenshot")
async def screenshot(ctx: Ctx) -> Response | dict[str, str]:
    await ctx.running_session()
    if _wants_json(ctx):
        return base64_file("image/jpeg", SCREENSHOT_JPEG)
    return Response(SCREENSHOT_JPEG, media_type="image/jpeg")
