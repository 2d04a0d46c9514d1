"""Claiming due deliveries: which worker sends which row, and for how long.

Claiming is a compare-and-set in one statement: `UPDATE deliveries SET status='sending',
claimed_by=me, lease_until=... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING
id`, repeating the due condition in the UPDATE so that a row another worker claimed in the
meantime is left alone (SQLite has one writer at a time and ignores the row lock). A claim
whose lease ran out (the worker died) is due again. Every later change to a claimed row —
renewing the lease, handing it back, recording its outcome — holds only while the claim is
still this worker's (`held_by`): a worker whose lease expired cannot overwrite the work of
the worker that took the delivery over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select, update

from hub import clock
from hub.db import Database
from hub.notify.channel import ChannelName, Envelope
from hub.notify.envelopes import load_envelopes
from hub.notify.models import Delivery, DeliveryStatus


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery, ready to send."""

    delivery_id: int
    channel: ChannelName
    envelope: Envelope | None  # None when the person has no address on the channel any more
    attempts: int
    lease_until: dt.datetime


def held_by(worker_id: str, delivery_ids: Sequence[int]) -> ColumnElement[bool]:
    """The rows among `delivery_ids` that `worker_id` still holds a claim on."""
    return and_(Delivery.id.in_(delivery_ids), Delivery.claimed_by == worker_id,
                Delivery.status == DeliveryStatus.SENDING)


class Claims:
    """One worker's claims: taking a batch, renewing the lease, handing back the unsent."""

    def __init__(self, db: Database, worker_id: str, *, lease: float, batch_size: int,
                 public_url: str) -> None:
        self.db = db
        self.worker_id = worker_id
        self.lease = dt.timedelta(seconds=lease)
        self.batch_size = batch_size
        self.public_url = public_url  # for the envelopes' links

    async def claim(
        self, channels: Iterable[ChannelName], now: dt.datetime | None = None
    ) -> list[Claimed]:
        """Claim up to a batch of deliveries due on `channels`, with what each sends."""
        now = now or clock.now()
        due = or_(
            and_(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.RETRY]),
                 Delivery.due_at <= now),
            and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now),
        )
        candidates = (
            select(Delivery.id)
            .where(due, Delivery.channel.in_(list(channels)))
            .order_by(Delivery.due_at, Delivery.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        lease_until = now + self.lease
        async with self.db.transaction() as session:
            ids = list(
                await session.scalars(
                    update(Delivery)
                    .where(Delivery.id.in_(candidates.scalar_subquery()), due)
                    .values(
                        status=DeliveryStatus.SENDING,
                        claimed_by=self.worker_id,
                        lease_until=lease_until,
                        attempts=Delivery.attempts + 1,
                    )
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
            if not ids:
                return []
            loaded = await load_envelopes(session, ids, public_url=self.public_url)
            return [Claimed(delivery.id, delivery.channel, envelope, delivery.attempts,
                            lease_until) for delivery, envelope in loaded]

    async def renew(self, delivery_ids: Sequence[int]) -> tuple[set[int], dt.datetime]:
        """Extend the lease of claims still ours; the ids kept and the new lease end."""
        until = clock.now() + self.lease
        async with self.db.transaction() as session:
            kept = set(await session.scalars(
                update(Delivery)
                .where(held_by(self.worker_id, delivery_ids))
                .values(lease_until=until)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            ))
        return kept, until

    async def release(self, delivery_ids: Sequence[int]) -> None:
        """Hand back claims that were never sent (shutting down): due again at once, and
        the attempt does not count."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Delivery)
                .where(held_by(self.worker_id, delivery_ids))
                .values(status=DeliveryStatus.PENDING, claimed_by=None, lease_until=None,
                        attempts=Delivery.attempts - 1)
                .execution_options(synchronize_session=False)
            )
