"""Personal data moderation keeps about a person: the reports they made, the warnings and
mutes they received, and which of their messages went through the queue.

Erasure deletes their reports and sanctions and unlinks queue items from them. The audit log
is append-only and stays: it refers to people by id only, and the kernel's erasure turns that
person's name into a placeholder."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from moderation.models import Report, ReviewItem, Sanction


class ModerationData:
    name = "moderation"

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        reports = await session.scalars(
            select(Report).where(Report.reporter_id == person_id).order_by(Report.id)
        )
        sanctions = await session.scalars(
            select(Sanction).where(Sanction.person_id == person_id).order_by(Sanction.id)
        )
        items = await session.scalars(
            select(ReviewItem).where(ReviewItem.author_id == person_id).order_by(ReviewItem.id)
        )
        return {
            "reports_made": [
                {"item": r.item_id, "reason": r.reason, "at": r.created_at.isoformat()}
                for r in reports
            ],
            "sanctions": [
                {"kind": s.kind.value, "reason": s.reason, "at": s.created_at.isoformat(),
                 "until": s.until.isoformat() if s.until else None}
                for s in sanctions
            ],
            "moderated_messages": [
                {"kind": i.kind, "id": i.target_id, "status": i.status.value,
                 "reason": i.decision_reason, "at": i.queued_at.isoformat()}
                for i in items
            ],
        }

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        await session.execute(delete(Report).where(Report.reporter_id == person_id))
        await session.execute(delete(Sanction).where(Sanction.person_id == person_id))
        await session.execute(
            update(ReviewItem).where(ReviewItem.author_id == person_id).values(author_id=None)
        )


PRIVACY = ModerationData()
