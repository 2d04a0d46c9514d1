"""Putting notifications into the outbox, inside the caller's transaction.

`enqueue` stores one Notification per recipient and one Delivery per channel the
recipient's preferences choose, with its due time (quiet hours, digest slot). After the
transaction commits, the workers are woken through the broker.

A person whose only chosen channel can no longer reach them (their chat blocked the bot
before this notification was made) still gets a delivery on it: the worker finds no address,
records it as failed, and falls back to e-mail when the person has an address, so the
notice is never silently dropped; it stays in the app either way, and the school sees it as
undelivered in the delivery summary and the delivery log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Insert,
    Select,
    Table,
    and_,
    delete,
    insert,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.broker import get_broker
from hub.events import after_commit
from hub.notify import schedule
from hub.notify.addresses import ContactAddress, reach_of
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, DeliveryStatus, DigestEntry, Notification
from hub.notify.preferences import (
    DEFAULT_MODES,
    SENT_CHANNELS,
    ChannelPreference,
    DeliverySchedule,
    Mode,
    Preferences,
    explicit_modes,
    preferences_of,
)
from hub.school import Person

log = logging.getLogger(__name__)

WAKE_CHANNEL = "hub:notify:wake"
_WAKE_KEY = "hub.notify.wake_queued"


@dataclass(frozen=True)
class Message:
    """What to tell; the same for every recipient of one cause."""

    kind: NotificationKind
    title: str
    body: str
    url: str | None
    source_kind: str
    source_id: int
    urgent: bool = False


Recipients = Sequence[tuple[int, int | None]]  # (person id, child id or None)


async def enqueue(
    session: AsyncSession,
    school_id: int,
    recipients: Recipients,
    message: Message,
    *,
    now: dt.datetime | None = None,
) -> list[Notification]:
    """Notify each (person, child) pair. A person who is the child themselves (a student
    told about their own grade) gets only the channels they chose explicitly."""
    return await enqueue_many(session, school_id, [(recipients, message)], now=now)


async def enqueue_many(
    session: AsyncSession,
    school_id: int,
    batch: Sequence[tuple[Recipients, Message]],
    *,
    now: dt.datetime | None = None,
) -> list[Notification]:
    """`enqueue` for many messages at once, in a handful of queries (a batch of grades)."""
    batch = [(recipients, message) for recipients, message in batch if recipients]
    if not batch:
        return []
    now = now or clock.now()
    person_ids = sorted({person for recipients, _ in batch for person, _ in recipients})
    prefs = await preferences_of(session, person_ids)
    reach = await reach_of(session, person_ids)
    addresses, disabled = reach.live, reach.disabled
    own = sorted({p for recipients, _ in batch for p, child in recipients if p == child})
    explicit = await explicit_modes(session, own) if own else {}

    notifications = [
        (Notification(
            school_id=school_id, person_id=person, kind=message.kind, title=message.title[:300],
            body=message.body, url=message.url, child_id=child, source_kind=message.source_kind,
            source_id=message.source_id, urgent=message.urgent, created_at=now,
        ), message)
        for recipients, message in batch
        for person, child in recipients
    ]
    session.add_all([n for n, _ in notifications])
    await session.flush()

    digests: list[tuple[Notification, ChannelName, dt.datetime]] = []
    for notification, message in notifications:
        person = notification.person_id
        carried, unreachable = False, None
        for channel in SENT_CHANNELS:
            if person == notification.child_id:
                mode = explicit[person].get((message.kind, channel), Mode.OFF)
            else:
                mode = prefs[person].mode(message.kind, channel)
            if channel not in addresses[person]:
                if mode is not Mode.OFF and channel in disabled[person]:
                    unreachable = unreachable or channel
                continue
            if message.urgent:
                # An urgent announcement reaches every channel at once, whatever the
                # person chose for announcements (the settings page says so).
                mode = Mode.INSTANT
            if mode is Mode.INSTANT:
                session.add(_instant(school_id, notification.id, person, channel, message,
                                     prefs[person], now))
            elif mode is Mode.DIGEST:
                digests.append((notification, channel, schedule.digest_slot(prefs[person], now)))
            carried = carried or mode is not Mode.OFF
        if not carried and unreachable is not None:
            session.add(_instant(school_id, notification.id, person, unreachable, message,
                                 prefs[person], now))
    await session.flush()
    for notification, channel, slot in digests:
        await add_to_digest(session, notification, channel, slot, now=now)
    wake_after_commit(session)
    return [n for n, _ in notifications]


async def enqueue_audience(
    session: AsyncSession,
    school_id: int,
    recipients: Select[int, int | None],
    message: Message,
    *,
    now: dt.datetime | None = None,
) -> int:
    """`enqueue` for an audience the database resolves (a SELECT of (person id, child
    id), hub.notify.recipients.in_classes_query): the notifications are written by one
    INSERT … SELECT, the people's preferences and addresses are read by the notifications'
    source, and the instant deliveries go in one bulk INSERT. A school-wide announcement
    to ten thousand parents sends no id list either way. Returns how many were told."""
    now = now or clock.now()
    audience = recipients.subquery()
    table = cast(Table, Notification.__table__)
    c = table.c
    constants = {
        "school_id": school_id, "kind": message.kind, "title": message.title[:300],
        "body": message.body, "url": message.url, "source_kind": message.source_kind,
        "source_id": message.source_id, "urgent": message.urgent, "created_at": now,
    }
    names = [*constants, "person_id", "child_id"]
    source = select(*(literal(value, c[name].type) for name, value in constants.items()),
                    audience.c.person_id, audience.c.child_id)
    told = (await session.execute(
        insert(table).from_select(names, source).returning(c.id, c.person_id, c.child_id)
    )).all()
    if not told:
        return 0
    by_source = and_(Notification.source_kind == message.source_kind,
                     Notification.source_id == message.source_id,
                     Notification.created_at == now)
    # Most people keep the defaults and their record's e-mail: their deliveries are one
    # INSERT … SELECT. The others (own preferences, quiet hours, a chat or an address of
    # their own, a student told of their own things) are decided here one by one.
    own_settings = union(select(ChannelPreference.person_id), select(DeliverySchedule.person_id),
                         select(ContactAddress.person_id))
    audience_ids = select(Notification.person_id).where(by_source)
    with_settings = own_settings.subquery().c[0]
    special = set(await session.scalars(
        select(with_settings).where(with_settings.in_(audience_ids))
    ))
    if DEFAULT_MODES.get((message.kind, ChannelName.EMAIL)) is Mode.INSTANT:
        await session.execute(_default_email_deliveries(school_id, message, now, by_source,
                                                        own_settings))
    else:
        special |= {person for _, person, _ in told}
    special |= {person for _, person, child in told if person == child}
    chosen = sorted(special)
    prefs = await preferences_of(session, chosen)
    reach = await reach_of(session, chosen)
    addresses, disabled = reach.live, reach.disabled
    own = sorted({person for _, person, child in told if person == child})
    explicit = await explicit_modes(session, own) if own else {}
    instant: list[Delivery] = []
    digests: list[tuple[Notification, ChannelName, dt.datetime]] = []
    for notification_id, person, child in told:
        if person not in special:
            continue
        carried, unreachable = False, None
        for channel in SENT_CHANNELS:
            if person == child:
                mode = explicit[person].get((message.kind, channel), Mode.OFF)
            else:
                mode = prefs[person].mode(message.kind, channel)
            if channel not in addresses[person]:
                if mode is not Mode.OFF and channel in disabled[person]:
                    unreachable = unreachable or channel
                continue
            if mode is Mode.INSTANT:
                instant.append(_instant(school_id, notification_id, person, channel, message,
                                        prefs[person], now))
            elif mode is Mode.DIGEST:
                digests.append((
                    Notification(id=notification_id, school_id=school_id, person_id=person),
                    channel, schedule.digest_slot(prefs[person], now),
                ))
            carried = carried or mode is not Mode.OFF
        if not carried and unreachable is not None:
            instant.append(_instant(school_id, notification_id, person, unreachable, message,
                                    prefs[person], now))
    if instant:
        await session.execute(insert(Delivery), [_row(d) for d in instant])
    for notification, channel, slot in digests:
        await add_to_digest(session, notification, channel, slot, now=now)
    wake_after_commit(session)
    return len(told)


def _instant(school_id: int, notification_id: int, person: int, channel: ChannelName,
             message: Message, prefs: Preferences, now: dt.datetime) -> Delivery:
    """An instant delivery, due when the person's quiet hours allow."""
    return Delivery(
        school_id=school_id, person_id=person, notification_id=notification_id,
        channel=channel, kind=message.kind, status=DeliveryStatus.PENDING,
        due_at=schedule.instant_due(prefs, now, urgent=message.urgent), attempts=0,
        created_at=now,
    )


