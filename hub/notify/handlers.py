"""Events that become notifications: grades, attendance marks, moderation decisions.

Each runs inside the transaction that caused the event, so the record, its notifications
and their deliveries commit together. Grades and attendance come in batches: their events
are gathered and handled together just before the commit (hub.events.defer).
Announcements and forum replies know their own audiences: their packages call
`hub.notify.outbox.enqueue` from their handlers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import journal
from hub.events import (
    AttendanceMarked,
    Event,
    EventHandlers,
    GradePosted,
    ModerationDecided,
    defer,
)
from hub.notify import recipients
from hub.notify.channel import NotificationKind
from hub.notify.outbox import Message, enqueue, enqueue_many

CHILDREN_URL = "/children"


async def on_grade(session: AsyncSession, event: Event) -> None:
    defer(session, grades_posted, event)


async def on_attendance(session: AsyncSession, event: Event) -> None:
    defer(session, attendance_marked, event)


async def grades_posted(session: AsyncSession, events: list[Event]) -> None:
    by_id = {e.grade_id: e for e in events if isinstance(e, GradePosted)}
    grades = list(await session.scalars(
        select(journal.Grade).where(journal.Grade.id.in_(list(by_id)))
    ))
    for school_id, of_school in _by_school(grades, by_id).items():
        to = await _recipients(session, school_id, of_school, NotificationKind.GRADES)
        await enqueue_many(session, school_id, [
            (to[grade.student_id], Message(
                kind=NotificationKind.GRADES,
                title=journal.grade_title(grade, by_id[grade.id].corrected),
                body=journal.grade_body(grade),
                url=CHILDREN_URL,
                source_kind=journal.GRADE_SOURCE_KIND,
                source_id=grade.id,
            ))
            for grade in of_school
        ])


async def attendance_marked(session: AsyncSession, events: list[Event]) -> None:
    by_id = {e.attendance_id: e for e in events if isinstance(e, AttendanceMarked)}
    marks = list(await session.scalars(
        select(journal.Attendance).where(journal.Attendance.id.in_(list(by_id)))
    ))
    for school_id, of_school in _by_school(marks, by_id).items():
        to = await _recipients(session, school_id, of_school, NotificationKind.ATTENDANCE)
        await enqueue_many(session, school_id, [
            (to[mark.student_id], Message(
                kind=NotificationKind.ATTENDANCE,
                title=journal.attendance_title(mark, by_id[mark.id].corrected),
                body=journal.attendance_body(mark),
                url=CHILDREN_URL,
                source_kind=journal.ATTENDANCE_SOURCE_KIND,
                source_id=mark.id,
            ))
            for mark in of_school
        ])


Record = TypeVar("Record", journal.Grade, journal.Attendance)


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


async def on_moderation_decided(session: AsyncSession, event: Event) -> None:
    assert isinstance(event, ModerationDecided)
    if event.author_id is None or not await recipients.person_if_consenting(
        session, event.school_id, event.author_id
    ):
        return
    if event.decision == "approved":
        title, body = "Ваше сообщение опубликовано", "Модератор проверил и опубликовал его."
    else:
        title = "Ваше сообщение отклонено модератором"
        body = f"Причина: {event.reason}" if event.reason else "Причина не указана."
    await enqueue(session, event.school_id, [(event.author_id, None)], Message(
        kind=NotificationKind.MODERATION, title=title, body=body, url=None,
        source_kind="review_item", source_id=event.review_item_id,
    ))


def subscribe(handlers: EventHandlers) -> None:
    handlers.on(GradePosted, on_grade)
    handlers.on(AttendanceMarked, on_attendance)
    handlers.on(ModerationDecided, on_moderation_decided)
