"""Reading the journal: the teacher's grid for one lesson, what a teacher entered, a
student's recent grades and marks, and the lookups `record` shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.journal.models import (
    ATTENDANCE_SOURCE_KIND,
    GRADE_SOURCE_KIND,
    WEB_PREFIX,
    WEB_SOURCE_KEY,
    Attendance,
    AttendanceStatus,
    Grade,
    Source,
)
from hub.school import Enrolment, Person, TeachingAssignment

Record = TypeVar("Record", Grade, Attendance)
V = TypeVar("V")


def web_source_id(kind: str, class_id: int, day: dt.date, subject: str, student_id: int) -> str:
    """The teacher page's id for one cell of the grid: saving it again is an update."""
    return f"{WEB_PREFIX}{kind}:{class_id}:{day.isoformat()}:{student_id}:{subject.casefold()}"


@dataclass(frozen=True)
class SheetRow:
    student: Person
    grade: Grade | None
    attendance: Attendance | None
    # What the school's journal (API or CSV) holds for the same lesson, shown read-only.
    from_journal: list[Grade | Attendance] = field(default_factory=list)


async def lesson_sheet(
    session: AsyncSession, school_id: int, class_id: int, day: dt.date, subject: str
) -> list[SheetRow]:
    """The teacher page's grid: the class's students, what the page entered for them, and
    what arrived from the journal for that day and subject."""
    students = (await session.scalars(
        select(Person).join(Enrolment, Enrolment.student_id == Person.id)
        .where(Enrolment.class_id == class_id, Person.school_id == school_id)
        .order_by(Person.last_name, Person.first_name, Person.id)
    )).all()
    grade_ids = {web_source_id("g", class_id, day, subject, s.id): s.id for s in students}
    mark_ids = {web_source_id("a", class_id, day, subject, s.id): s.id for s in students}
    grades = await by_source_id(session, Grade, school_id, grade_ids, key=WEB_SOURCE_KEY)
    marks = await by_source_id(session, Attendance, school_id, mark_ids, key=WEB_SOURCE_KEY)
    by_student_grade = {grade_ids[k]: v for k, v in grades.items()}
    by_student_mark = {mark_ids[k]: v for k, v in marks.items()}
    elsewhere: dict[int, list[Grade | Attendance]] = {s.id: [] for s in students}
    ids = list(elsewhere)
    for chunk in chunks(ids):
        for grade in await session.scalars(
            select(Grade).where(Grade.school_id == school_id, Grade.student_id.in_(chunk),
                                Grade.lesson_date == day, Grade.subject == subject,
                                Grade.source != Source.WEB).order_by(Grade.id)
        ):
            elsewhere[grade.student_id].append(grade)
        for mark in await session.scalars(
            select(Attendance).where(
                Attendance.school_id == school_id, Attendance.student_id.in_(chunk),
                Attendance.lesson_date == day, Attendance.source != Source.WEB,
                Attendance.status != AttendanceStatus.PRESENT,
                or_(Attendance.subject == subject, Attendance.subject.is_(None)),
            ).order_by(Attendance.id)
        ):
            elsewhere[mark.student_id].append(mark)
    return [
        SheetRow(s, by_student_grade.get(s.id), by_student_mark.get(s.id), elsewhere[s.id])
        for s in students
    ]


async def subjects_taught(
    session: AsyncSession, class_id: int, teacher_id: int | None = None
) -> list[str]:
    """The subjects taught in a class (by one teacher, when given)."""
    query = select(TeachingAssignment.subject).where(TeachingAssignment.class_id == class_id)
    if teacher_id is not None:
        query = query.where(TeachingAssignment.teacher_id == teacher_id)
    return sorted(set(await session.scalars(query)))


async def recent_grades(
    session: AsyncSession, student_id: int, *, limit: int = 30
) -> Sequence[Grade]:
    result = await session.scalars(
        select(Grade).where(Grade.student_id == student_id)
        .order_by(Grade.lesson_date.desc(), Grade.id.desc()).limit(limit)
    )
    return result.all()


async def recent_attendance(
    session: AsyncSession, student_id: int, *, limit: int = 30
) -> Sequence[Attendance]:
    """Marks that still stand (a mark corrected to "present" is not an absence)."""
    result = await session.scalars(
        select(Attendance).where(
            Attendance.student_id == student_id,
            Attendance.status != AttendanceStatus.PRESENT,
        ).order_by(Attendance.lesson_date.desc(), Attendance.id.desc()).limit(limit)
    )
    return result.all()


@dataclass(frozen=True)
class EnteredRecord:
    """A grade or mark a teacher entered, with the student's name (for their list)."""

    kind: str  # GRADE_SOURCE_KIND or ATTENDANCE_SOURCE_KIND
    record: Grade | Attendance
    student_name: str


async def entered_by(
    session: AsyncSession, school_id: int, teacher_id: int, *, limit: int = 50
) -> list[EnteredRecord]:
    """The latest grades and marks a teacher entered (on the page or through the API),
    newest first."""
    found: list[EnteredRecord] = []
    kinds: tuple[tuple[str, type[Grade] | type[Attendance]], ...] = (
        (GRADE_SOURCE_KIND, Grade), (ATTENDANCE_SOURCE_KIND, Attendance))
    for kind, model in kinds:
        rows = await session.execute(
            select(model, Person).join(Person, Person.id == model.student_id)
            .where(model.school_id == school_id, model.teacher_id == teacher_id)
            .order_by(model.updated_at.desc(), model.id.desc()).limit(limit)
        )
        found += [EnteredRecord(kind, cast(Grade | Attendance, record), person.full_name)
                  for record, person in rows]
    found.sort(key=lambda e: (e.record.updated_at, e.record.id), reverse=True)
    return found[:limit]


async def by_source_id(
    session: AsyncSession, model: type[Record], school_id: int, source_ids: Iterable[str],
    *, key: str,
) -> dict[str, Record]:
    """The records of `model` with these source ids of source `key`, by source id."""
    found: dict[str, Record] = {}
    for chunk in chunks(sorted(set(source_ids))):
        for row in await session.scalars(
            select(model).where(model.school_id == school_id, model.source_key == key,
                                model.source_id.in_(chunk))
        ):
            found[row.source_id] = row
    return found


def chunks(values: Sequence[V], size: int = 500) -> Iterable[Sequence[V]]:
    """`values` in slices small enough for one IN (...) on every backend."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