def _row(delivery: Delivery) -> dict[str, object]:
    """A new delivery's values, for a bulk INSERT."""
    return {name: getattr(delivery, name) for name in (
        "school_id", "person_id", "notification_id", "channel", "kind", "status", "due_at",
        "attempts", "created_at")}


def _default_email_deliveries(
    school_id: int, message: Message, now: dt.datetime, by_source: ColumnElement[bool],
    own_settings: CompoundSelect,
) -> Insert:
    """An instant e-mail delivery for each notification of this source whose person has
    an e-mail address and no settings of their own (the defaults: no quiet hours to wait
    for, hence one due time for all)."""
    n = cast(Table, Notification.__table__).c
    d = cast(Table, Delivery.__table__).c
    values = {
        "school_id": school_id, "channel": ChannelName.EMAIL, "kind": message.kind,
        "status": DeliveryStatus.PENDING, "attempts": 0, "created_at": now,
        "due_at": schedule.instant_due(Preferences(), now, urgent=message.urgent),
    }
    rows = (
        select(*(literal(value, d[name].type) for name, value in values.items()),
               n.person_id, n.id)
        .join(Person, Person.id == n.person_id)
        .where(by_source, Person.email.is_not(None), n.person_id.not_in(own_settings),
               or_(n.child_id.is_(None), n.person_id != n.child_id))
    )
    return insert(cast(Table, Delivery.__table__)).from_select(
        [*values, "person_id", "notification_id"], rows)


