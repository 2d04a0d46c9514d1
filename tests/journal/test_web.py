"""The journal's pages (hub.journal.web): the teacher's grid (/journal), what they entered
(/journal/entered) and the parents' view (/children), through HTTP."""

from __future__ import annotations

import datetime as dt

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hub.db import Database
from hub.events import Event
from hub.journal.models import Attendance, AttendanceStatus, Grade
from tests.journal.conftest import Journal5A
from tests.support.clock import YESTERDAY
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in

DAY = YESTERDAY


def lesson(journal: Journal5A, **cells: str) -> dict[str, str]:
    return {"class": str(journal.class_id), "subject": "Математика",
            "date": DAY.isoformat(), **cells}


async def stored(db: Database) -> tuple[list[tuple], list[tuple]]:
    async with db.session() as session:
        grades = sorted(tuple(r) for r in await session.execute(
            select(Grade.student_id, Grade.value, Grade.work_type, Grade.teacher_id)))
        marks = sorted(tuple(r) for r in await session.execute(
            select(Attendance.student_id, Attendance.status)))
    return grades, marks


async def test_teacher_fills_the_grid_once_and_parent_sees_it(
    client: TestClient, db: Database, journal: Journal5A, emitted: list[Event]
) -> None:
    await sign_in(client, "teacher")
    page = await client.get("/journal")
    text = await page.text()
    assert page.status == 200 and "5А" in text and "5Б" not in text

    grid = await client.get("/journal", params=lesson(journal))
    text = await grid.text()
    assert "Алексеева Алиса" in text and "Борисов Борис" in text
    assert "Васильева" not in text

    cells = lesson(journal, **{
        f"att_{journal.alice.id}": "present", f"grade_{journal.alice.id}": "5",
        f"work_{journal.alice.id}": "диктант", f"comment_{journal.alice.id}": "",
        f"att_{journal.boris.id}": "absent", f"grade_{journal.boris.id}": "",
    })
    saved = await post_form(client, "/journal", cells)
    assert saved.status == 303, await saved.text()
    assert (await stored(db)) == (
        [(journal.alice.id, 5, "диктант", journal.teacher.id)],
        [(journal.boris.id, AttendanceStatus.ABSENT)],
    )
    assert len(emitted) == 2

    # Saving the same grid again changes nothing and tells no one again.
    assert (await post_form(client, "/journal", cells)).status == 303
    assert len(emitted) == 2
    reopened = await (await client.get(saved.headers["Location"])).text()
    assert "Сохранено" in reopened and 'value="диктант"' in reopened

    await sign_in(client, "boris.parent")
    children = await (await client.get("/children")).text()
    assert "Борисов Борис" in children and "отсутствовал" in children
    assert "Алексеева" not in children and "диктант" not in children

    await sign_in(client, "alice.parent")
    children = await (await client.get("/children")).text()
    assert "Алексеева Алиса" in children and "диктант" in children
    assert "Борисов" not in children


async def test_correction_and_clearing_from_the_grid(
    client: TestClient, db: Database, journal: Journal5A, emitted: list[Event]
) -> None:
    await sign_in(client, "teacher")
    alice = journal.alice.id
    await post_form(client, "/journal", lesson(
        journal, **{f"att_{alice}": "late", f"grade_{alice}": "3"}))
    await post_form(client, "/journal", lesson(
        journal, **{f"att_{alice}": "present", f"grade_{alice}": "4"}))
    grades, marks = await stored(db)
    assert [g[:2] for g in grades] == [(alice, 4)]
    assert marks == [(alice, AttendanceStatus.PRESENT)]
    assert [e.corrected for e in emitted] == [False, False, True, True]

    await post_form(client, "/journal", lesson(journal, **{f"att_{alice}": "present",
                                                            f"grade_{alice}": ""}))
    assert (await stored(db))[0] == []
    await sign_in(client, "alice.parent")
    children = await (await client.get("/children")).text()
    assert "Оценок пока нет" in children and "Пропусков нет" in children


