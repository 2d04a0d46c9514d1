"""The in-app list: every notification a person received, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.db import changed_rows
from hub.notify.models import Notification
from hub.school import Person

PAGE_SIZE = 50


async def notifications_of(
    session: AsyncSession, school_id: int, person_id: int, *, page: int = 1
) -> tuple[Sequence[tuple[Notification, str | None]], bool]:
    """A page of (notification, child's name) and whether there is a next page."""
    child = select(Person.first_name + " " + Person.last_name).where(
        Person.id == Notification.child_id, Notification.child_id != Notification.person_id
    ).scalar_subquery()
    rows = (await session.execute(
        select(Notification, child)
        .where(Notification.school_id == school_id, Notification.person_id == person_id,
               Notification.withdrawn_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((max(1, page) - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    )).all()
    return [(n, name) for n, name in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


async def unread_count(session: AsyncSession, school_id: int, person_id: int) -> int:
    return await session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.school_id == school_id, Notification.person_id == person_id,
            Notification.read_at.is_(None), Notification.withdrawn_at.is_(None),
        )
    ) or 0


async def mark_read(
    session: AsyncSession, school_id: int, person_id: int, notification_id: int | None = None
) -> int:
    """Mark one notification (or all, when None) of this person read; how many changed."""
    query = update(Notification).where(
        Notification.school_id == school_id, Notification.person_id == person_id,
        Notification.read_at.is_(None),
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return await changed_rows(session,
        query.values(read_at=clock.now()).execution_options(synchronize_session=False)
    )


async def mark_read_about(
    session: AsyncSession, school_id: int, person_id: int, source_kinds: Sequence[str],
    source_id: int,
) -> int:
    """Mark read this person's notifications about one thing (an announcement they opened
    or acknowledged), so the unread badge goes down."""
    return await changed_rows(session, update(Notification).where(
        Notification.school_id == school_id, Notification.person_id == person_id,
        Notification.read_at.is_(None), Notification.source_kind.in_(list(source_kinds)),
        Notification.source_id == source_id,
    ).values(read_at=clock.now()).execution_options(synchronize_session=False))
