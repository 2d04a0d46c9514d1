"""What the bot shows a linked person: their children's grades and absences, the notices
addressed to them. Every read is decided by hub.auth.access (and, for notices, the
forum's audience rules built on it), exactly as on the web."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board import list_board
from forum.models import Announcement
from hub.auth.access import Action, Principal, can, load_principal
from hub.journal.models import Attendance, Grade
from hub.journal.reading import recent_attendance, recent_grades
from hub.school import Person, Role

T = TypeVar("T")


@dataclass(frozen=True)
class StudentRecords(Generic[T]):
    student: Person
    records: Sequence[T]


async def principal_of(session: AsyncSession, person: Person) -> Principal:
    return await load_principal(session, person)


async def _students_in_view(session: AsyncSession, principal: Principal) -> list[Person]:
    """A parent's children and a student themselves: whose journal this person may read."""
    if not can(principal, Action.VIEW_OWN_GRADES):
        return []
    ids: set[int] = set()
    if Role.PARENT in principal.roles:
        ids |= principal.child_ids
    if Role.STUDENT in principal.roles and principal.person_id is not None:
        ids.add(principal.person_id)
    if not ids:
        return []
    people = await session.scalars(
        select(Person).where(Person.id.in_(ids), Person.school_id == principal.school_id)
        .order_by(Person.last_name, Person.first_name)
    )
    return list(people)


async def grades_in_view(
    session: AsyncSession, principal: Principal, *, per_student: int = 10
) -> list[StudentRecords[Grade]]:
    return [
        StudentRecords(student, await recent_grades(session, student.id, limit=per_student))
        for student in await _students_in_view(session, principal)
    ]


async def attendance_in_view(
    session: AsyncSession, principal: Principal, *, per_student: int = 10
) -> list[StudentRecords[Attendance]]:
    return [
        StudentRecords(student, await recent_attendance(session, student.id, limit=per_student))
        for student in await _students_in_view(session, principal)
    ]


async def latest_notices(
    session: AsyncSession, principal: Principal, *, limit: int = 5
) -> Sequence[Announcement]:
    """What the person reads on the board (forum.board decides), pinned first, then newest."""
    if not can(principal, Action.READ_BOARD):
        return []
    return [entry.announcement for entry in await list_board(session, principal, limit=limit)]
