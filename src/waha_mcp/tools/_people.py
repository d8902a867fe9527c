"""People in results: names for ids and phone numbers for `@lid` ids, the same way in every tool.

A tool that shows people declares `LIDS` (and `CONTACTS` when it names them) among its operations.
"""

from __future__ import annotations

from collections.abc import Iterable

from waha_mcp import projections as view
from waha_mcp.client import WAHAError
from waha_mcp.people import LIDS_OPERATION, phones_of
from waha_mcp.tools.pipeline import Invocation

LIDS = LIDS_OPERATION
CONTACTS = "ContactsController_getAll"


async def phones(w: Invocation, ids: Iterable[str | None]) -> dict[str, str]:
    """LID → phone id for the LIDs among `ids` this session knows: cached per session, one lookup per
    unknown LID; a lookup that fails leaves that LID as it is and never fails the tool."""
    return await phones_of(w, ids)


async def names(w: Invocation, ids: Iterable[str | None]) -> dict[str, str]:
    """id → how to show that person: the contact's name, else `+<phone>` for a LID whose number is known.

    Contacts are fetched once per call, and only when there is someone to name."""
    wanted = [i for i in dict.fromkeys(ids) if i]
    if not wanted:
        return {}
    pns = await phones(w, wanted)
    try:
        known = view.contact_names(await w.call(CONTACTS))
    except WAHAError:
        known = {}  # names are a nicety: ids still identify people
    out = {i: known[i] for i in wanted if i in known}
    for lid, pn in pns.items():
        out[lid] = known.get(lid) or known.get(pn) or "+" + pn.split("@")[0]
    return out
