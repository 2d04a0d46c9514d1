"""The delivery worker: claim due deliveries, send them through their channel, record the
outcome on each row at once.

Claiming is a compare-and-set in one statement: `UPDATE deliveries SET status='sending',
claimed_by=me, lease_until=... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING
id` (SQLite has one writer at a time and ignores the row lock). A claim whose lease ran out
(the worker died) is due again. The outcome is recorded with a compare-and-set on
(id, claimed_by, status='sending'), so a worker whose lease expired cannot overwrite the
result of the worker that took the delivery over.

The only window for a duplicate message is between the provider accepting it and the
"sent" row being committed: each outcome is committed on its own, right after its send.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import secrets
import socket
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import Counter
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.broker import Broker, get_broker
from hub.config import Settings
from hub.db import Database
from hub.notify import registry
from hub.notify.addresses import addresses_of
from hub.notify.channel import (
    Channel,
    ChannelName,
    Envelope,
    Item,
    PermanentFailure,
    TemporaryFailure,
)
from hub.notify.models import Delivery, DeliveryStatus, DigestEntry, Notification
from hub.notify.outbox import WAKE_CHANNEL, add_to_digest, wake_after_commit
from hub.school import Person

log = logging.getLogger(__name__)

OUTCOMES = Counter("hub_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"])


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 100
    concurrency: int = 4  # sends in flight at once
    lease: float = 120.0  # seconds a claim is held before another worker may take it
    send_timeout: float = 60.0  # must stay well under the lease
    max_attempts: int = 8  # then the delivery is dead
    poll_interval: float = 3.0  # a lost wake-up delays by at most this much
    backoff_base: float = 30.0
    backoff_cap: float = 6 * 3600.0


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"


def backoff(attempts: int, config: WorkerConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    delay = min(config.backoff_cap, config.backoff_base * 2 ** max(0, attempts - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery, ready to send."""

    delivery_id: int
    channel: ChannelName
    envelope: Envelope | None  # None when the person has no address on the channel any more
    attempts: int
    lease_until: dt.datetime


