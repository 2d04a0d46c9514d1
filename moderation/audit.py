"""The moderation audit log: every decision, who, when, what, the text before and after.

Append-only: this module only inserts and reads, and the database refuses updates and
deletes of the table (see moderation.models)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from moderation.models import AuditEntry

ACTION_TITLES = {
    "approve": "одобрено",
    "edit_approve": "исправлено и одобрено",
    "reject": "отклонено",
    "undo": "решение отменено",
    "warn": "предупреждение",
    "mute": "запрет писать",
    "unmute": "запрет снят",
    "watched_add": "добавлено слово",
    "watched_remove": "удалено слово",
}
PAGE_SIZE = 100


async def record(
    session: AsyncSession,
    *,
    school_id: int,
    actor_id: int | None,
    action: str,
    item_id: int | None = None,
    kind: str | None = None,
    target_id: int | None = None,
    subject_id: int | None = None,
    text_before: str | None = None,
    text_after: str | None = None,
    note: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        school_id=school_id, actor_id=actor_id, action=action, item_id=item_id, kind=kind,
        target_id=target_id, subject_id=subject_id, text_before=text_before,
        text_after=text_after, note=note,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    session: AsyncSession,
    school_id: int,
    *,
    actor_id: int | None = None,
    subject_id: int | None = None,
    action: str | None = None,
    item_id: int | None = None,
    since: dt.datetime | None = None,
    limit: int = PAGE_SIZE,
) -> Sequence[AuditEntry]:
    """Newest first, filtered."""
    query = select(AuditEntry).where(AuditEntry.school_id == school_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if item_id is not None:
        query = query.where(AuditEntry.item_id == item_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    rows = await session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    )
    return rows.all()
