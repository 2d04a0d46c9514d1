"""Claiming due deliveries: which worker sends which row, and for how long.

Claiming is a compare-and-set in one statement: `UPDATE deliveries SET status='sending',
claimed_by=me, lease_until=... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING
id`, repeating the due condition in the UPDATE so that a row another worker claimed in the
meantime is left alone (SQLite has one writer at a time and ignores the row lock). A claim
whose lease ran out (the worker died) is due again; one whose send was on the wire, a
lease later still.

A claim is not yet an attempt: just before a send goes on the wire the worker commits the
"sending" mark (`start`: the attempt counted, `attempt_started_at` set), so that a worker
that dies before the wire costs neither an attempt nor a duplicate, and a delivery claimed
again with the mark still set is known to have possibly reached its recipient already.
Every later change to a claimed row —
renewing the lease, handing it back, recording its outcome — holds only while the claim is
still this worker's (`HELD`): a worker whose lease expired cannot overwrite the work of
the worker that took the delivery over.

The statements run for every message are built once, on the table, with their values as
bound parameters: building and compiling an ORM statement per message cost more CPU than
the database spent running it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, or_, select, update

from hub import clock
from hub.db import Database
from hub.notify.channel import ChannelName, Envelope
from hub.notify.envelopes import load_envelopes
from hub.notify.groupwrite import GroupWriter
from hub.notify.models import Delivery, DeliveryStatus


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery, ready to send."""

    delivery_id: int
    channel: ChannelName
    envelope: Envelope | None  # None when the person has no address on the channel any more
    attempts: int  # attempts made so far, this one included once `started`
    lease_until: dt.datetime
    # The last attempt went on the wire and its outcome was never recorded: this one may
    # deliver a second copy.
    resend: bool = False


DELIVERIES = cast(Table, Delivery.__table__)
_row = DELIVERIES.c

# The rows among `ids` that `worker` still holds a claim on (parameters: `held_by`).
HELD = and_(_row.id.in_(bindparam("ids", expanding=True)),
            _row.claimed_by == bindparam("worker"),
            _row.status == DeliveryStatus.SENDING)


def held_by(worker_id: str, delivery_ids: Sequence[int]) -> dict[str, Any]:
    """The parameters of `HELD`."""
    return {"ids": list(delivery_ids), "worker": worker_id}


# The "sending" mark of claims about to go on the wire (see `Claims.start_all`).
_START = (
    update(DELIVERIES).where(HELD)
    .values(attempts=_row.attempts + 1,
            possible_duplicates=_row.possible_duplicates + case(
                (_row.attempt_started_at.is_not(None), 1), else_=0),
            attempt_started_at=bindparam("now", type_=_row.attempt_started_at.type))
    .returning(_row.id)
)
_RENEW = (
    update(DELIVERIES).where(HELD)
    .values(lease_until=bindparam("until", type_=_row.lease_until.type))
    .returning(_row.id)
)
_RELEASE = (
    update(DELIVERIES).where(HELD)
    .values(status=DeliveryStatus.PENDING, claimed_by=None, lease_until=None)
)


class Claims:
    """One worker's claims: taking a batch, renewing the lease, handing back the unsent."""

    def __init__(self, db: Database, worker_id: str, *, lease: float, batch_size: int,
                 public_url: str, parallel: int = 1) -> None:
        self.db = db
        self.worker_id = worker_id
        self.lease = dt.timedelta(seconds=lease)
        self.batch_size = batch_size
        self.public_url = public_url  # for the envelopes' links
        self._starts: GroupWriter[int, bool] = GroupWriter(self._start_batch,
                                                           parallel=parallel)

    async def claim(
        self, channels: Iterable[ChannelName], now: dt.datetime | None = None
    ) -> list[Claimed]:
        """Claim up to a batch of deliveries due on `channels`, with what each sends."""
        now = now or clock.now()
        due = or_(
            and_(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.RETRY]),
                 Delivery.due_at <= now),
            # A claim left on the wire waits one more lease: its worker may still be
            # recording "sent" after a database outage (outcomes retries that long).
            and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now,
                 or_(Delivery.attempt_started_at.is_(None),
                     Delivery.lease_until < now - self.lease)),
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
                    )
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
            if not ids:
                return []
            loaded = await load_envelopes(session, ids, public_url=self.public_url)
            return [Claimed(delivery.id, delivery.channel, envelope, delivery.attempts,
                            lease_until, resend=delivery.attempt_started_at is not None)
                    for delivery, envelope in loaded]

    async def start(self, delivery_id: int) -> bool:
        """`start_all` for one delivery, written together with the marks of the other
        sends starting at the same time."""
        return await self._starts.submit(delivery_id)

    async def _start_batch(self, delivery_ids: Sequence[int]) -> list[bool]:
        started = await self.start_all(delivery_ids)
        return [i in started for i in delivery_ids]

    async def start_all(self, delivery_ids: Sequence[int]) -> set[int]:
        """Commit the "sending" mark of claims about to go on the wire: the attempt counts
        from here, and a mark left over from an attempt whose outcome is unknown counts a
        possible duplicate. The ids still ours (a withdrawn or lost claim is not sent)."""
        params = held_by(self.worker_id, delivery_ids) | {"now": clock.now()}
        async with self.db.autocommit(DELIVERIES.name) as conn:  # one statement
            return set(await conn.scalars(_START, params))

    async def renew(self, delivery_ids: Sequence[int]) -> tuple[set[int], dt.datetime]:
        """Extend the lease of claims still ours; the ids kept and the new lease end."""
        until = clock.now() + self.lease
        async with self.db.transaction() as session:
            kept = set(await session.scalars(
                _RENEW, held_by(self.worker_id, delivery_ids) | {"until": until}))
        return kept, until

    async def release(self, delivery_ids: Sequence[int]) -> None:
        """Hand back claims that were never attempted (shutting down, a failed round): due
        again at once. A mark left by an earlier unknown attempt stays."""
        async with self.db.transaction() as session:
            await session.execute(_RELEASE, held_by(self.worker_id, delivery_ids))
