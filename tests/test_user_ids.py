"""WhatsApp's user JID (`<digits>[:device]@s.whatsapp.net`, as NOWEB and GOWS write it) becomes WAHA's
`<digits>@c.us` by one function (ids.c_us), wherever an id is read: arguments, a LID's phone, group results."""

from __future__ import annotations

import pytest

from waha_mcp.ids import c_us, chat_id
from waha_mcp.people import phone_id
from waha_mcp.projections.groups import participants_changed

JID = "4915112345678:12@s.whatsapp.net"
USER = "4915112345678@c.us"


@pytest.mark.parametrize(
    ("given", "expected"),
    [(JID, USER), ("4915112345678@s.whatsapp.net", USER), (USER, USER), ("123@g.us", "123@g.us"), ("9@lid", "9@lid")],
)
def test_c_us(given: str, expected: str) -> None:
    assert c_us(given) == expected


def test_every_reader_of_an_id_agrees() -> None:
    assert chat_id(JID) == USER
    assert phone_id(JID) == USER
    changed = participants_changed("1@g.us", "add", [USER], [{"status": "403", "jid": JID}])
    # Baileys' jid with a device part named the member refused: it is the one asked for, not done.
    assert changed["refused"] == [{"id": USER, "status": "403"}]
    assert changed["done"] == []


def test_a_phone_is_never_read_from_another_kind_of_id() -> None:
    assert phone_id("4915112345678@lid") is None
    assert phone_id("120363012345678901@g.us") is None
    assert phone_id("+4915112345678") == USER
