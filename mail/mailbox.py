"""The local mailbox: where e-mail goes when no SMTP server is configured (the embedded
default), so that administrators can read in the UI what parents would have received.

Each message is rendered exactly as the SMTP channel would send it. The Message-ID is
stable per delivery, so a delivery retried after a crash is kept once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.config import Settings
from hub.db import Base, Database
from hub.notify.acceptance import Turn
from hub.notify.channel import ChannelName, Envelope
from hub.school import Person
from mail.render import bodies_of, render_message

PAGE_SIZE = 50
SHOWN_HEADERS = (
    "From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post",
)  # fmt: skip


class MailboxMessage(Base):
    __tablename__ = "mail_mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    delivery_id: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[str] = mapped_column(Text)  # JSON: [[name, value], ...]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)

    @property
    def header_list(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in json.loads(self.headers)]


async def keep(
    session: AsyncSession, *, school_id: int | None, person_id: int | None, delivery_id: int,
    message_id: str, to_address: str, subject: str, text: str, html: str,
    headers: list[tuple[str, str]],
) -> MailboxMessage:
    """Store a message unless one with the same Message-ID is already kept."""
    existing = await session.scalar(
        select(MailboxMessage).where(MailboxMessage.message_id == message_id)
    )
    if existing is not None:
        return existing
    row = MailboxMessage(
        school_id=school_id, person_id=person_id, delivery_id=delivery_id,
        message_id=message_id, to_address=to_address, subject=subject[:300],
        text_body=text, html_body=html, headers=json.dumps(headers, ensure_ascii=False),
    )
    session.add(row)
    await session.flush()
    return row


async def list_messages(
    session: AsyncSession, school_id: int, *, to: str | None = None, page: int = 1
) -> tuple[Sequence[MailboxMessage], int]:
    """A page of the school's messages, newest first, and how many match in all."""
    where = [MailboxMessage.school_id == school_id]
    if to:
        where.append(func.lower(MailboxMessage.to_address).contains(to.lower().strip()))
    total = await session.scalar(select(func.count()).select_from(MailboxMessage).where(*where))
    rows = await session.scalars(
        select(MailboxMessage)
        .where(*where)
        .order_by(MailboxMessage.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    return rows.all(), total or 0


async def get_message(
    session: AsyncSession, school_id: int, message_id: int
) -> MailboxMessage | None:
    row = await session.get(MailboxMessage, message_id)
    return row if row is not None and row.school_id == school_id else None


class MailboxChannel:
    """The e-mail Channel of an installation without SMTP: keeps each message in
    mail_mailbox instead of sending it."""

    name = ChannelName.EMAIL

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    async def send(self, envelope: Envelope, turn: Turn | None = None) -> str:
        message = render_message(envelope, self.settings)
        text, html = bodies_of(message)
        message_id = str(message["Message-ID"])
        headers = [(name, str(message[name])) for name in SHOWN_HEADERS if name in message]
        try:
            async with self.db.transaction() as session:
                person = await session.get(Person, envelope.person_id)
                await keep(
                    session,
                    school_id=person.school_id if person else None,
                    person_id=person.id if person else None,
                    delivery_id=envelope.delivery_id,
                    message_id=message_id,
                    to_address=message["To"].addresses[0].addr_spec,
                    subject=str(message["Subject"]),
                    text=text,
                    html=html,
                    headers=headers,
                )
        except IntegrityError:  # a concurrent retry of the same delivery kept it first
            pass
        return message_id

    async def aclose(self) -> None:
        return None
