"""Toolset `labels` end to end: a Business account's labels, and a personal account's refusal."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.helpers import call, data, error
from waha_mcp.sandbox import Sandbox
from waha_mcp.sandbox.world import World

BIZ = {"session": "business"}


def world(sandbox: Sandbox, name: str = "business") -> World:
    w = sandbox.sessions[name].world
    assert w is not None
    return w


def a_person(sandbox: Sandbox, name: str = "business") -> str:
    return next(c for c in world(sandbox, name).chats if c.endswith("@c.us"))


async def test_list_create_update_and_delete(mcp: Client, sandbox: Sandbox) -> None:
    listed = data(await call(mcp, "waha_get_labels", BIZ))
    assert listed["session"] == "business"
    assert listed["labels"][0] == {"id": "1", "name": "New customer", "color": "#64c4ff"}
    assert len(listed["labels"]) == 5
    made = data(await call(mcp, "waha_create_label", {**BIZ, "name": "VIP", "color": "#FF9485"}))
    assert made == {"session": "business", "labelId": "6", "name": "VIP", "color": "#ff9485"}
    assert sandbox.requests[-1].json == {"name": "VIP", "colorHex": "#ff9485"}
    renamed = data(await call(mcp, "waha_update_label", {**BIZ, "labelId": "6", "name": "Gold"}))
    assert renamed == {"session": "business", "labelId": "6", "name": "Gold", "color": "#ff9485"}
    assert sandbox.requests[-1].json == {"name": "Gold"}  # no colour given: the label keeps its own
    out = data(await call(mcp, "waha_delete_label", {**BIZ, "labelId": "6"}))
    assert out == {"session": "business", "labelId": "6", "deleted": True}
    assert "6" not in world(sandbox).labels
    assert "not found" in error(await call(mcp, "waha_delete_label", {**BIZ, "labelId": "6"}))


async def test_chat_labels_are_replaced_and_read_back(mcp: Client, sandbox: Sandbox) -> None:
    chat = a_person(sandbox)
    number = chat.split("@")[0]
    out = data(await call(mcp, "waha_set_chat_labels", {**BIZ, "chatId": number, "labelIds": ["2", "4", "2", "77"]}))
    # The unknown id 77 is skipped by WhatsApp: the result is what the chat really has.
    assert out == {
        "session": "business",
        "chatId": chat,
        "labels": [
            {"id": "2", "name": "New order", "color": "#ffd429"},
            {"id": "4", "name": "Paid", "color": "#55ccb3"},
        ],
    }
    put = sandbox.requests[-2]
    assert (put.method, put.json) == ("PUT", {"labels": [{"id": "2"}, {"id": "4"}, {"id": "77"}]})
    assert data(await call(mcp, "waha_get_labels", {**BIZ, "chatId": chat}))["labels"] == out["labels"]
    chats = data(await call(mcp, "waha_get_label_chats", {**BIZ, "labelId": "4"}))
    assert chats["labelId"] == "4" and [c["id"] for c in chats["chats"]] == [chat]
    assert chats["chats"][0]["kind"] == "person"
    cleared = data(await call(mcp, "waha_set_chat_labels", {**BIZ, "chatId": chat, "labelIds": []}))
    assert cleared["labels"] == [] and world(sandbox).chat_labels[chat] == []
    assert data(await call(mcp, "waha_get_label_chats", {**BIZ, "labelId": "4"}))["chats"] == []


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("waha_create_label", {"name": "VIP"}),
        ("waha_update_label", {"labelId": "1", "name": "VIP"}),
        ("waha_delete_label", {"labelId": "1", "session": "default"}),
        ("waha_set_chat_labels", {"chatId": "12025550100", "labelIds": ["1"]}),
    ],
)
async def test_a_personal_account_is_told_labels_need_whatsapp_business(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, object]
) -> None:
    message = error(await call(mcp, tool, args))
    assert message.startswith("session 'default' is a personal WhatsApp account: ")
    assert "needs a WhatsApp Business account" in message and "[LT01] Only Whatsapp business" in message
    assert "crashed" not in message  # WAHA's 500 here is a refusal, not an outage
    assert len(sandbox.requests) == 1  # a refusal is not retried


async def test_a_personal_account_lists_no_labels(mcp: Client) -> None:
    assert data(await call(mcp, "waha_get_labels")) == {"session": "default", "labels": []}


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("waha_create_label", {"name": "   "}, "name is empty"),
        ("waha_create_label", {"name": "VIP", "color": "red"}, "color"),
        ("waha_update_label", {"labelId": "a b", "name": "x"}, "labelId"),
        ("waha_set_chat_labels", {"chatId": "nope", "labelIds": []}, "not a WhatsApp id"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox: Sandbox, tool: str, args: dict[str, object], needle: str
) -> None:
    assert needle in error(await call(mcp, tool, {**args}))
    assert sandbox.requests == []
