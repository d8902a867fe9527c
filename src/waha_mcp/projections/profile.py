"""Profile: this account's name, about text and picture."""

from __future__ import annotations

from typing import Any, NotRequired, cast

from typing_extensions import TypedDict


class Me(TypedDict):
    id: NotRequired[str]
    name: NotRequired[str]
    picture: str | None  # a URL (WhatsApp's CDN), or None: no picture


class MyProfile(TypedDict):
    me: Me


class ProfileUpdated(TypedDict):
    updated: bool
    name: NotRequired[str]
    about: NotRequired[str]
    picture: NotRequired[bool]  # True: a new one was set; False: removed


def my_profile(item: Any) -> MyProfile:
    """`MyProfile` {id, picture, name} → {me: {id, name, picture}}."""
    raw = item if isinstance(item, dict) else {}
    me: Me = {"picture": raw.get("picture") or None}
    if raw.get("id"):
        me["id"] = str(raw["id"])
    if raw.get("name"):
        me["name"] = str(raw["name"])
    return {"me": me}


def profile_updated(answer: Any, **changed: Any) -> ProfileUpdated:
    """WAHA's `Result` {success}; an empty answer is taken as done (WAHA raises on failure)."""
    success = answer.get("success") if isinstance(answer, dict) else None
    return cast(ProfileUpdated, {"updated": success is not False, **changed})
