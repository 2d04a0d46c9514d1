"""A small school for the forum's tests: 5А and 5Б, a teacher of 5А, parents and students."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from hub import events
from hub.db import Database
from hub.school import Person, Role
from moderation.watched import add_word
from tests.support.school import SchoolBuilder


@dataclass
class Cast:
    school: SchoolBuilder
    teacher_5a: Person
    teacher_5b: Person
    student_5a: Person
    student_5b: Person
    parent_5a: Person
    parent_5b: Person
    coordinator: Person
    moderator: Person


@pytest.fixture
async def cast(school: SchoolBuilder) -> Cast:
    await school.school_class("5А")
    await school.school_class("5Б")
    student_5a = await school.student("5А", login="student5a", last_name="Петров",
                                      first_name="Пётр")
    student_5b = await school.student("5Б", login="student5b", last_name="Сидоров",
                                      first_name="Сидор")
    return Cast(
        school=school,
        teacher_5a=await school.teacher_of("5А", login="teacher5a", last_name="Учителева",
                                           first_name="Анна"),
        teacher_5b=await school.teacher_of("5Б", login="teacher5b", last_name="Борисова",
                                           first_name="Вера"),
        student_5a=student_5a,
        student_5b=student_5b,
        parent_5a=await school.parent_of(student_5a, login="parent5a", last_name="Петрова",
                                         first_name="Мария"),
        parent_5b=await school.parent_of(student_5b, login="parent5b", last_name="Сидорова",
                                         first_name="Ольга"),
        coordinator=await school.person(Role.COORDINATOR, login="coord", last_name="Главная",
                                        first_name="Елена"),
        moderator=await school.person(Role.MODERATOR, login="moder", last_name="Строгий",
                                      first_name="Олег"),
    )


Capture = Callable[[type[events.Event]], list[events.Event]]


@pytest.fixture
def captured(db: Database) -> Capture:
    """captured(EventType) -> the list the events of that type are appended to."""

    def capture(event_type: type[events.Event]) -> list[events.Event]:
        seen: list[events.Event] = []

        async def handler(session: object, event: events.Event) -> None:
            seen.append(event)

        db.handlers.on(event_type, handler)  # type: ignore[arg-type]
        return seen

    return capture


async def watch_word(db: Database, school_id: int, pattern: str, action: str) -> None:
    async with db.transaction() as session:
        await add_word(session, school_id=school_id, pattern=pattern, action=action,
                       created_by=None)
