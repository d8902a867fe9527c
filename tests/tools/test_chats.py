"""Toolset `chats` end to end: what one tool writes, another reads back through the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import Chat, World


def world(sandbox: Sandbox, session: str = "default") -> World:
    w = sandbox.sessions[session].world
    assert w is not None
    return w


def first(sandbox: Sandbox, kind: str, **where: Any) -> Chat:
    for chat in world(sandbox).chats.values():
        if chat.id.endswith("@g.us" if kind == "group" else "@c.us") and all(
            getattr(chat, k) == v for k, v in where.items()
        ):
            return chat
    raise AssertionError(f"no {kind} chat with {where}")


def own_requests(sandbox: Sandbox) -> list[Any]:
    """What WAHA received, without the lookups of who `@lid` chats are (contacts, LIDs)."""
    return [r for r in sandbox.requests if "/lids/" not in r.path and r.path != "/api/contacts/all"]


async def chats_by_id(mcp: Client, **args: Any) -> dict[str, dict[str, Any]]:
    out = data(await call(mcp, "waha_get_chats", {"limit": 100, **args}))
    return {c["id"]: c for c in out["chats"]}


async def test_chats_are_compact_and_newest_first_with_a_paging_hint(mcp: Client, sandbox: Sandbox) -> None:
    total = len(world(sandbox).chats)
    page = data(await call(mcp, "waha_get_chats", {"limit": 3}))
    assert len(page["chats"]) == 3 and page["nextOffset"] == 3
    chat = page["chats"][0]
    assert set(chat) <= {"id", "name", "kind", "unread", "last", "time", "archived", "pinned"}
    assert {"id", "name", "kind", "unread", "time"} <= set(chat)
    assert chat["kind"] in ("person", "group") and chat["time"].endswith("Z")
    stamps = [c["time"] for c in page["chats"]]
    assert stamps == sorted(stamps, reverse=True)
    newest = max(world(sandbox).chats.values(), key=lambda c: c.timestamp)
    assert chat["id"] == newest.id and chat["name"] == newest.name
    last = data(await call(mcp, "waha_get_chats", {"limit": 3, "offset": total - 2}))
    assert len(last["chats"]) == 2 and last["nextOffset"] is None
    request = own_requests(sandbox)[-1]
    assert request.path == "/api/default/chats/overview" and request.query["offset"] == [str(total - 2)]


async def test_last_message_preview_is_short_and_says_who(mcp: Client, sandbox: Sandbox) -> None:
    chat = first(sandbox, "person")
    world(sandbox).send_text(chat.id, "word " * 100)
    got = (await chats_by_id(mcp))[chat.id]
    assert got["last"].startswith("me: word word") and len(got["last"]) <= 84 and got["last"].endswith("…")


async def test_sort_by_name_uses_the_plain_chat_list(mcp: Client, sandbox: Sandbox) -> None:
    out = data(await call(mcp, "waha_get_chats", {"sort": "name", "limit": 100}))
    names = [c["name"] for c in out["chats"]]
    assert names == sorted(names)
    request = own_requests(sandbox)[-1]
    assert request.path == "/api/default/chats" and request.query["sortBy"] == ["name"]


async def test_chats_by_ids_use_get_then_post_for_many(mcp: Client, sandbox: Sandbox) -> None:
    chat = first(sandbox, "person")
    out = data(await call(mcp, "waha_get_chats", {"ids": [chat.id.split("@")[0]]}))
    assert [c["id"] for c in out["chats"]] == [chat.id] and out["nextOffset"] is None
    assert sandbox.requests[-1].method == "GET" and sandbox.requests[-1].query["ids"] == [chat.id]
    many = [chat.id] + [f"1555000{n:04d}@c.us" for n in range(24)]
    out = data(await call(mcp, "waha_get_chats", {"ids": many}))
    assert [c["id"] for c in out["chats"]] == [chat.id]
    assert sandbox.requests[-1].method == "POST" and sandbox.requests[-1].json["filter"]["ids"] == many


async def test_mark_read_then_the_chat_shows_no_unread(mcp: Client, sandbox: Sandbox) -> None:
    chat = first(sandbox, "person")
    world(sandbox).receive_text(chat.id, "ping 1")
    world(sandbox).receive_text(chat.id, "ping 2")
    before = (await chats_by_id(mcp))[chat.id]["unread"]
    assert before >= 2
    out = data(await call(mcp, "waha_mark_chat_read", {"chatId": chat.id}))
    assert out["read"] >= 2 and out["unread"] == 0
    assert (await chats_by_id(mcp))[chat.id]["unread"] == 0


async def test_mark_unread_and_archive_show_in_the_list(mcp: Client, sandbox: Sandbox) -> None:
    chat = first(sandbox, "person")
    data(await call(mcp, "waha_mark_chat_read", {"chatId": chat.id}))
    data(await call(mcp, "waha_mark_chat_unread", {"chatId": chat.id}))
    assert (await chats_by_id(mcp))[chat.id]["unread"] == "marked"
    assert data(await call(mcp, "waha_archive_chat", {"chatId": chat.id})) == {
        "session": "default",
        "chatId": chat.id,
        "archived": True,
    }
    assert (await chats_by_id(mcp))[chat.id]["archived"] is True
    data(await call(mcp, "waha_archive_chat", {"chatId": chat.id, "archived": False}))
    assert "archived" not in (await chats_by_id(mcp))[chat.id]
    assert own_requests(sandbox)[-2].path.endswith("/unarchive")


async def test_group_messages_name_their_senders_without_raw_data(mcp: Client, sandbox: Sandbox) -> None:
    group = first(sandbox, "group")
    w = world(sandbox)
    sender = next(p.id for p in w.groups[group.id].participants if p.id != w.me_id and p.id in w.contacts)
    quoted = w.send_text(group.id, "Are we meeting?")
    reply = w.add_message(
        group.id, from_me=False, sender=sender, body="Yes, at noon", timestamp=w.now(), ack=2, reply_to=quoted
    )
    out = data(await call(mcp, "waha_get_messages", {"chatId": group.id, "limit": 5}))
    assert out["chatId"] == group.id
    newest = out["messages"][0]
    name = w.contacts[sender].name or w.contacts[sender].pushname
    assert newest == {
        "id": reply.id,
        "time": newest["time"],
        "from": name,
        "text": "Yes, at noon",
        "replyTo": {"id": quoted.raw_id, "text": "Are we meeting?"},
        "ack": "delivered",
    }
    assert out["messages"][1]["from"] == "me" and out["messages"][1]["ack"] == "sent"
    assert out["people"][name] == sender
    assert "_data" not in str(out)
    # Names come from one contacts call per tool call, not one per message.
    contacts_calls = [r for r in sandbox.requests if r.path == "/api/contacts/all"]
    assert len(contacts_calls) == 1 and contacts_calls[0].query["session"] == ["default"]
    # One message on its own is named the same way.
    one = data(await call(mcp, "waha_get_message", {"chatId": group.id, "messageId": reply.id}))
    assert one["from"] == name and one["messageId"] == reply.id


async def test_messages_filters_sort_and_paging(mcp: Client, sandbox: Sandbox) -> None:
    chat = first(sandbox, "person")
    count = len(chat.messages)
    out = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "limit": 2}))
    assert len(out["messages"]) == 2 and out["nextOffset"] == 2
    rest = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "limit": 100, "offset": 2}))
    assert len(rest["messages"]) == count - 2 and rest["nextOffset"] is None
    mine = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "limit": 100, "fromMe": True}))
    assert mine["messages"] and all(m["from"] == "me" for m in mine["messages"])
    oldest = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "limit": 1, "oldestFirst": True}))
    assert oldest["messages"][0]["id"] == min(chat.messages, key=lambda m: m.timestamp).id
    middle = sorted(m.timestamp for m in chat.messages)[count // 2]
    since = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "limit": 100, "since": str(middle)}))
    assert len(since["messages"]) == sum(m.timestamp >= middle for m in chat.messages)
    as_number = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "limit": 100, "since": middle}))
    assert as_number["messages"] == since["messages"]  # unix seconds as a JSON number too
    query = sandbox.requests[-2].query
    assert query["filter.timestamp.gte"] == [str(middle)] and query["downloadMedia"] == ["false"]
    read = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "limit": 100, "ack": "read"}))
    assert all(m["ack"] == "read" for m in read["messages"])
    assert sandbox.requests[-1].query["filter.ack"] == ["READ"]
    iso = data(await call(mcp, "waha_get_messages", {"chatId": chat.id, "until": "2000-01-01T00:00:00Z"}))
    assert iso["messages"] == [] and sandbox.requests[-1].query["filter.timestamp.lte"] == ["946684800"]


async def test_media_is_summarised_and_its_url_shown_only_once_downloaded(mcp: Client, sandbox: Sandbox) -> None:
    chat, msg = next((c, m) for c in world(sandbox).chats.values() for m in c.messages if m.media)
    plain = data(await call(mcp, "waha_get_message", {"chatId": chat.id, "messageId": msg.id}))
    assert plain["media"] == {"type": "image", "mimetype": "image/jpeg", "size": msg.media.size}
    args = {"chatId": chat.id, "messageId": msg.id, "downloadMedia": True}
    loaded = data(await call(mcp, "waha_get_message", args))
    assert loaded["media"]["url"].startswith("http://sandbox/api/files/default/")


async def test_edit_then_read_shows_the_new_text(mcp: Client, sandbox: Sandbox) -> None:
    chat = first(sandbox, "person")
    sent = world(sandbox).send_text(chat.id, "See you at 5")
    out = data(await call(mcp, "waha_edit_message", {"chatId": chat.id, "messageId": sent.id, "text": "At 6!"}))
    assert out["edited"] is True
    assert sandbox.requests[-1].method == "PUT" and sandbox.requests[-1].json == {"text": "At 6!"}
    got = data(await call(mcp, "waha_get_message", {"chatId": chat.id, "messageId": sent.id}))
    assert got["text"] == "At 6!" and got["edited"] is True and got["from"] == "me"


async def test_delete_message_chat_and_clear(mcp: Client, sandbox: Sandbox) -> None:
    person, group = first(sandbox, "person"), first(sandbox, "group")
    victim = person.messages[-1]
    data(await call(mcp, "waha_delete_message", {"chatId": person.id, "messageId": victim.id, "session": "default"}))
    assert "not found" in error(await call(mcp, "waha_get_message", {"chatId": person.id, "messageId": victim.id}))
    listed = data(await call(mcp, "waha_get_messages", {"chatId": person.id, "limit": 100}))
    ids = [m["id"] for m in listed["messages"]]
    assert victim.id not in ids
    data(await call(mcp, "waha_clear_chat", {"chatId": group.id, "session": "default"}))
    assert data(await call(mcp, "waha_get_messages", {"chatId": group.id}))["messages"] == []
    data(await call(mcp, "waha_delete_chat", {"chatId": person.id, "session": "default"}))
    assert person.id not in await chats_by_id(mcp)
    assert own_requests(sandbox)[-2].method == "DELETE"
    assert "not found" in error(await call(mcp, "waha_delete_chat", {"chatId": person.id, "session": "default"}))


async def test_pin_sends_the_duration_in_the_body(mcp: Client, sandbox: Sandbox) -> None:
    chat = first(sandbox, "person")
    msg = chat.messages[0]
    out = data(await call(mcp, "waha_pin_message", {"chatId": chat.id, "messageId": msg.id, "duration": "24h"}))
    assert out["pinned"] == "24h"
    request = sandbox.requests[-1]
    assert request.path.endswith("/pin") and request.json == {"duration": 86400} and not request.query
    assert msg.pinned_until is not None
    data(await call(mcp, "waha_pin_message", {"chatId": chat.id, "messageId": msg.id}))
    assert sandbox.requests[-1].json == {"duration": 604800}
    data(await call(mcp, "waha_unpin_message", {"chatId": chat.id, "messageId": msg.id}))
    assert msg.pinned_until is None and sandbox.requests[-1].path.endswith("/unpin")


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("waha_get_messages", {"chatId": "not a chat"}, "not a WhatsApp id"),
        ("waha_get_messages", {"chatId": "123@c.us", "limit": 0}, "limit"),
        ("waha_get_messages", {"chatId": "123@c.us", "limit": 101}, "limit"),
        ("waha_get_messages", {"chatId": "123@c.us", "since": "yesterday"}, "since"),
        ("waha_get_messages", {"chatId": "123@c.us", "since": "2026-02-02", "until": "2026-02-01"}, "after"),
        ("waha_get_chats", {"limit": 500}, "limit"),
        ("waha_get_chats", {"offset": -1}, "offset"),
        ("waha_get_chats", {"ids": ["bad id!"]}, "not a WhatsApp id"),
        ("waha_get_message", {"chatId": "123@c.us", "messageId": "x y"}, "not a WAHA message id"),
        ("waha_edit_message", {"chatId": "123@c.us", "messageId": "true_123@c.us_ABCDEF", "text": "  "}, "empty"),
        ("waha_edit_message", {"chatId": "123@c.us", "messageId": "false_123@c.us_ABCDEF", "text": "x"}, "received"),
        ("waha_pin_message", {"chatId": "123@c.us", "messageId": "true_123@c.us_ABC", "duration": "1h"}, "24h"),
        ("waha_pin_message", {"chatId": "123@c.us", "messageId": "true_123@c.us_ABC", "duration": 3600}, "duration"),
        ("waha_delete_chat", {"chatId": "@g.us"}, "not a WhatsApp id"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, Any], needle: str
) -> None:
    message = error(await call(mcp, tool, args))
    assert needle in message
    assert sandbox.requests == []


async def test_chat_picture_is_a_url_when_not_on_waha(mcp: Client, sandbox: Sandbox) -> None:
    for chat in list(world(sandbox).chats.values())[:3]:
        out = data(await call(mcp, "waha_get_chat_picture", {"chatId": chat.id}))
        assert out["chatId"] == chat.id and out["url"].startswith("https://pps.whatsapp.net/")
    # Nothing was fetched from WhatsApp's CDN: every request went to WAHA's picture route.
    assert all(r.path.endswith("/picture") for r in sandbox.requests if "/contacts/" not in r.path)


async def test_chat_picture_served_by_waha_comes_back_as_an_image(mcp: Client, sandbox: Sandbox) -> None:
    chat, msg = next((c, m) for c in world(sandbox).chats.values() for m in c.messages if m.media)
    msg.media.size = 2000
    msg.media.downloaded_at = 1e18  # present on the file server
    url = f"http://sandbox/api/files/default/{msg.id}.jpeg"
    sandbox.faults.add("ChatsController_getChatPicture", kind="status", status=200, body={"url": url}, times=1)
    result = await call(mcp, "waha_get_chat_picture", {"chatId": chat.id})
    assert not result.is_error
    assert result.content[0].type == "image" and result.content[0].mime_type == "image/jpeg"
    assert result.structured_content == {"session": "default", "chatId": chat.id, "bytes": 2000}


# --------------------------------------------------------------------------- @lid chats


def lid_chat(sandbox: Sandbox, session: str = "default") -> tuple[str, str, str]:
    """The seeded chat WhatsApp keys by a LID: (its id, the contact's phone id, the contact's name)."""
    w = world(sandbox, session)
    lid = next(cid for cid in w.chats if cid.endswith("@lid"))
    contact = w.contact(lid)
    assert contact is not None and contact.name
    return lid, contact.id, contact.name


def lid_lookups(sandbox: Sandbox) -> list[str]:
    return [r.path for r in sandbox.requests if "/lids/" in r.path]


async def test_a_lid_chat_shows_its_number_and_contact_name(mcp: Client, sandbox: Sandbox) -> None:
    lid, pn, name = lid_chat(sandbox)
    assert world(sandbox).chats[lid].name is None  # WAHA gives it no name
    got = (await chats_by_id(mcp))[lid]
    assert got["phone"] == "+" + pn.split("@")[0] and got["name"] == name and got["kind"] == "person"
    assert len(lid_lookups(sandbox)) == 1
    others = [c for c in (await chats_by_id(mcp)).values() if c["id"] != lid]
    assert others and all("phone" not in c for c in others)  # only LIDs are looked up
    assert len(lid_lookups(sandbox)) == 1  # cached for the session: no second lookup
    by_id = data(await call(mcp, "waha_get_chats", {"ids": [lid]}))["chats"]
    assert [(c["id"], c["phone"], c["name"]) for c in by_id] == [(lid, "+" + pn.split("@")[0], name)]


async def test_a_lid_chat_whose_number_is_unknown_stays_as_it_is(mcp: Client, sandbox: Sandbox) -> None:
    lid, _, _ = lid_chat(sandbox)
    sandbox.faults.add("LidsController_findPNByLid", kind="status", status=404)
    got = (await chats_by_id(mcp))[lid]
    assert "phone" not in got and "name" not in got and got["id"] == lid  # the tool still answers


async def test_logout_and_delete_forget_the_sessions_lids(mcp: Client, sandbox: Sandbox) -> None:
    await chats_by_id(mcp)
    await chats_by_id(mcp, session="business")
    assert len(lid_lookups(sandbox)) == 2  # one LID chat per session, each looked up once
    data(await call(mcp, "waha_logout_session", {"session": "default"}))
    sandbox.scan("default")
    await chats_by_id(mcp)
    assert len(lid_lookups(sandbox)) == 3  # looked up again: the account may be another one now
    await chats_by_id(mcp, session="business")
    assert len(lid_lookups(sandbox)) == 3  # the other session's answers are kept
    data(await call(mcp, "waha_delete_session", {"session": "business"}))
    data(await call(mcp, "waha_create_session", {"name": "business"}))
    sandbox.scan("business")
    await chats_by_id(mcp, session="business")
    assert len(lid_lookups(sandbox)) == 4
