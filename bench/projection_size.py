"""How much smaller the compact projections are than WAHA's own JSON, for the same data.

20 chats (`waha_get_chats`) and 20 messages of a group chat (`waha_get_messages`) in the sandbox: the
characters of the tool's text result against the characters of WAHA's response body for the same request
(`GET /api/{s}/chats/overview?limit=20`, `GET /api/{s}/chats/{id}/messages?limit=20&downloadMedia=false`).

    .venv/bin/python bench/projection_size.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx2
from mcp import Client

from waha_mcp.config import load_settings
from waha_mcp.sandbox import Sandbox, sandbox_transport
from waha_mcp.sandbox.world import Media, World
from waha_mcp.server import build_server

TARGET = 0.40
LINES = ["On my way", "Can you send me the document?", "Meeting moved to 3pm", "👍", "Where should we meet?"]


def populate(world: World) -> str:
    """At least 20 chats, and a group chat with at least 20 messages (replies, media, several senders)."""
    n = 0
    while len(world.chats) < 20:
        world.receive_text(f"1415555{n:04d}@c.us", LINES[n % len(LINES)])
        n += 1
    group = next(iter(world.groups.values()))
    others = [p.id for p in group.participants if p.id != world.me_id]
    chat = world.chats[group.id]
    i = 0
    while len(chat.messages) < 20:
        quoted = chat.messages[-1] if i % 4 == 3 else None
        media = Media("image/jpeg", None, 120_000, 1280, 960) if i % 7 == 5 else None
        if i % 3 == 0:
            world.send_text(group.id, LINES[i % len(LINES)])
        else:
            world.add_message(
                group.id,
                from_me=False,
                sender=others[i % len(others)],
                body=LINES[i % len(LINES)],
                timestamp=world.now(),
                ack=2,
                reply_to=quoted,
                media=media,
            )
        i += 1
    return group.id


async def measure() -> dict[str, Any]:
    sandbox = Sandbox(sessions=1)
    world = sandbox.sessions["default"].world
    assert world is not None
    group_id = populate(world)
    transport = sandbox_transport(sandbox)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        raw_chats = (await http.get("/api/default/chats/overview", params={"limit": 20})).text
        raw_messages = (
            await http.get(f"/api/default/chats/{group_id}/messages", params={"limit": 20, "downloadMedia": "false"})
        ).text
    server = build_server(load_settings(WAHA_BASE_URL="http://sandbox", WAHA_SESSION="default"), transport=transport)
    async with Client(server) as mcp:
        chats = await mcp.call_tool("waha_get_chats", {"limit": 20})
        messages = await mcp.call_tool("waha_get_messages", {"chatId": group_id, "limit": 20})
    tool_chats, tool_messages = chats.content[0].text, messages.content[0].text  # type: ignore[union-attr]
    assert len(json.loads(raw_chats)) == 20 and len(json.loads(tool_chats)["chats"]) == 20
    assert len(json.loads(raw_messages)) == 20 and len(json.loads(tool_messages)["messages"]) == 20
    rows = {
        "chats (20)": (len(raw_chats), len(tool_chats)),
        "messages (20)": (len(raw_messages), len(tool_messages)),
    }
    rows["total"] = (sum(r for r, _ in rows.values()), sum(t for _, t in rows.values()))
    return {name: {"waha_chars": r, "tool_chars": t, "ratio": round(t / r, 3)} for name, (r, t) in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    results = asyncio.run(measure())
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'':16}{'WAHA JSON':>12}{'tool output':>14}{'ratio':>9}")
    for name, row in results.items():
        print(f"{name:16}{row['waha_chars']:>12,}{row['tool_chars']:>14,}{row['ratio']:>9.1%}")
    verdict = "meets" if results["total"]["ratio"] <= TARGET else "misses"
    print(f"target ≤ {TARGET:.0%}: {verdict}")


if __name__ == "__main__":
    main()
