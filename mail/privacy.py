"""Personal data in the local mailbox: the letters kept for a person (by their id, or sent
to their current e-mail address)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.school import Person
from mail.mailbox import MailboxMessage


async def _theirs(session: AsyncSession, person_id: int) -> ColumnElement[bool]:
    email = await session.scalar(select(Person.email).where(Person.id == person_id))
    condition = MailboxMessage.person_id == person_id
    if email:
        condition = or_(condition, func.lower(MailboxMessage.to_address) == email.lower())
    return condition


class MailboxData:
    name = "mailbox"

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        rows = await session.scalars(
            select(MailboxMessage)
            .where(await _theirs(session, person_id))
            .order_by(MailboxMessage.id)
        )
        return [
            {
                "to": row.to_address, "subject": row.subject, "text": row.text_body,
                "message_id": row.message_id, "created_at": row.created_at.isoformat(),
            }
            for row in rows
        ]

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        await session.execute(
            delete(MailboxMessage)
            .where(await _theirs(session, person_id))
            .execution_options(synchronize_session=False)
        )


PRIVACY = MailboxData()
