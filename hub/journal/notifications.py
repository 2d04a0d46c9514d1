"""Grades and attendance marks as notifications (hub.notify's outbox): each record to the
parents of its student (and the student), with its title and text written here.

A teacher's grid or a journal batch emits many events at once: they are gathered and
handled together just before the commit (hub.events.defer), inside the transaction that
stored the records, so the records, their notifications and their deliveries commit
together. Recipients are only people whose notification consent stands
(hub.notify.recipients).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events import AttendanceMarked, Event, EventHandlers, GradePosted, defer
from hub.journal.models import (
    ATTENDANCE_SOURCE_KIND,
    GRADE_SOURCE_KIND,
    STATUS_TITLES,
    Attendance,
    Grade,
)
from hub.notify import recipients
from hub.notify.channel import NotificationKind
from hub.notify.outbox import Message, enqueue_many

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
        await enqueue_many(session, school_id, [
            (to[grade.student_id], grade_message(grade, by_id[grade.id].corrected))
            for grade in of_school
        ])


async def attendance_marked(session: AsyncSession, events: list[Event]) -> None:
    by_id = {e.attendance_id: e for e in events if isinstance(e, AttendanceMarked)}
    marks = list(await session.scalars(
        select(Attendance).where(Attendance.id.in_(list(by_id)))))
    for school_id, of_school in _by_school(marks, by_id).items():
        to = await _recipients(session, school_id, of_school, NotificationKind.ATTENDANCE)
        await enqueue_many(session, school_id, [
            (to[mark.student_id], attendance_message(mark, by_id[mark.id].corrected))
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


def grade_message(grade: Grade, corrected: bool) -> Message:
    return Message(kind=NotificationKind.GRADES, title=grade_title(grade, corrected),
                   body=grade_body(grade), url=CHILDREN_URL,
                   source_kind=GRADE_SOURCE_KIND, source_id=grade.id)


def attendance_message(mark: Attendance, corrected: bool) -> Message:
    return Message(kind=NotificationKind.ATTENDANCE, title=attendance_title(mark, corrected),
                   body=attendance_body(mark), url=CHILDREN_URL,
                   source_kind=ATTENDANCE_SOURCE_KIND, source_id=mark.id)


def grade_title(grade: Grade, corrected: bool = False) -> str:
    """"Оценка 5 по предмету «Математика»" / "Исправлена оценка: 4 → 5 ..." for the
    notification's title."""
    if corrected and grade.previous_value is not None:
        return (f"Исправлена оценка: {grade.previous_value} → {grade.value} "
                f"по предмету «{grade.subject}»")
    if corrected:
        return f"Исправлена оценка {grade.value} по предмету «{grade.subject}»"
    return f"Оценка {grade.value} по предмету «{grade.subject}»"


def grade_body(grade: Grade) -> str:
    parts = [f"{grade.lesson_date:%d.%m.%Y}, {grade.subject}: {grade.value}"]
    if grade.work_type:
        parts.append(f"Вид работы: {grade.work_type}")
    if grade.comment:
        parts.append(f"Комментарий: {grade.comment}")
    return "\n".join(parts)


def attendance_title(mark: Attendance, corrected: bool = False) -> str:
    what = STATUS_TITLES[mark.status]
    lesson = f" на уроке «{mark.subject}»" if mark.subject else ""
    prefix = "Исправлена отметка: " if corrected else ""
    return f"{prefix}{what}{lesson} {mark.lesson_date:%d.%m.%Y}"


def attendance_body(mark: Attendance) -> str:
    parts = [f"{mark.lesson_date:%d.%m.%Y}: {STATUS_TITLES[mark.status]}"]
    if mark.subject:
        parts.append(f"Предмет: {mark.subject}")
    if mark.lesson_number:
        parts.append(f"Урок № {mark.lesson_number}")
    if mark.comment:
        parts.append(f"Комментарий: {mark.comment}")
    return "\n".join(parts)
