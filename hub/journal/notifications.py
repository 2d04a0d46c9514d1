"""Grades and attendance marks as notifications (hub.notify's outbox): each record to the
parents of its student (and the student), with its title and text written here.

A teacher's grid or a journal batch emits many events at once: they are gathered and
handled together just before the commit (hub.events.defer), inside the transaction that
stored the records, so the records, their notifications and their deliveries commit
together. Recipients are only people whose notification consent stands
(hub.notify.recipients).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events import AttendanceMarked, Event, EventHandlers, GradePosted, defer
from hub.journal.models import (
    ATTENDANCE_SOURCE_KIND,
    GRADE_SOURCE_KIND,
    Attendance,
    Grade,
    status_title,
)
from hub.names import Gender, person_gender
from hub.notify import recipients
from hub.notify.channel import NotificationKind
from hub.notify.outbox import Message, enqueue_many
from hub.school import Person, SchoolClass

CHILDREN_URL = "/children"

Record = TypeVar("Record", Grade, Attendance)


def subscribe(handlers: EventHandlers) -> None:
    handlers.on(GradePosted, on_grade)
    handlers.on(AttendanceMarked, on_attendance)


async def on_grade(session: AsyncSession, event: Event) -> None:
    defer(session, grades_posted, event)


async def on_attendance(session: AsyncSession, event: Event) -> None:
    defer(session, attendance_marked, event)


async def grades_posted(session: AsyncSession, events: list[Event]) -> None:
    by_id = {e.grade_id: e for e in events if isinstance(e, GradePosted)}
    grades = list(await session.scalars(select(Grade).where(Grade.id.in_(list(by_id)))))
    for school_id, of_school in _by_school(grades, by_id).items():
        to = await _recipients(session, school_id, of_school, NotificationKind.GRADES)
        about = await _context(session, of_school)
        await enqueue_many(session, school_id, [
            (to[grade.student_id],
             grade_message(grade, by_id[grade.id].corrected, about.of(grade)))
            for grade in of_school
        ])


async def attendance_marked(session: AsyncSession, events: list[Event]) -> None:
    by_id = {e.attendance_id: e for e in events if isinstance(e, AttendanceMarked)}
    marks = list(await session.scalars(
        select(Attendance).where(Attendance.id.in_(list(by_id)))))
    for school_id, of_school in _by_school(marks, by_id).items():
        to = await _recipients(session, school_id, of_school, NotificationKind.ATTENDANCE)
        about = await _context(session, of_school)
        await enqueue_many(session, school_id, [
            (to[mark.student_id],
             attendance_message(mark, by_id[mark.id].corrected, about.of(mark)))
            for mark in of_school
        ])


def _by_school(records: list[Record], events: Mapping[int, Event]) -> dict[int, list[Record]]:
    """Records grouped by school, only where the event's school is the record's own."""
    result: dict[int, list[Record]] = {}
    for record in sorted(records, key=lambda r: r.id):
        if events[record.id].school_id == record.school_id:
            result.setdefault(record.school_id, []).append(record)
    return result


async def _recipients(
    session: AsyncSession, school_id: int, records: list[Record], kind: NotificationKind
) -> dict[int, list[tuple[int, int | None]]]:
    """student id -> the (recipient, child) pairs told about that student."""
    students = {r.student_id for r in records}
    result: dict[int, list[tuple[int, int | None]]] = {s: [] for s in students}
    for person, child in await recipients.about_students(session, school_id, students, kind):
        result[child].append((person, child))
    return result


# ---------------------------------------------------------------------------- texts


@dataclass(frozen=True)
class About:
    """What a notice says besides the record: the student's gender (when the names tell
    it), the teacher who entered the record and the class."""

    gender: Gender | None = None
    teacher: str | None = None
    class_name: str | None = None


@dataclass(frozen=True)
class _Context:
    people: dict[int, Person]
    classes: dict[int, str]

    def of(self, record: Grade | Attendance) -> About:
        student = self.people.get(record.student_id)
        teacher = self.people.get(record.teacher_id) if record.teacher_id else None
        return About(
            gender=person_gender(student) if student else None,
            teacher=teacher.full_name if teacher else None,
            class_name=self.classes.get(record.class_id) if record.class_id else None,
        )


async def _context(session: AsyncSession, records: Sequence[Grade | Attendance]) -> _Context:
    """The students, teachers and classes the records name, in two queries."""
    person_ids = {r.student_id for r in records} | {
        r.teacher_id for r in records if r.teacher_id is not None}
    class_ids = {r.class_id for r in records if r.class_id is not None}
    people = {p.id: p for p in await session.scalars(
        select(Person).where(Person.id.in_(sorted(person_ids))))}
    classes: dict[int, str] = {}
    if class_ids:
        classes = {class_id: name for class_id, name in await session.execute(
            select(SchoolClass.id, SchoolClass.name).where(SchoolClass.id.in_(sorted(class_ids))))}
    return _Context(people, classes)


def capital(text: str) -> str:
    """«математика» -> «Математика»: subjects and titles start with a capital letter."""
    return text[:1].upper() + text[1:]


def grade_url(grade: Grade) -> str:
    return f"{CHILDREN_URL}#grade-{grade.id}" if grade.id else CHILDREN_URL


def attendance_url(mark: Attendance) -> str:
    return f"{CHILDREN_URL}#attendance-{mark.id}" if mark.id else CHILDREN_URL


def grade_message(grade: Grade, corrected: bool, about: About | None = None) -> Message:
    return Message(kind=NotificationKind.GRADES, title=grade_title(grade, corrected),
                   body=grade_body(grade, about), url=grade_url(grade),
                   source_kind=GRADE_SOURCE_KIND, source_id=grade.id)


def attendance_message(
    mark: Attendance, corrected: bool, about: About | None = None
) -> Message:
    gender = about.gender if about else None
    return Message(kind=NotificationKind.ATTENDANCE,
                   title=attendance_title(mark, corrected, gender),
                   body=attendance_body(mark, about), url=attendance_url(mark),
                   source_kind=ATTENDANCE_SOURCE_KIND, source_id=mark.id)


def grade_title(grade: Grade, corrected: bool = False) -> str:
    """«Оценка 5 по предмету «Математика»» / «Исправлена оценка: 4 → 5 ...»."""
    subject = capital(grade.subject)
    if corrected and grade.previous_value is not None:
        return f"Исправлена оценка: {grade.previous_value} → {grade.value} по предмету «{subject}»"
    if corrected:
        return f"Исправлена оценка: {grade.value} по предмету «{subject}»"
    return f"Оценка {grade.value} по предмету «{subject}»"


def _who_and_where(about: About | None) -> list[str]:
    parts = []
    if about and about.teacher:
        parts.append(f"Учитель: {about.teacher}")
    if about and about.class_name:
        parts.append(f"Класс: {about.class_name}")
    return parts


def grade_body(grade: Grade, about: About | None = None) -> str:
    parts = [f"{grade.lesson_date:%d.%m.%Y}, {capital(grade.subject)}: {grade.value}"]
    if grade.work_type:
        parts.append(f"Вид работы: {grade.work_type}")
    parts += _who_and_where(about)
    if grade.comment:
        parts.append(f"Комментарий: {grade.comment}")
    return "\n".join(parts)


def attendance_title(
    mark: Attendance, corrected: bool = False, gender: Gender | None = None
) -> str:
    """«Отсутствовала на уроке «Математика» 01.12.2026» (the child's name follows it where
    the notice is read); «Отсутствие ...» where the child's gender is not known."""
    what = status_title(mark.status, gender)
    lesson = f" на уроке «{capital(mark.subject)}»" if mark.subject else ""
    text = f"{what}{lesson} {mark.lesson_date:%d.%m.%Y}"
    return f"Исправлена отметка: {text}" if corrected else capital(text)


def attendance_body(mark: Attendance, about: About | None = None) -> str:
    what = status_title(mark.status, about.gender if about else None)
    parts = [f"{mark.lesson_date:%d.%m.%Y}: {what}"]
    if mark.subject:
        parts.append(f"Предмет: {capital(mark.subject)}")
    if mark.lesson_number:
        parts.append(f"Урок № {mark.lesson_number}")
    parts += _who_and_where(about)
    if mark.comment:
        parts.append(f"Комментарий: {mark.comment}")
    return "\n".join(parts)
