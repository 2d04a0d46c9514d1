"""Who may follow the forum's live notes (hub.web.live asks before it streams them).

A note carries only ids, but that a topic of another class just got a reply is itself not
for everyone: a page may follow the board of its own school and a topic it could open.
"""

from __future__ import annotations

from forum.topics import get_topic
from hub.auth.access import AccessDenied, Action, Principal, can
from hub.db import Database
from hub.errors import UserError

MAX_ID_DIGITS = 18  # within a 64-bit integer


async def may_follow_board(db: Database, principal: Principal, ident: str) -> bool:
    return ident == str(principal.school_id) and can(principal, Action.READ_BOARD)


async def may_follow_topic(db: Database, principal: Principal, ident: str) -> bool:
    if not ident.isdigit() or len(ident) > MAX_ID_DIGITS:
        return False
    try:
        async with db.session() as session:
            await get_topic(session, principal, int(ident))
    except (UserError, AccessDenied):
        return False
    return True
