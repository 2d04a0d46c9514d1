"""Who may follow the moderation queue's live notes: its school's moderators (that the
queue moved, and when, is not for the authors whose posts wait in it)."""

from __future__ import annotations

from hub.auth.access import Action, Principal, can
from hub.db import Database


async def may_follow_queue(db: Database, principal: Principal, ident: str) -> bool:
    return ident == str(principal.school_id) and can(principal, Action.MODERATE)
