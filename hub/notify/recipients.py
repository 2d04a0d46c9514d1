"""Who is told: the guardians of a student whose notification consent stands, and the
student themselves only when they opted in (chose a mode for that kind). Never anyone else.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, case, distinct, exists, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.notify.channel import NotificationKind
from hub.notify.preferences import ChannelPreference, Mode
from hub.school import (
    Consent,
    ConsentPurpose,
    Enrolment,
    Guardianship,
    Person,
    consenting,
    guardians_of,
)


async def about_students(
    session: AsyncSession, school_id: int, student_ids: Iterable[int], kind: NotificationKind
) -> list[tuple[int, int]]:
    """(recipient id, child id) pairs for notifications about these students."""
    students = sorted(set(student_ids))
    if not students:
        return []
    in_school = set(
        await session.scalars(
            select(Person.id).where(Person.id.in_(students), Person.school_id == school_id)
        )
    )
    students = [s for s in students if s in in_school]
    guardians = await guardians_of(session, students)
    candidates = {g for ids in guardians.values() for g in ids} | set(students)
    allowed = await consenting(session, candidates, ConsentPurpose.NOTIFICATIONS)
    allowed &= set(
        await session.scalars(
            select(Person.id).where(Person.id.in_(allowed), Person.school_id == school_id)
        )
    ) if allowed else set()
    opted_in = await _opted_in(session, [s for s in students if s in allowed], kind)
    pairs: list[tuple[int, int]] = []
    for student in students:
        pairs.extend((g, student) for g in sorted(set(guardians[student])) if g in allowed)
        if student in opted_in:
            pairs.append((student, student))
    return pairs


async def in_classes(
    session: AsyncSession, school_id: int, class_ids: Iterable[int], kind: NotificationKind
) -> list[tuple[int, int | None]]:
    """Recipients for something addressed to whole classes (an announcement): each person
    once, with the child it concerns when that is one child."""
    students = list(
        await session.scalars(
            select(Enrolment.student_id).where(Enrolment.class_id.in_(set(class_ids)))
        )
    )
    by_person: dict[int, set[int]] = {}
    for person, child in await about_students(session, school_id, students, kind):
        by_person.setdefault(person, set()).add(child)
    return [
        (person, next(iter(children)) if len(children) == 1 else None)
        for person, children in sorted(by_person.items())
    ]


def in_classes_query(
    school_id: int, class_ids: Select[int], kind: NotificationKind
) -> Select[int, int | None]:
    """`in_classes` as one SELECT of (person id, child id or NULL) for the database to
    resolve, so a school-wide announcement passes no id lists: the consenting guardians of
    the students of those classes, and the students who opted in to `kind`."""
    student = aliased(Person)
    guardian = aliased(Person)
    consents = select(Consent.person_id).where(
        Consent.purpose == ConsentPurpose.NOTIFICATIONS, Consent.withdrawn_at.is_(None)
    )
    in_classes = Enrolment.class_id.in_(class_ids)
    # Each guardianship asks whether its child is in the classes (EXISTS, one lookup by
    # the enrolment's student). An IN list of the students would have SQLite probe the
    # guardianships' (parent, child) key once per guardian and student of the school.
    guardians = (
        select(Guardianship.parent_id.label("person_id"),
               Guardianship.child_id.label("child_id"))
        .join(student, student.id == Guardianship.child_id)
        .join(guardian, guardian.id == Guardianship.parent_id)
        .where(exists().where(Enrolment.student_id == Guardianship.child_id, in_classes),
               student.school_id == school_id, guardian.school_id == school_id,
               Guardianship.parent_id.in_(consents))
    )
    students = (
        select(Enrolment.student_id.label("person_id"), Enrolment.student_id.label("child_id"))
        .join(student, student.id == Enrolment.student_id)
        .where(in_classes, student.school_id == school_id,
               Enrolment.student_id.in_(consents),
               Enrolment.student_id.in_(select(ChannelPreference.person_id).where(
                   ChannelPreference.kind == kind, ChannelPreference.mode != Mode.OFF)))
    )
    pairs = union_all(guardians, students).subquery()
    # The child it concerns when that is one child (digests group by child).
    child = case((func.count(distinct(pairs.c.child_id)) == 1, func.min(pairs.c.child_id)),
                 else_=null())
    return select(pairs.c.person_id, child.label("child_id")).group_by(pairs.c.person_id)


async def person_if_consenting(session: AsyncSession, school_id: int, person_id: int) -> bool:
    """A person told about their own things (a moderation decision, a forum reply)."""
    person = await session.get(Person, person_id)
    if person is None or person.school_id != school_id:
        return False
    return bool(await consenting(session, [person_id], ConsentPurpose.NOTIFICATIONS))


async def _opted_in(
    session: AsyncSession, student_ids: list[int], kind: NotificationKind
) -> set[int]:
    if not student_ids:
        return set()
    return set(
        await session.scalars(
            select(ChannelPreference.person_id).where(
                ChannelPreference.person_id.in_(student_ids),
                ChannelPreference.kind == kind,
                ChannelPreference.mode != Mode.OFF,
            )
        )
    )
