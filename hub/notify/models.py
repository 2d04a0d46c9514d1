"""The outbox: one Notification per recipient, one Delivery per chosen channel.

The Delivery rows are the queue's source of truth: a worker claims due rows, sends, and
records the outcome on the same row. An instant delivery carries one notification
(`notification_id`); a digest delivery gathers several (`DigestEntry`) and is unique per
person, channel and digest slot (`digest_key`).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.db import Base, str_enum
from hub.notify.channel import ChannelName, NotificationKind


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its due time
    SENDING = "sending"  # claimed by a worker until lease_until
    SENT = "sent"
    RETRY = "retry"  # a temporary failure; tried again at due_at
    FAILED = "failed"  # a permanent failure (no such mailbox, bot blocked)
    DEAD = "dead"  # gave up after too many temporary failures; an administrator may retry
    CANCELLED = "cancelled"  # what it carried was withdrawn (an announcement deleted)


STATUS_TITLES: dict[DeliveryStatus, str] = {
    DeliveryStatus.PENDING: "ожидает",
    DeliveryStatus.SENDING: "отправляется",
    DeliveryStatus.SENT: "доставлено",
    DeliveryStatus.RETRY: "повтор",
    DeliveryStatus.FAILED: "ошибка",
    DeliveryStatus.DEAD: "не доставлено",
    DeliveryStatus.CANCELLED: "отменено",
}

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.RETRY)
FAILED = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)


class Notification(Base):
    """What one person is told; also their entry in the in-app list."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_person_created", "person_id", "created_at"),
        Index("ix_notifications_source", "source_kind", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, "notification_kind"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))  # a path inside the hub
    # The child the notification is about (digests group by child).
    child_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    # What caused it ("grade", "attendance", "announcement", ...) for per-source counts.
    source_kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int]
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    read_at: Mapped[dt.datetime | None]
    # Its cause was withdrawn (an announcement deleted): hidden from the in-app list, its
    # waiting deliveries cancelled (hub.notify.revision).
    withdrawn_at: Mapped[dt.datetime | None]


class Delivery(Base):
    """One notification (or one digest) on one channel to one person."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status_due", "status", "due_at"),
        Index("ix_deliveries_school_created", "school_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # Set for an instant delivery; None for a digest (see DigestEntry).
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[ChannelName] = mapped_column(str_enum(ChannelName, "channel_name"))
    # The kind of an instant delivery; None for a digest (it mixes kinds).
    kind: Mapped[NotificationKind | None] = mapped_column(
        str_enum(NotificationKind, "notification_kind")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    due_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None]
    # Set, and committed, just before a send goes on the wire; cleared when its outcome is
    # known. Still set when the delivery is claimed again: the last attempt may have reached
    # the recipient, so the next one is counted in `possible_duplicates`.
    attempt_started_at: Mapped[dt.datetime | None]
    possible_duplicates: Mapped[int] = mapped_column(default=0, server_default="0")
    provider_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(String(500))
    # "person:channel:YYYY-MM-DDTHH:MM" for a digest: one per person, channel and slot.
    digest_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[dt.datetime | None]

    @property
    def is_digest(self) -> bool:
        return self.notification_id is None


class DigestEntry(Base):
    """A notification gathered into a digest delivery."""

    __tablename__ = "digest_entries"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True, index=True
    )
