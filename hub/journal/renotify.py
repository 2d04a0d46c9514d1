"""Notifying after the fact: grades and attendance marks that were stored while nobody was
told (an import run by a version of `hub` that never made their notices).

A re-import cannot do it: the records are already there, unchanged, and an unchanged
record is not announced. This finds the records of a school with no notification of their
own and announces each once more, through the same events as the API and the grid, so the
notices are the ones those would have made.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events import AttendanceMarked, GradePosted, emit
from hub.journal.models import ATTENDANCE_SOURCE_KIND, GRADE_SOURCE_KIND, Attendance, Grade
from hub.notify.models import Notification


async def notify_missing(
    session: AsyncSession, school_id: int, kind: str, *, since: dt.datetime | None = None
) -> int:
    """Announce the school's `kind` ("grades" or "attendance") records stored at or after
    `since` that have no notification yet; how many were announced."""
    model: type[Grade] | type[Attendance] = Grade if kind == "grades" else Attendance
    source_kind = GRADE_SOURCE_KIND if kind == "grades" else ATTENDANCE_SOURCE_KIND
    told = exists().where(Notification.source_kind == source_kind,
                          Notification.source_id == model.id)
    query = select(model).where(model.school_id == school_id, ~told).order_by(model.id)
    if since is not None:
        query = query.where(model.created_at >= since)
    rows: list[Grade | Attendance] = list(await session.scalars(query))
    for row in rows:
        if isinstance(row, Grade):
            await emit(session, GradePosted(school_id=school_id, grade_id=row.id,
                                            student_id=row.student_id, corrected=row.corrected))
        else:
            await emit(session, AttendanceMarked(school_id=school_id, attendance_id=row.id,
                                                 student_id=row.student_id,
                                                 corrected=row.corrected))
    return len(rows)
