"""The journal's personal data (hub.privacy): a student's grades and attendance."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.journal.models import Attendance, Grade


class JournalData:
    """A student's grades and attendance (hub.privacy): exported, and erased with them.
    A teacher's name on the grades they entered is unlinked on erasure."""

    name = "journal"

    async def export(self, session: AsyncSession, person_id: int) -> dict[str, Any]:
        grades = await session.scalars(
            select(Grade).where(Grade.student_id == person_id).order_by(Grade.id))
        marks = await session.scalars(
            select(Attendance).where(Attendance.student_id == person_id)
            .order_by(Attendance.id))
        return {
            "grades": [
                {"id": g.id, "subject": g.subject, "date": g.lesson_date.isoformat(),
                 "value": g.value, "work_type": g.work_type, "comment": g.comment,
                 "corrected": g.corrected, "previous_value": g.previous_value,
                 "source": g.source.value, "created_at": g.created_at.isoformat()}
                for g in grades
            ],
            "attendance": [
                {"id": m.id, "date": m.lesson_date.isoformat(), "subject": m.subject,
                 "lesson_number": m.lesson_number, "status": m.status.value,
                 "comment": m.comment, "source": m.source.value,
                 "created_at": m.created_at.isoformat()}
                for m in marks
            ],
        }

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        for model in (Grade, Attendance):
            await session.execute(
                delete(model).where(model.student_id == person_id)
                .execution_options(synchronize_session=False))
            await session.execute(
                update(model).where(model.teacher_id == person_id).values(teacher_id=None)
                .execution_options(synchronize_session=False))


PRIVACY = JournalData()
