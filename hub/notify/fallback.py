"""Falling back to e-mail: when a channel fails for good and asks for it (the person
blocked the bot), the same notification(s) go by e-mail, unless e-mail already carries them.

It runs inside the transaction that records the failure, so the failure and its
replacement are committed together or not at all.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.notify.addresses import addresses_of
from hub.notify.channel import ChannelName
from hub.notify.models import Delivery, DeliveryStatus, DigestEntry, Notification
from hub.notify.outbox import add_to_digest, wake_after_commit


async def fallback_to_email(session: AsyncSession, delivery_id: int) -> None:
    """E-mail what delivery `delivery_id` carried: a new instant e-mail delivery for its
    notification, or its digest's notifications in an e-mail digest due now."""
    delivery = await session.get_one(Delivery, delivery_id)
    addresses = await addresses_of(session, [delivery.person_id])
    if ChannelName.EMAIL not in addresses[delivery.person_id]:
        return
    now = clock.now()
    if delivery.notification_id is not None:
        note = await session.get_one(Notification, delivery.notification_id)
        if note.withdrawn_at is not None:
            return
        exists = await session.scalar(
            select(Delivery.id).where(Delivery.notification_id == delivery.notification_id,
                                      Delivery.channel == ChannelName.EMAIL)
        )
        if exists is None:
            session.add(Delivery(
                school_id=delivery.school_id, person_id=delivery.person_id,
                notification_id=delivery.notification_id, channel=ChannelName.EMAIL,
                kind=delivery.kind, status=DeliveryStatus.PENDING, due_at=now,
            ))
    else:
        notes = list(await session.scalars(
            select(Notification).join(DigestEntry,
                                      DigestEntry.notification_id == Notification.id)
            .where(DigestEntry.delivery_id == delivery.id, Notification.withdrawn_at.is_(None))
        ))
        for note in notes:
            await add_to_digest(session, note, ChannelName.EMAIL, now, now=now,
                                key=f"fallback:{delivery.id}")
    await session.flush()
    wake_after_commit(session)
