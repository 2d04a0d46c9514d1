"""Fixtures for the pipeline's tests: a small school with consenting parents, a test
channel that records what it is asked to send, the SMTP sink."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.auth.access import Principal, TokenScope
from hub.db import Database
from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
from hub.journal.models import AttendanceStatus, Source
from hub.journal.record import record_attendance, record_grades
from hub.school import Person
from tests.notify.doubles import RecordingChannel
from tests.support.clock import YESTERDAY
from tests.support.school import SchoolBuilder
from tests.support.smtp import smtp_sink  # noqa: F401


@dataclass
class Family:
    teacher: Person  # teaches Математика in 5А, login "teacher"
    alice: Person  # 5А
    boris: Person  # 5А
    vera: Person  # 5Б
    anna: Person  # Alice's and Boris's mother, login "anna", anna@example.test
    pavel: Person  # Alice's father, no notification consent
    nina: Person  # Vera's mother, login "nina"


@pytest.fixture
async def family(school: SchoolBuilder) -> Family:
    teacher = await school.teacher_of("5А", login="teacher", last_name="Учителева")
    alice = await school.student("5А", last_name="Смирнова", first_name="Алиса", login="alice",
                                 email="alice@example.test")
    boris = await school.student("5А", last_name="Смирнов", first_name="Борис")
    vera = await school.student("5Б", last_name="Петрова", first_name="Вера")
    anna = await school.parent_of(alice, boris, login="anna", last_name="Смирнова",
                                  first_name="Анна", email="anna@example.test")
    pavel = await school.parent_of(alice, last_name="Смирнов", first_name="Павел",
                                   email="pavel@example.test", consent=False)
    nina = await school.parent_of(vera, login="nina", last_name="Петрова", first_name="Нина",
                                  email="nina@example.test")
    return Family(teacher, alice, boris, vera, anna, pavel, nina)


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


def journal_token(school_id: int) -> Principal:
    return Principal(school_id=school_id, person_id=None, token_id=1,
                     token_scopes=frozenset({TokenScope.JOURNAL}))


async def post_grade(db: Database, school_id: int, student: Person, value: int,
                     source_id: str, subject: str = "Математика") -> None:
    await post_grades(db, school_id, [(student, value, source_id)], subject)


async def post_grades(db: Database, school_id: int, grades: list[tuple[Person, int, str]],
                      subject: str = "Математика") -> None:
    """A batch from the journal, in one transaction."""
    async with db.transaction() as session:
        await record_grades(session, school_id, [
            GradeInput(student=StudentRef(person_id=student.id), subject=subject,
                       lesson_date=YESTERDAY, value=value, source_id=source_id)
            for student, value, source_id in grades
        ], by=journal_token(school_id), source=Source.API)


async def mark_absent(db: Database, school_id: int, student: Person, source_id: str) -> None:
    async with db.transaction() as session:
        await record_attendance(session, school_id, [AttendanceInput(
            student=StudentRef(person_id=student.id), lesson_date=YESTERDAY,
            status=AttendanceStatus.ABSENT, source_id=source_id, subject="Математика",
        )], by=journal_token(school_id), source=Source.API)
