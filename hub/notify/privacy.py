"""Personal data held by the pipeline: a person's notifications and deliveries.

Erasure deletes the notifications a person received and those about them (a child's
grades told to parents), with their deliveries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.notify.models import Delivery, Notification


class NotificationData:
    name = "notifications"

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        notes = await session.scalars(
            select(Notification).where(Notification.person_id == person_id)
            .order_by(Notification.id)
        )
        deliveries = await session.scalars(
            select(Delivery).where(Delivery.person_id == person_id).order_by(Delivery.id)
        )
        return {
            "notifications": [
                {
                    "id": n.id, "kind": n.kind.value, "title": n.title, "body": n.body,
                    "url": n.url, "child_id": n.child_id, "created_at": n.created_at.isoformat(),
                    "read_at": n.read_at.isoformat() if n.read_at else None,
                }
                for n in notes
            ],
            "deliveries": [
                {
                    "id": d.id, "notification_id": d.notification_id, "channel": d.channel.value,
                    "status": d.status.value, "attempts": d.attempts,
                    "created_at": d.created_at.isoformat(),
                    "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                }
                for d in deliveries
            ],
        }

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        await session.execute(
            delete(Delivery).where(Delivery.person_id == person_id)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(Notification).where(
                or_(Notification.person_id == person_id, Notification.child_id == person_id)
            ).execution_options(synchronize_session=False)
        )


PRIVACY = NotificationData()
