"""A student's grades and attendance in export and erasure (hub.journal.privacy)."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.compose import privacy_sources
from hub.db import Database
from hub.journal.models import Attendance, AttendanceStatus, Grade, Source
from hub.journal.record import record_attendance, record_grades
from tests.journal.conftest import Journal5A, grade, mark
from tests.support.school import SchoolBuilder


async def test_students_records_are_exported_and_erased_with_them(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    [source] = [s for s in privacy_sources() if s.name == "journal"]
    teacher = await school.principal(journal.teacher)
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [grade(journal.alice.id, 4, "p-1"),
                                                        grade(journal.boris.id, 5, "p-2")],
                            by=teacher, source=Source.API)
        await record_attendance(session, school.school_id,
                                [mark(journal.alice.id, AttendanceStatus.SICK, "p-3")],
                                by=teacher, source=Source.API)
    async with db.session() as session:
        exported = await source.export(session, journal.alice.id)
    assert [g["value"] for g in exported["grades"]] == [4]
    assert [m["status"] for m in exported["attendance"]] == ["sick"]

    async with db.transaction() as session:
        await source.erase(session, journal.alice.id)
        await source.erase(session, journal.teacher.id)
    async with db.session() as session:
        left = [tuple(r) for r in await session.execute(select(Grade.student_id,
                                                               Grade.teacher_id))]
    assert left == [(journal.boris.id, None)]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Attendance)) == 0
