"""An independent fake WAHA for the hot-path bench: plain asyncio, HTTP/1.1 keep-alive, canned realistic bodies.

python bench/fake_waha.py [--port 0] [--latency-ms 0]   (prints `PORT <n>` on stdout once listening)

Not the sandbox: nothing of waha_mcp is imported, so the server under test and the fake share no code, and the
fake costs little CPU per request. `GET /api/{session}/chats/overview` answers a 20-chat overview of about
14 KB shaped like a NOWEB WAHA's (ids, names, pictures, the last message with its `_data` engine record);
`GET /api/sessions/{session}` a WORKING session. Anything else is WAHA's 404. `--latency-ms` delays each answer
(asyncio.sleep, so many requests wait at once, as with a real WAHA's I/O).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

ME = "491511234567@c.us"


def chats_overview(count: int = 20) -> list[dict[str, Any]]:
    chats = []
    for index in range(count):
        group = index % 4 == 0
        chat_id = f"1203630{index:05d}4567890@g.us" if group else f"4917{index:03d}5550{index:03d}@c.us"
        sender = f"4916{index:03d}0001{index:02d}@c.us"
        ts = 1_764_000_000 - index * 3_137
        message_id = f"{'false' if index % 3 else 'true'}_{chat_id}_3EB0{index:04X}C0FFEE{index:06d}A1B2"
        body = f"Order #{4711 + index} ships on Monday 🚚"
        chats.append(
            {
                "id": chat_id,
                "name": f"Project team {index}" if group else f"Customer {index} (Berlin)",
                "picture": f"https://pps.whatsapp.net/v/t61.24694-24/{400000 + index}_n.jpg?ccb=11-4&oe=6800",
                "lastMessage": {
                    "id": message_id,
                    "timestamp": ts,
                    "from": sender if group else chat_id,
                    "fromMe": index % 3 == 0,
                    "source": "app",
                    "body": body,
                    "to": ME,
                    "participant": sender if group else None,
                    "hasMedia": index % 5 == 0,
                    "media": None,
                    "ack": 3,
                    "ackName": "READ",
                    "replyTo": None,
                    "_data": {
                        "key": {"fromMe": index % 3 == 0, "id": message_id[-24:]},
                        "messageTimestamp": ts,
                        "status": 4,
                        "message": {"extendedTextMessage": {"text": body}},
                    },
                },
                "_chat": {"id": chat_id, "name": None, "conversationTimestamp": ts, "unreadCount": index % 7},
            }
        )
    return chats


def session(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "status": "WORKING",
        "config": {"metadata": None, "webhooks": [], "debug": False},
        "me": {"id": ME, "pushName": "Bench"},
        "engine": {"engine": "NOWEB"},
    }


def _response(status: int, reason: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


OVERVIEW = json.dumps(chats_overview(), separators=(",", ":"), ensure_ascii=False).encode()


def answer(method: str, target: str) -> bytes:
    path = target.split("?", 1)[0]
    parts = path.strip("/").split("/")
    if method == "GET" and len(parts) == 4 and parts[0] == "api" and parts[2:] == ["chats", "overview"]:
        return _response(200, "OK", OVERVIEW)
    if method == "GET" and len(parts) == 3 and parts[:2] == ["api", "sessions"]:
        return _response(200, "OK", json.dumps(session(parts[2]), separators=(",", ":")).encode())
    error = {"message": f"Cannot {method} {path}", "error": "Not Found", "statusCode": 404}
    return _response(404, "Not Found", json.dumps(error).encode())


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            if latency:
                await asyncio.sleep(latency)
            writer.write(answer(method, target))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main_async(port: int, latency: float) -> None:
    server = await asyncio.start_server(lambda r, w: serve_connection(r, w, latency), "127.0.0.1", port, backlog=256)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    try:
        asyncio.run(main_async(args.port, args.latency_ms / 1000))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
