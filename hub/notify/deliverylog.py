"""The delivery log administrators read: every delivery of the school, filtered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, DeliveryStatus, DigestEntry, Notification
from hub.school import Person

PAGE_SIZE = 100


@dataclass(frozen=True)
class LogFilter:
    status: DeliveryStatus | None = None
    channel: ChannelName | None = None
    kind: NotificationKind | None = None
    person: str | None = None  # the start of a last name, or a person id
    since: dt.datetime | None = None  # created at or after (UTC)
    until: dt.datetime | None = None  # created before (UTC)


@dataclass(frozen=True)
class LogRow:
    delivery: Delivery
    person_name: str
    title: str  # the notification's title, or "Дайджест (n)"


async def delivery_log(
    session: AsyncSession, school_id: int, filters: LogFilter, *, page: int = 1
) -> tuple[list[LogRow], int]:
    """A page of the log, newest first, and the number of matching deliveries."""
    query = _filtered(select(Delivery, Person), school_id, filters)
    total = await session.scalar(
        _filtered(select(func.count(Delivery.id)), school_id, filters)
    ) or 0
    rows = (await session.execute(
        query.order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .offset((max(1, page) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )).all()
    titles = await _titles(session, [d for d, _ in rows])
    return [LogRow(d, p.full_name, titles.get(d.id, "")) for d, p in rows], total


def _filtered(query: Select, school_id: int, f: LogFilter) -> Select:
    query = query.join(Person, Person.id == Delivery.person_id).where(
        Delivery.school_id == school_id
    )
    if f.status is not None:
        query = query.where(Delivery.status == f.status)
    if f.channel is not None:
        query = query.where(Delivery.channel == f.channel)
    if f.kind is not None:
        query = query.where(Delivery.kind == f.kind)
    if f.person:
        if f.person.isdigit():
            query = query.where(Delivery.person_id == int(f.person))
        else:
            query = query.where(Person.last_name.startswith(f.person, autoescape=True))
    if f.since is not None:
        query = query.where(Delivery.created_at >= f.since)
    if f.until is not None:
        query = query.where(Delivery.created_at < f.until)
    return query


async def _titles(session: AsyncSession, deliveries: Sequence[Delivery]) -> dict[int, str]:
    titles: dict[int, str] = {}
    instant = {d.notification_id: d.id for d in deliveries if d.notification_id is not None}
    if instant:
        for note_id, title in await session.execute(
            select(Notification.id, Notification.title).where(Notification.id.in_(instant))
        ):
            titles[instant[note_id]] = title
    digests = [d.id for d in deliveries if d.notification_id is None]
    if digests:
        for delivery_id, count in await session.execute(
            select(DigestEntry.delivery_id, func.count())
            .where(DigestEntry.delivery_id.in_(digests)).group_by(DigestEntry.delivery_id)
        ):
            titles[delivery_id] = f"Дайджест ({count})"
    return titles