class Worker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        channels: dict[ChannelName, Channel],
        *,
        worker_id: str | None = None,
        config: WorkerConfig | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        # The broker its wake-ups come through: the process's, unless the host app has its own.
        self.broker = broker
        self.channels = channels
        self.id = worker_id or new_worker_id()
        self.config = config or WorkerConfig()

    # -- the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set: finish the sends in flight, release the rest."""
        woken = asyncio.Event()
        listener = asyncio.create_task(self._listen(woken))
        log.info("worker %s started, channels: %s", self.id, ",".join(self.channels) or "-")
        try:
            while not stop.is_set():
                woken.clear()
                try:
                    done = await self.run_once(stop)
                except Exception:  # the database may be restarting: try again shortly
                    log.exception("worker %s: a round failed", self.id)
                    done = 0
                if done >= self.config.batch_size:
                    continue
                await _first(stop, woken, seconds=self.config.poll_interval)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            log.info("worker %s stopped", self.id)

    async def _listen(self, woken: asyncio.Event) -> None:
        """Wake-ups from the broker; on a broker outage, poll and subscribe again."""
        while True:
            try:
                async with (self.broker or get_broker()).subscribe(WAKE_CHANNEL) as messages:
                    woken.set()  # something may have come in while we were not listening
                    async for _ in messages:
                        woken.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("worker %s: wake-ups unavailable (%s), polling",
                            self.id, type(exc).__name__)
                woken.set()
                await asyncio.sleep(1.0)

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch, send it, record every outcome; the number of deliveries
        claimed."""
        if not self.channels:
            return 0
        claimed = await self.claim()
        if not claimed:
            return 0
        pending = deque(claimed)
        lease_until = min(item.lease_until for item in claimed)
        lock = asyncio.Lock()
        # Renew the claims still waiting in this batch before the lease gets too short to
        # finish one more send: otherwise another worker would take them over and both
        # would send.
        margin = dt.timedelta(seconds=self.config.send_timeout + self.config.lease * 0.1)

        async def next_item() -> Claimed | None:
            nonlocal lease_until
            async with lock:
                if not pending or (stop is not None and stop.is_set()):
                    return None
                if clock.now() + margin >= lease_until:
                    kept, lease_until = await self.renew([c.delivery_id for c in pending])
                    for lost in [c for c in pending if c.delivery_id not in kept]:
                        pending.remove(lost)
                        log.warning("delivery %s: claim lost before sending", lost.delivery_id)
                return pending.popleft() if pending else None

        async def sender() -> None:
            while (item := await next_item()) is not None:
                await self._deliver(item)

        await asyncio.gather(*(sender() for _ in range(max(1, self.config.concurrency))))
        if pending:
            await self.release([item.delivery_id for item in pending])
        return len(claimed)

    async def renew(self, delivery_ids: Sequence[int]) -> tuple[set[int], dt.datetime]:
        """Extend the lease of claims still ours; the ids kept and the new lease end."""
        until = clock.now() + dt.timedelta(seconds=self.config.lease)
        async with self.db.transaction() as session:
            kept = set(await session.scalars(
                update(Delivery)
                .where(Delivery.id.in_(delivery_ids), Delivery.claimed_by == self.id,
                       Delivery.status == DeliveryStatus.SENDING)
                .values(lease_until=until)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            ))
        return kept, until

    # -- claiming

    async def claim(self, now: dt.datetime | None = None) -> list[Claimed]:
        now = now or clock.now()
        due = or_(
            and_(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.RETRY]),
                 Delivery.due_at <= now),
            and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now),
        )
        candidates = (
            select(Delivery.id)
            .where(due, Delivery.channel.in_(list(self.channels)))
            .order_by(Delivery.due_at, Delivery.id)
            .limit(self.config.batch_size)
            .with_for_update(skip_locked=True)
        )
        async with self.db.transaction() as session:
            ids = list(
                await session.scalars(
                    update(Delivery)
                    .where(Delivery.id.in_(candidates.scalar_subquery()), due)
                    .values(
                        status=DeliveryStatus.SENDING,
                        claimed_by=self.id,
                        lease_until=now + dt.timedelta(seconds=self.config.lease),
                        attempts=Delivery.attempts + 1,
                    )
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
            if not ids:
                return []
            return await self._envelopes(
                session, ids, now + dt.timedelta(seconds=self.config.lease)
            )

    async def _envelopes(
        self, session: AsyncSession, ids: Sequence[int], lease_until: dt.datetime
    ) -> list[Claimed]:
        deliveries = list(
            await session.scalars(
                select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.due_at,
                                                                      Delivery.id)
            )
        )
        instant_ids = [d.notification_id for d in deliveries if d.notification_id is not None]
        digest_ids = [d.id for d in deliveries if d.notification_id is None]
        notes: dict[int, Notification] = {
            n.id: n for n in await session.scalars(
                select(Notification).where(Notification.id.in_(instant_ids))
            )
        } if instant_ids else {}
        gathered: dict[int, list[Notification]] = {d: [] for d in digest_ids}
        if digest_ids:
            for delivery_id, note in await session.execute(
                select(DigestEntry.delivery_id, Notification)
                .join(Notification, Notification.id == DigestEntry.notification_id)
                .where(DigestEntry.delivery_id.in_(digest_ids))
                .order_by(Notification.child_id, Notification.created_at, Notification.id)
            ):
                gathered[delivery_id].append(note)
        all_notes = list(notes.values()) + [n for ns in gathered.values() for n in ns]
        people = {d.person_id for d in deliveries} | {
            n.child_id for n in all_notes if n.child_id is not None
        }
        names = {
            pid: (full, short)
            for pid, full, short in (
                (p.id, p.full_name, p.short_name)
                for p in await session.scalars(select(Person).where(Person.id.in_(people)))
            )
        }
        addresses = await addresses_of(session, [d.person_id for d in deliveries])

        def item(note: Notification) -> Item:
            child = names.get(note.child_id) if note.child_id is not None else None
            child_name = child[1] if child and note.child_id != note.person_id else None
            return Item(
                kind=note.kind, title=note.title, body=note.body,
                url=self._absolute(note.url), created_at=note.created_at,
                child_name=child_name, urgent=note.urgent,
            )

        claimed: list[Claimed] = []
        for delivery in deliveries:
            address = addresses[delivery.person_id].get(delivery.channel)
            if delivery.notification_id is not None:
                note = notes.get(delivery.notification_id)
                items = (item(note),) if note is not None else ()
            else:
                items = tuple(item(n) for n in gathered[delivery.id])
            envelope = None
            if address and items:
                envelope = Envelope(
                    delivery_id=delivery.id,
                    person_id=delivery.person_id,
                    recipient_name=names.get(delivery.person_id, ("", ""))[0],
                    address=address,
                    items=items,
                    digest=delivery.notification_id is None,
                    unsubscribe_url=registry.unsubscribe_link(
                        self.settings, delivery.person_id, delivery.kind.value
                    ) if delivery.kind is not None else None,
                )
            claimed.append(Claimed(delivery.id, delivery.channel, envelope, delivery.attempts,
                                   lease_until))
        return claimed

    def _absolute(self, url: str | None) -> str | None:
        if url is None or url.startswith(("http://", "https://")):
            return url
        return self.settings.public_url + (url if url.startswith("/") else "/" + url)

    # -- sending and recording

    async def _deliver(self, claimed: Claimed) -> None:
        channel = self.channels[claimed.channel]
        if claimed.envelope is None:
            await self._record_failure(claimed, "нет адреса для этого канала", permanent=True)
            return
        try:
            provider_id = await asyncio.wait_for(
                channel.send(claimed.envelope), timeout=self.config.send_timeout
            )
        except PermanentFailure as exc:
            await self._record_failure(claimed, exc.reason, permanent=True,
                                       fallback=exc.fallback_to_email)
        except TemporaryFailure as exc:
            await self._record_failure(claimed, exc.reason, retry_after=exc.retry_after)
        except TimeoutError:
            await self._record_failure(claimed, "канал не ответил вовремя")
        except Exception as exc:  # a channel's bug must not stop the queue
            log.exception("delivery %s: channel %s raised", claimed.delivery_id, claimed.channel)
            await self._record_failure(claimed, f"ошибка канала: {type(exc).__name__}")
        else:
            await self._record_sent(claimed, str(provider_id)[:300])

    async def _record_sent(self, claimed: Claimed, provider_id: str) -> None:
        now = clock.now()
        await self._compare_and_set(claimed, status=DeliveryStatus.SENT, provider_id=provider_id,
                                    sent_at=now, last_error=None)
        OUTCOMES.labels(claimed.channel.value, "sent").inc()
        log.debug("delivery %s sent", claimed.delivery_id)

    async def _record_failure(
        self,
        claimed: Claimed,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        fallback: bool = False,
    ) -> None:
        reason = reason[:500]
        if permanent:
            status, due = DeliveryStatus.FAILED, None
        elif claimed.attempts >= self.config.max_attempts:
            status, due = DeliveryStatus.DEAD, None
        else:
            delay = retry_after if retry_after is not None else backoff(
                claimed.attempts, self.config
            )
            status, due = DeliveryStatus.RETRY, clock.now() + dt.timedelta(seconds=delay)
        values: dict[str, object] = {"status": status, "last_error": reason}
        if due is not None:
            values["due_at"] = due
        recorded = await self._compare_and_set(
            claimed, fallback=fallback and claimed.channel is not ChannelName.EMAIL, **values
        )
        OUTCOMES.labels(claimed.channel.value, status.value).inc()
        if recorded:
            log.info("delivery %s: %s after %d attempt(s)", claimed.delivery_id, status.value,
                     claimed.attempts)

    async def _compare_and_set(
        self, claimed: Claimed, *, fallback: bool = False, **values: object
    ) -> bool:
        """Record an outcome only if the claim is still ours; a few tries if the database
        is briefly away (the message is already out: losing the record means a duplicate)."""
        for attempt in range(5):
            try:
                async with self.db.transaction() as session:
                    result = await session.execute(
                        update(Delivery)
                        .where(Delivery.id == claimed.delivery_id,
                               Delivery.claimed_by == self.id,
                               Delivery.status == DeliveryStatus.SENDING)
                        .values(claimed_by=None, lease_until=None, **values)
                        .execution_options(synchronize_session=False)
                    )
                    ours = result.rowcount == 1  # type: ignore[attr-defined]
                    if ours and fallback:
                        await fallback_to_email(session, claimed.delivery_id)
                if not ours:
                    log.warning("delivery %s: claim lost before recording", claimed.delivery_id)
                return ours
            except Exception:
                if attempt == 4:
                    raise
                log.warning("delivery %s: recording failed, retrying", claimed.delivery_id)
                await asyncio.sleep(0.2 * 2**attempt)
        return False

    async def release(self, delivery_ids: Sequence[int]) -> None:
        """Hand back claims that were never sent (shutting down)."""
        async with self.db.transaction() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(delivery_ids), Delivery.claimed_by == self.id,
                       Delivery.status == DeliveryStatus.SENDING)
                .values(status=DeliveryStatus.PENDING, claimed_by=None, lease_until=None,
                        attempts=Delivery.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    async def aclose(self) -> None:
        for channel in self.channels.values():
            try:
                await channel.aclose()
            except Exception:
                log.exception("closing channel %s failed", channel.name)


async def fallback_to_email(session: AsyncSession, delivery_id: int) -> None:
    """A channel failed for good and asked for e-mail instead (a blocked bot): the same
    notification(s) go by e-mail now, unless e-mail already carries them."""
    delivery = await session.get_one(Delivery, delivery_id)
    addresses = await addresses_of(session, [delivery.person_id])
    if ChannelName.EMAIL not in addresses[delivery.person_id]:
        return
    now = clock.now()
    if delivery.notification_id is not None:
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
            .where(DigestEntry.delivery_id == delivery.id)
        ))
        for note in notes:
            await add_to_digest(session, note, ChannelName.EMAIL, now, now=now,
                                key=f"fallback:{delivery.id}")
    await session.flush()
    wake_after_commit(session)


async def retry_delivery(session: AsyncSession, school_id: int, delivery_id: int) -> bool:
    """An administrator sends a dead or failed delivery again, from the first attempt."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.school_id == school_id,
               Delivery.status.in_([DeliveryStatus.DEAD, DeliveryStatus.FAILED]))
        .values(status=DeliveryStatus.PENDING, attempts=0, due_at=clock.now(), last_error=None,
                claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    wake_after_commit(session)
    return True


async def _first(stop: asyncio.Event, woken: asyncio.Event, *, seconds: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