async def add_to_digest(
    session: AsyncSession,
    notification: Notification,
    channel: ChannelName,
    slot: dt.datetime,
    *,
    now: dt.datetime | None = None,
    key: str | None = None,
) -> int:
    """Gather a notification into the person's digest for `slot` (created if missing);
    returns the digest delivery's id. Safe against a concurrent transaction creating the
    same digest: the insert does nothing on a conflict and the row is read back."""
    now = now or clock.now()
    key = key or schedule.digest_key(notification.person_id, channel.value, slot)
    values = {
        "school_id": notification.school_id, "person_id": notification.person_id,
        "channel": channel.value, "status": DeliveryStatus.PENDING.value, "due_at": slot,
        "attempts": 0, "digest_key": key, "created_at": now,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = cast(Table, Delivery.__table__)
    await session.execute(
        insert(table).values(**values).on_conflict_do_nothing(index_elements=["digest_key"])
    )
    delivery_id = await session.scalar(select(Delivery.id).where(Delivery.digest_key == key))
    assert delivery_id is not None
    if notification.source_kind and notification.source_id is not None:
        # A correction replaces what the same digest already holds about the same record.
        await session.execute(delete(DigestEntry).where(
            DigestEntry.delivery_id == delivery_id,
            DigestEntry.notification_id.in_(select(Notification.id).where(
                Notification.person_id == notification.person_id,
                Notification.child_id.is_(None) if notification.child_id is None
                else Notification.child_id == notification.child_id,
                Notification.source_kind == notification.source_kind,
                Notification.source_id == notification.source_id,
                Notification.id != notification.id,
            )),
            select(Delivery.status).where(Delivery.id == delivery_id).scalar_subquery()
            == DeliveryStatus.PENDING,
        ).execution_options(synchronize_session=False))
    session.add(DigestEntry(delivery_id=delivery_id, notification_id=notification.id))
    await session.flush()
    return delivery_id


def wake_after_commit(session: AsyncSession) -> None:
    """Wake the workers once the transaction commits (once per transaction)."""
    transaction = session.sync_session.get_transaction()
    info = session.sync_session.info
    if transaction is not None and info.get(_WAKE_KEY) is transaction:
        return
    info[_WAKE_KEY] = transaction
    after_commit(session, wake_workers)


async def wake_workers() -> None:
    await get_broker().publish(WAKE_CHANNEL, {})
