"""`/__sandbox/...` control endpoints: not WAHA routes, never recorded.

POST   /__sandbox/faults              {route?, kind, status?, delay?, times?, body?}
DELETE /__sandbox/faults
POST   /__sandbox/{session}/scan      {phone?}            SCAN_QR_CODE → WORKING
POST   /__sandbox/{session}/status    {status}            force a status (held)
POST   /__sandbox/{session}/inbound   {chatId, text, from?}
POST   /__sandbox/{session}/timelock  {seconds?, enforcementType?}  WhatsApp's reach-out timelock (error 463)
                                      for `seconds` (default a day); `"seconds": null` lifts it
POST   /__sandbox/{session}/capping   {status?, seconds?, used?, total?}  WhatsApp's new-chat message capping
                                      (error 475 when CAPPED) for a cycle ending in `seconds`; NONE clears it
POST   /__sandbox/{session}/join-request {groupId, from, action?}  someone asks to join a group (routes/groups.py)
POST   /__sandbox/{session}/voice     {chatId, data?, from?}  a voice note received: `data` base64 OGG/Opus
                                      (real speech), else a shipped spoken sample (sandbox/voice.py)
POST   /__sandbox/{session}/call      {from}              an incoming call (routes/calls.py)
POST   /__sandbox/{session}/read      {chatId}            the contact reads my messages: message.ack READ
POST   /__sandbox/{session}/expire-files {lifetime?}      WAHA's media cleanup (routes/media.py)
GET    /__sandbox/events?after=ID                     the event log (webhook envelopes), after ID
POST   /__sandbox/ws/drop                             close every open /ws event stream (events_ws.py)
GET    /__sandbox/state
POST   /__sandbox/reset
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from . import errors
from .voice import voice_data

if TYPE_CHECKING:
    from .app import Sandbox


async def handle(sb: Sandbox, request: Request, raw_path: str, body: bytes) -> Response:
    from .app import SandboxStateError, json_response

    parts = [unquote(p) for p in raw_path.split("/")[2:]]
    method = request.method
    try:
        data: dict[str, Any] = json.loads(body) if body.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        if parts == ["faults"] and method == "POST":
            kind = data.get("kind")
            if not isinstance(kind, str):
                raise ValueError("kind is required")
            rule = sb.faults.add(
                data.get("route"),
                kind=kind,
                status=int(data.get("status", 500)),
                delay=float(data.get("delay", 0.0)),
                times=data.get("times"),
                body=data.get("body"),
            )
            return json_response(rule.to_dict(), 201)
        if parts == ["faults"] and method == "DELETE":
            count = len(sb.faults.rules)
            sb.faults.clear()
            return json_response({"cleared": count})
        if parts == ["events"] and method == "GET":
            return json_response(sb.events(request.query_params.get("after") or None))
        if parts == ["ws", "drop"] and method == "POST":
            from .events_ws import streams

            return json_response({"dropped": streams(sb).drop_all()}, 201)
        if parts == ["state"] and method == "GET":
            return json_response(sb.summary())
        if parts == ["reset"] and method == "POST":
            sb.reset()
            return json_response(sb.summary(), 201)
        if len(parts) == 2 and method == "POST":
            name, action = parts
            if action == "scan":
                return json_response(sb.scan(name, data.get("phone")), 201)
            if action == "status":
                return json_response(sb.set_status(name, str(data.get("status"))), 201)
            if action == "timelock":
                seconds = data.get("seconds", 86400)
                kind = str(data.get("enforcementType") or "DEFAULT")
                return json_response(sb.timelock(name, None if seconds is None else float(seconds), kind), 201)
            if action == "capping":
                seconds = data.get("seconds", 86400)
                used = data.get("used")
                return json_response(
                    sb.capping(
                        name,
                        str(data.get("status") or "CAPPED"),
                        None if seconds is None else float(seconds),
                        None if used is None else int(used),
                        int(data.get("total", 1000)),
                    ),
                    201,
                )
            if action == "join-request":
                from .routes.groups import join_request

                if not data.get("groupId") or not data.get("from"):
                    raise ValueError("groupId and from are required")
                found = join_request(
                    sb, name, str(data["groupId"]), str(data["from"]), str(data.get("action") or "created")
                )
                return json_response(found, 201)
            if action == "call":
                from .routes.calls import ring

                return json_response(ring(sb, name, str(data.get("from") or "")), 201)
            if action == "expire-files":
                from .routes.media import expire_files, set_files_lifetime

                if "lifetime" in data:
                    set_files_lifetime(sb, None if data["lifetime"] is None else float(data["lifetime"]))
                return json_response({"expired": expire_files(sb, name)}, 201)
            if action == "voice":
                if not data.get("chatId"):
                    raise ValueError("chatId is required")
                audio = voice_data(data.get("data"))
                return json_response(sb.inject_voice(name, data["chatId"], audio, data.get("from")), 201)
            if action == "read":
                if not data.get("chatId"):
                    raise ValueError("chatId is required")
                return json_response({"read": sb.contact_reads(name, str(data["chatId"]))}, 201)
            if action == "inbound":
                if not data.get("chatId") or not isinstance(data.get("text"), str):
                    raise ValueError("chatId and text are required")
                message = sb.inject_inbound(name, data["chatId"], data["text"], data.get("from"))
                return json_response(message, 201)
    except KeyError as exc:
        return json_response(errors.nest_body(404, str(exc.args[0])), 404)
    except SandboxStateError as exc:
        return json_response(errors.nest_body(409, str(exc)), 409)
    except (ValueError, TypeError) as exc:
        return json_response(errors.nest_body(400, str(exc)), 400)
    return json_response(errors.nest_body(404, f"Cannot {method} {raw_path}"), 404)
