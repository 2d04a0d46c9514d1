"""A small school for the journal's tests, a recorder of the events it emits, and the
items the tests record."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.auth.access import Principal, TokenScope
from hub.db import Database
from hub.events import AttendanceMarked, Event, GradePosted
from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
from hub.journal.models import AttendanceStatus
from hub.school import Person, Role
from tests.support.clock import YESTERDAY
from tests.support.school import SchoolBuilder
from tests.support.smtp import smtp_sink  # noqa: F401


@dataclass
class Journal5A:
    teacher: Person  # teaches Математика in 5А, login "teacher"
    other_teacher: Person  # teaches Математика in 5Б, login "teacher5b"
    alice: Person  # 5А, external id "S-1"
    boris: Person  # 5А
    vera: Person  # 5Б
    alice_parent: Person  # login "alice.parent"
    boris_parent: Person  # login "boris.parent"
    class_id: int


@pytest.fixture
async def journal(school: SchoolBuilder) -> Journal5A:
    teacher = await school.teacher_of("5А", login="teacher", last_name="Учителева",
                                      first_name="Мария")
    other = await school.teacher_of("5Б", login="teacher5b", last_name="Другова")
    alice = await school.student("5А", last_name="Алексеева", first_name="Алиса",
                                 login="alice")
    boris = await school.student("5А", last_name="Борисов", first_name="Борис")
    vera = await school.student("5Б", last_name="Васильева", first_name="Вера")
    async with school.db.transaction() as session:
        (await session.get_one(Person, alice.id)).external_id = "S-1"
    alice_parent = await school.parent_of(alice, login="alice.parent", last_name="Алексеев",
                                          first_name="Пётр")
    boris_parent = await school.parent_of(boris, login="boris.parent", last_name="Борисова",
                                          first_name="Нина")
    return Journal5A(teacher, other, alice, boris, vera, alice_parent, boris_parent,
                     school.classes["5А"].id)


@pytest.fixture
async def coordinator(school: SchoolBuilder) -> Person:
    return await school.person(Role.COORDINATOR, login="coordinator")


@pytest.fixture
def emitted(db: Database) -> list[Event]:
    """Every GradePosted / AttendanceMarked emitted while the test runs."""
    seen: list[Event] = []

    async def record(_session: object, event: Event) -> None:
        seen.append(event)

    db.handlers.on(GradePosted, record)
    db.handlers.on(AttendanceMarked, record)
    return seen


def journal_token(school_id: int) -> Principal:
    return Principal(school_id=school_id, person_id=None, token_id=1,
                     token_scopes=frozenset({TokenScope.JOURNAL}))


def grade(student_id: int, value: int, source_id: str, **kwargs: object) -> GradeInput:
    fields: dict = {"subject": "Математика", "lesson_date": YESTERDAY} | kwargs
    return GradeInput(student=StudentRef(person_id=student_id), value=value,
                      source_id=source_id, **fields)


def mark(student_id: int, status: AttendanceStatus, source_id: str) -> AttendanceInput:
    return AttendanceInput(student=StudentRef(person_id=student_id), lesson_date=YESTERDAY,
                           status=status, source_id=source_id, subject="Математика",
                           lesson_number=2)
