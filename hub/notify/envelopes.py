"""What a claimed delivery sends: its Envelope, loaded from the outbox.

An instant delivery carries its one notification, a digest delivery the notifications
gathered into it, grouped later by child; each item names the child it is about (when
that is not the recipient) and links into the hub with an absolute URL. The envelope holds
only what every channel needs: what a channel adds of its own (an e-mail's unsubscribe
link, a Telegram keyboard) the channel works out itself.

Everything for a batch is read in a handful of queries, inside the transaction that
claimed it, so the worker sends what it claimed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.notify.addresses import addresses_of
from hub.notify.channel import Envelope, Item
from hub.notify.models import Delivery, DigestEntry, Notification
from hub.school import Person


async def load_envelopes(
    session: AsyncSession, delivery_ids: Sequence[int], *, public_url: str
) -> list[tuple[Delivery, Envelope | None]]:
    """Each delivery, in the order it fell due, with its envelope: None when the person
    has no address on the delivery's channel any more, or nothing is left to send."""
    deliveries = list(
        await session.scalars(
            select(Delivery).where(Delivery.id.in_(delivery_ids))
            .order_by(Delivery.due_at, Delivery.id)
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
            .where(DigestEntry.delivery_id.in_(digest_ids), Notification.withdrawn_at.is_(None))
            .order_by(Notification.child_id, Notification.created_at, Notification.id)
        ):
            gathered[delivery_id].append(note)
    all_notes = list(notes.values()) + [n for ns in gathered.values() for n in ns]
    people = {d.person_id for d in deliveries} | {
        n.child_id for n in all_notes if n.child_id is not None
    }
    names = {
        p.id: (p.full_name, p.short_name)
        for p in await session.scalars(select(Person).where(Person.id.in_(people)))
    }
    addresses = await addresses_of(session, [d.person_id for d in deliveries])

    def item(note: Notification) -> Item:
        child = names.get(note.child_id) if note.child_id is not None else None
        child_name = child[1] if child and note.child_id != note.person_id else None
        return Item(
            kind=note.kind, title=note.title, body=note.body,
            url=absolute(public_url, note.url), created_at=note.created_at,
            child_name=child_name, urgent=note.urgent,
        )

    loaded: list[tuple[Delivery, Envelope | None]] = []
    for delivery in deliveries:
        address = addresses[delivery.person_id].get(delivery.channel)
        items: tuple[Item, ...]
        if delivery.notification_id is not None:
            own = notes.get(delivery.notification_id)
            items = (item(own),) if own is not None else ()
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
            )
        loaded.append((delivery, envelope))
    return loaded


def absolute(public_url: str, url: str | None) -> str | None:
    """A link into the hub as a recipient's mail client or Telegram can open it."""
    if url is None or url.startswith(("http://", "https://")):
        return url
    return public_url + (url if url.startswith("/") else "/" + url)
