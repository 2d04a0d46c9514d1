"""How the notifications of one cause fared: delivered, waiting, failed.

A teacher sees it for each grade they entered, an author for each announcement. A digest
delivery counts once for every notification it carries; the in-app list is not a delivery.
"""

from __future__ import annotations

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hub.notify.models import WAITING, Delivery, DeliveryStatus, DigestEntry, Notification


async def delivery_summary(
    session: AsyncSession, source_kind: str, source_id: int
) -> dict[str, int]:
    """{"delivered": n, "waiting": n, "failed": n, "notified": people told}."""
    return (await delivery_summaries(session, source_kind, [source_id]))[source_id]


async def delivery_summaries(
    session: AsyncSession, source_kind: str, source_ids: list[int]
) -> dict[int, dict[str, int]]:
    """The same for many sources of one kind at once (a page of grades)."""
    ids = sorted(set(source_ids))
    result = {sid: {"delivered": 0, "waiting": 0, "failed": 0, "notified": 0} for sid in ids}
    if not ids:
        return result
    of_source = (Notification.source_kind == source_kind, Notification.source_id.in_(ids))
    instant = (
        select(Notification.source_id.label("source_id"), Delivery.status.label("status"))
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(*of_source)
    )
    digested = (
        select(Notification.source_id.label("source_id"), Delivery.status.label("status"))
        .join(DigestEntry, DigestEntry.notification_id == Notification.id)
        .join(Delivery, Delivery.id == DigestEntry.delivery_id)
        .where(*of_source)
    )
    rows = union_all(instant, digested).subquery()
    for source_id, status, count in await session.execute(
        select(rows.c.source_id, rows.c.status, func.count())
        .group_by(rows.c.source_id, rows.c.status)
    ):
        status = DeliveryStatus(status)
        if status is DeliveryStatus.CANCELLED:  # withdrawn with its cause: nobody waits for it
            continue
        bucket = ("delivered" if status is DeliveryStatus.SENT
                  else "waiting" if status in WAITING else "failed")
        result[source_id][bucket] += count
    for source_id, people in await session.execute(
        select(Notification.source_id, func.count(func.distinct(Notification.person_id)))
        .where(*of_source).group_by(Notification.source_id)
    ):
        result[source_id]["notified"] = people
    return result
