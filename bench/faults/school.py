"""The school of a scenario: students each with a consenting parent, and their grades posted
through the journal's record routine (as the API does)."""

from __future__ import annotations

import datetime as dt

from hub import migrate
from hub.compose import database
from hub.db import Database
from hub.journal.inputs import GradeInput, StudentRef
from hub.journal.models import Source
from hub.journal.record import record_grades
from hub.school import (
    ConsentPurpose,
    Role,
    add_guardianship,
    create_person,
    create_school,
    enrol,
    get_or_create_class,
    record_consent,
)


async def school_with_grades(url: str, count: int, *, email: bool = True) -> Database:
    """A migrated database, `count` students each with a consenting parent, and one grade
    each posted through the journal's record routine (as the API does)."""
    db = database(url)
    await migrate.upgrade(db)
    async with db.transaction() as session:
        school = await create_school(session, "Школа № 1", "school1")
        school_class = await get_or_create_class(session, school.id, "5А")
        students = []
        for n in range(count):
            child = await create_person(session, school.id, last_name=f"Ученик{n}",
                                        first_name="Иван", roles=[Role.STUDENT])
            await enrol(session, child, school_class)
            parent = await create_person(
                session, school.id, last_name=f"Родитель{n}", first_name="Анна",
                email=f"parent{n}@example.test" if email else None, roles=[Role.PARENT])
            await add_guardianship(session, parent, child)
            await record_consent(session, parent, ConsentPurpose.NOTIFICATIONS)
            students.append(child.id)
    db.school_id = school.id  # type: ignore[attr-defined]
    db.students = students  # type: ignore[attr-defined]
    return db


async def post_grades(db: Database, *, value: int = 5, prefix: str = "g") -> None:
    day = dt.date.today() - dt.timedelta(days=1)
    students: list[int] = db.students  # type: ignore[attr-defined]
    for start in range(0, len(students), 500):
        async with db.transaction() as session:
            await record_grades(session, db.school_id, [  # type: ignore[attr-defined]
                GradeInput(student=StudentRef(person_id=s), subject="Математика",
                           lesson_date=day, value=value, source_id=f"{prefix}-{s}")
                for s in students[start:start + 500]
            ], by=None, source=Source.CSV)
