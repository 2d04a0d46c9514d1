"""Fixtures for the moderators' queue: a fake moderated target, people, held items."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import moderation
from hub.db import Database
from hub.school import Person, Role
from moderation import queue
from moderation.targets import register_target
from tests.moderation.fake_target import FakeTarget
from tests.support.school import SchoolBuilder


@pytest.fixture
def notes() -> FakeTarget:
    target = FakeTarget()
    register_target(target)
    return target


@dataclass
class Cast:
    moderator: Person
    moderator2: Person
    coordinator: Person
    sysadmin: Person
    parent: Person
    parent2: Person
    parent3: Person
    parent4: Person


@pytest.fixture
async def cast(school: SchoolBuilder) -> Cast:
    child = await school.student("5А", last_name="Петрова", first_name="Маша")
    parents = [
        await school.parent_of(child, login=f"parent{i}", last_name=f"Родитель{i}",
                               first_name="Анна")
        for i in range(1, 5)
    ]
    return Cast(
        moderator=await school.person(Role.MODERATOR, login="mod", last_name="Модераторова",
                                      first_name="Ольга"),
        moderator2=await school.person(Role.MODERATOR, login="mod2", last_name="Смирнов",
                                       first_name="Пётр"),
        coordinator=await school.person(Role.COORDINATOR, login="coord",
                                        last_name="Координаторов", first_name="Илья"),
        sysadmin=await school.person(Role.SYSADMIN, login="admin", last_name="Админов",
                                     first_name="Сергей"),
        parent=parents[0], parent2=parents[1], parent3=parents[2], parent4=parents[3],
    )


async def held(db: Database, notes: FakeTarget, school_id: int, author_id: int, text: str,
               *, title: str = "") -> int:
    """A message screened as abusive and put in the queue, as the forum does it."""
    verdict = moderation.check(text, title=title)
    assert verdict.action is moderation.Action.HOLD
    note_id = notes.add(school_id, author_id, text, title=title)
    async with db.transaction() as session:
        item = await queue.hold(session, school_id=school_id, kind="note", target_id=note_id,
                                author_id=author_id, verdict=verdict)
    return item.id
