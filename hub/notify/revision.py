"""Changing what the outbox holds about a cause after the fact: an announcement edited
before its deliveries went out, or withdrawn (deleted, unpublished).

Deliveries read their notification's text when they are claimed, so an edit made before
then is what people receive. A withdrawal cancels every delivery still waiting (pending,
waiting to be retried, or claimed but not yet on the wire: the worker's "sending" mark is
conditional on the claim, so a cancelled claim is never sent), takes the notifications out
of digests still waiting, and hides the in-app notices: nothing links people to a page
that is gone. What was already sent stays in the delivery log.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.db import changed_rows
from hub.notify.models import Delivery, DeliveryStatus, DigestEntry, Notification

_WAITING = or_(
    Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.RETRY]),
    and_(Delivery.status == DeliveryStatus.SENDING, Delivery.attempt_started_at.is_(None)),
)


async def revise(session: AsyncSession, source_kind: str, source_id: int, *,
                 title: str, body: str) -> int:
    """New text for the notifications of a cause; how many were changed."""
    return await changed_rows(session,
        update(Notification)
        .where(Notification.source_kind == source_kind, Notification.source_id == source_id,
               Notification.withdrawn_at.is_(None))
        .values(title=title[:300], body=body)
        .execution_options(synchronize_session=False)
    )


async def withdraw(session: AsyncSession, source_kind: str, source_id: int) -> int:
    """Cancel the waiting deliveries of a cause's notifications and hide them; the number
    of deliveries cancelled."""
    notes = select(Notification.id).where(Notification.source_kind == source_kind,
                                          Notification.source_id == source_id)
    ids = list(await session.scalars(notes))
    if not ids:
        return 0
    cancelled = await changed_rows(session,
        update(Delivery)
        .where(Delivery.notification_id.in_(ids), _WAITING)
        .values(status=DeliveryStatus.CANCELLED, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    count = cancelled
    digests = list(await session.scalars(
        select(DigestEntry.delivery_id).join(Delivery, Delivery.id == DigestEntry.delivery_id)
        .where(DigestEntry.notification_id.in_(ids), _WAITING).distinct()
    ))
    if digests:
        await session.execute(delete(DigestEntry).where(
            DigestEntry.notification_id.in_(ids), DigestEntry.delivery_id.in_(digests)))
        emptied = await changed_rows(session,
            update(Delivery)
            .where(Delivery.id.in_(digests), _WAITING,
                   ~exists().where(DigestEntry.delivery_id == Delivery.id))
            .values(status=DeliveryStatus.CANCELLED, claimed_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        count += emptied
    await session.execute(
        update(Notification).where(Notification.id.in_(ids), Notification.withdrawn_at.is_(None))
        .values(withdrawn_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return count
