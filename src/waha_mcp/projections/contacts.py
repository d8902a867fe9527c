"""Contacts and LIDs: who a person is (name, number, address book, blocked), and LID ⇄ phone pairs."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict

from waha_mcp.people import phone_id
from waha_mcp.projections.common import drop_empty, serialized_id


class Contact(TypedDict):
    """A person: `id` is a chat id (`@c.us`, or `@lid` when WhatsApp hides the number)."""

    id: str
    name: NotRequired[str]  # address-book name
    pushName: NotRequired[str]  # the name they gave themselves
    phone: NotRequired[str]  # +<digits>, also for a LID whose number the session knows
    saved: NotRequired[bool]  # false: not in the address book
    blocked: NotRequired[bool]
    business: NotRequired[bool]


class ContactList(TypedDict):
    contacts: list[Contact]
    nextOffset: int | None


class ContactDetail(TypedDict):
    contactId: str
    known: NotRequired[bool]  # false: WAHA knows nothing about this id
    name: NotRequired[str]
    pushName: NotRequired[str]
    phone: NotRequired[str]
    saved: NotRequired[bool]
    blocked: NotRequired[bool]
    business: NotRequired[bool]


class NumberCheck(TypedDict):
    phone: str
    onWhatsApp: bool
    chatId: NotRequired[str]  # the id to message them at
    pn: NotRequired[str]  # their phone id, when chatId is a @lid (WAHA 2026.8.1+)


class ContactAbout(TypedDict):
    contactId: str
    about: str | None  # None: hidden by their privacy settings


class ContactPicture(TypedDict):
    contactId: str
    picture: NotRequired[None]  # none, or hidden by their privacy settings
    url: NotRequired[str]  # on another host: not fetched
    bytes: NotRequired[int]  # shown as an image


class ContactBlocked(TypedDict):
    contactId: str
    blocked: bool


class ContactSaved(TypedDict):
    contactId: str
    name: str
    saved: bool


class Lid(TypedDict):
    lid: str
    chatId: NotRequired[str]  # the phone id, when known


class LidList(TypedDict):
    lids: list[Lid]
    total: NotRequired[int]  # every LID the session knows
    nextOffset: int | None


class LidMatch(TypedDict):
    lid: str | None  # None: no LID known for this number
    chatId: str | None  # the phone id; None: the number behind this LID is unknown


def _phone(chat_id: str | None) -> str | None:
    if chat_id and chat_id.endswith("@c.us"):
        digits = chat_id.split("@")[0]
        return f"+{digits}" if digits.isdigit() else None
    return None


def _number(contact_id: str, number: Any) -> str | None:
    """WAHA's `number`, unless the id is a LID: then it is the LID's digits, not a phone number."""
    if contact_id.endswith("@lid") or not str(number or "").isdigit():
        return None
    return f"+{number}"


def _person(raw: dict[str, Any], phones: dict[str, str]) -> dict[str, Any]:
    cid = serialized_id(raw.get("id")) or ""
    name = raw.get("name")
    push = raw.get("pushname") or raw.get("pushName") or raw.get("notify") or raw.get("verifiedName")
    out: dict[str, Any] = {
        "name": name,
        "pushName": push if push != name else None,
        "phone": _phone(phones.get(cid, cid)) or _number(cid, raw.get("number")),
    }
    if raw.get("isMyContact") is False:
        out["saved"] = False
    if raw.get("isBlocked"):
        out["blocked"] = True
    if raw.get("isBusiness"):
        out["business"] = True
    return out


def contact(raw: dict[str, Any], phones: dict[str, str] | None = None) -> Contact:
    return cast(Contact, drop_empty({"id": serialized_id(raw.get("id"))} | _person(raw, phones or {})))


def contact_list(items: Any, next_offset: int | None, phones: dict[str, str] | None = None) -> ContactList:
    people = [contact(c, phones) for c in items if isinstance(c, dict)] if isinstance(items, list) else []
    return {"contacts": [c for c in people if c.get("id")], "nextOffset": next_offset}


def contact_detail(contact_id: str, raw: Any, phones: dict[str, str] | None = None) -> ContactDetail:
    """WAHA's contact; an empty answer (NOWEB, an id it never saw) is `known: false`, not an invented person."""
    if not isinstance(raw, dict) or not raw:
        out: dict[str, Any] = {"contactId": contact_id, "known": False, "phone": _phone((phones or {}).get(contact_id))}
        return cast(ContactDetail, drop_empty(out))
    return cast(ContactDetail, {"contactId": contact_id} | drop_empty(_person(raw, phones or {})))


def number_check(phone: str, answer: Any) -> NumberCheck:
    """WAHA 2026.8.1+ adds `pn`, the phone id behind `chatId`: shown only when it says more (a `@lid` chatId)."""
    exists = bool(answer.get("numberExists")) if isinstance(answer, dict) else False
    chat_id = serialized_id(answer.get("chatId")) if exists and isinstance(answer, dict) else None
    pn = phone_id(answer.get("pn")) if exists and isinstance(answer, dict) else None
    out: dict[str, Any] = {"phone": phone, "onWhatsApp": exists}
    return cast(NumberCheck, out | drop_empty({"chatId": chat_id, "pn": pn if pn != chat_id else None}))


def contact_about(contact_id: str, answer: Any) -> ContactAbout:
    about = answer.get("about") if isinstance(answer, dict) else answer if isinstance(answer, str) else None
    return {"contactId": contact_id, "about": about if isinstance(about, str) and about else None}


def contact_picture(contact_id: str, *, url: str | None = None, image: bytes | None = None) -> ContactPicture:
    if image is not None:
        return {"contactId": contact_id, "bytes": len(image)}
    if url:
        return {"contactId": contact_id, "url": url}
    return {"contactId": contact_id, "picture": None}


def contact_blocked(contact_id: str, blocked: bool) -> ContactBlocked:
    return {"contactId": contact_id, "blocked": blocked}


def contact_saved(contact_id: str, name: str) -> ContactSaved:
    return {"contactId": contact_id, "name": name, "saved": True}


def lid_list(items: Any, next_offset: int | None, total: Any = None) -> LidList:
    lids: list[Lid] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("lid"), str):
            lids.append(cast(Lid, drop_empty({"lid": item["lid"], "chatId": phone_id(item.get("pn"))})))
    out: dict[str, Any] = {"lids": lids}
    if isinstance(total, int | float) and not isinstance(total, bool):
        out["total"] = int(total)
    return cast(LidList, out | {"nextOffset": next_offset})


def lid_match(lid: str | None, chat_id: str | None) -> LidMatch:
    return {"lid": lid, "chatId": chat_id}
