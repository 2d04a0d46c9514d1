"""Nav badges (the unread count, the moderation queue) remembered between requests.

A badge is a count that every signed-in page shows and few requests change. A NavItem
names the tables its count reads (`badge_tables`); the value is kept per person with the
write stamps of those tables (hub.stamps) and counted again only when one of them moved,
so a new notification or a decided post shows on the next page, yet a page that changes
nothing costs no count.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from hub.auth.access import Principal
from hub.http.keys import DB, NavItem
from hub.stamps import Stamp

MAX_AGE = 60.0  # seconds: the bound for writes no stamp saw (another machine)
MAX_ENTRIES = 20_000

BADGES = web.AppKey("badges", dict)


async def badge_value(request: web.Request, item: NavItem, principal: Principal) -> Any:
    """The item's badge for this person: remembered, or counted now."""
    assert item.badge is not None
    if not item.badge_tables:
        return await item.badge(request)
    cache: dict[tuple[str, int, int | None], tuple[Stamp, float, Any]] = request.app[BADGES]
    stamp = request.app[DB].stamps.current(item.badge_tables)
    key = (item.path, principal.school_id, principal.person_id)
    found = cache.get(key)
    if found is not None and found[0] == stamp and time.monotonic() - found[1] < MAX_AGE:
        return found[2]
    value = await item.badge(request)
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = (stamp, time.monotonic(), value)
    return value


def setup_badges(app: web.Application) -> None:
    app[BADGES] = {}
