"""An administrator's retry: a failed or dead delivery goes again, from the first attempt.

The administrator sees the delivery log (hub.notify.deliverylog) and asks for a delivery
that gave up to be sent once more, for instance after the school's mail relay was fixed.
The row becomes pending and due now, and the workers are woken when the request commits.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.db import changed_rows
from hub.notify.models import FAILED, Delivery, DeliveryStatus
from hub.notify.outbox import wake_after_commit


async def retry_delivery(session: AsyncSession, school_id: int, delivery_id: int) -> bool:
    """Send a dead or failed delivery of the school again; False when there is none."""
    retried = await changed_rows(session,
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.school_id == school_id,
               Delivery.status.in_(FAILED))
        .values(status=DeliveryStatus.PENDING, attempts=0, due_at=clock.now(), last_error=None,
                claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    if retried != 1:
        return False
    wake_after_commit(session)
    return True