async def test_bad_grid_stores_nothing_and_keeps_what_was_typed(
    client: TestClient, db: Database, journal: Journal5A
) -> None:
    await sign_in(client, "teacher")
    cells = lesson(journal, **{
        f"att_{journal.boris.id}": "absent",
        f"grade_{journal.alice.id}": "5",
        f"comment_{journal.alice.id}": "х" * 600,
    })
    response = await post_form(client, "/journal", cells)
    assert response.status == 422
    text = await response.text()
    assert "Ничего не сохранено" in text and "Алексеева Алиса: комментарий длиннее" in text
    assert 'value="absent" checked' in text
    assert await stored(db) == ([], [])

    future = {**cells, "date": (DAY + dt.timedelta(days=3)).isoformat()}
    future[f"comment_{journal.alice.id}"] = ""
    response = await post_form(client, "/journal", future)
    assert response.status == 422 and "будущую дату" in await response.text()
    assert await stored(db) == ([], [])


async def test_teacher_cannot_open_or_fill_another_class(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    await sign_in(client, "teacher5b")
    assert (await client.get("/journal", params=lesson(journal))).status == 403
    response = await post_form(client, "/journal", lesson(
        journal, **{f"grade_{journal.alice.id}": "2"}))
    assert response.status == 403
    assert await stored(db) == ([], [])

    await sign_in(client, "alice.parent")
    assert (await client.get("/journal")).status == 403


async def test_coordinator_enters_in_any_class(
    client: TestClient, db: Database, journal: Journal5A, coordinator: object
) -> None:
    await sign_in(client, "coordinator")
    page = await (await client.get("/journal")).text()
    assert "5А" in page and "5Б" in page
    response = await post_form(client, "/journal", lesson(
        journal, **{f"grade_{journal.boris.id}": "4"}))
    assert response.status == 303
    assert [g[:2] for g in (await stored(db))[0]] == [(journal.boris.id, 4)]


async def test_student_sees_own_grades_only(
    client: TestClient, db: Database, journal: Journal5A
) -> None:
    await sign_in(client, "teacher")
    await post_form(client, "/journal", lesson(journal, **{
        f"grade_{journal.alice.id}": "5", f"grade_{journal.boris.id}": "2"}))
    await sign_in(client, "alice")
    page = await (await client.get("/children")).text()
    assert "Алексеева Алиса" in page and "Борисов" not in page
    await sign_in(client, "teacher")
    assert (await client.get("/children")).status == 403


async def test_teacher_lists_only_what_they_entered(
    client: TestClient, db: Database, journal: Journal5A
) -> None:
    await sign_in(client, "teacher")
    await post_form(client, "/journal", lesson(journal, **{
        f"grade_{journal.alice.id}": "4", f"work_{journal.alice.id}": "устный ответ",
        f"att_{journal.boris.id}": "late"}))
    page = await (await client.get("/journal/entered")).text()
    assert "устный ответ" in page and "опоздал(а)" in page
    assert "Алексеева Алиса" in page and "Борисов Борис" in page

    await sign_in(client, "teacher5b")
    page = await (await client.get("/journal/entered")).text()
    assert "Вы ещё ничего не вводили" in page
    await sign_in(client, "alice.parent")
    assert (await client.get("/journal/entered")).status == 403


async def test_grid_shows_what_the_journal_sent_for_the_lesson(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    from hub.auth.access import Principal, TokenScope
    from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
    from hub.journal.models import Source
    from hub.journal.record import record_attendance, record_grades

    token = Principal(school_id=school.school_id, person_id=None, token_id=1,
                      token_scopes=frozenset({TokenScope.JOURNAL}))
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [GradeInput(
            student=StudentRef(person_id=journal.alice.id), subject="Математика",
            lesson_date=DAY, value=3, source_id="J-1", work_type="контрольная")],
            by=token, source=Source.API)
        await record_attendance(session, school.school_id, [AttendanceInput(
            student=StudentRef(person_id=journal.boris.id), lesson_date=DAY,
            status=AttendanceStatus.SICK, source_id="J-2")], by=token, source=Source.API)
    await sign_in(client, "teacher")
    page = await (await client.get("/journal", params=lesson(journal))).text()
    assert "из журнала: 3 (контрольная)" in page and "из журнала: болел(а)" in page
