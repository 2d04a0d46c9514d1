"""CSV files from the school's journal (hub.journal.csv_import) and the `hub import
grades|attendance FILE.csv` command: the API's rules, errors by line, all or nothing."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hub.commands.import_journal import cmd_import_journal
from hub.compose import database
from hub.config import Settings
from hub.db import Database
from hub.events import Event
from hub.journal.csv_import import import_journal
from hub.journal.errors import ImportRejected
from hub.journal.models import Attendance, AttendanceStatus, Grade
from tests.journal.conftest import Journal5A
from tests.support.clock import YESTERDAY
from tests.support.school import SchoolBuilder

MSK = ZoneInfo("Europe/Moscow")
DAY = YESTERDAY


async def test_grades_file_imported_once_then_corrected(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    text = (
        "source_id;student;class;subject;date;value;work_type;comment\n"
        f"G-1;S-1;5А;Математика;{DAY:%d.%m.%Y};5;контрольная;молодец\n"
        f"G-2;S-1;5А;Математика;{DAY.isoformat()};4;;\n"
    )
    result = await import_journal(db, school.school_id, "grades", text, tz=MSK)
    assert (result.created, result.unchanged) == (2, 0)
    again = await import_journal(db, school.school_id, "grades", text, tz=MSK)
    assert (again.created, again.unchanged) == (0, 2)
    fixed = await import_journal(db, school.school_id, "grades",
                                 text.replace(";5;контрольная", ";3;контрольная"), tz=MSK)
    assert fixed.updated == 1
    async with db.session() as session:
        rows = await session.execute(select(Grade.source_id, Grade.value, Grade.work_type))
        values = sorted(tuple(r) for r in rows)
    assert values == [("G-1", 3, "контрольная"), ("G-2", 4, None)]
    assert len(emitted) == 3


async def test_errors_are_reported_by_line_and_nothing_is_stored(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    text = (
        "id,ученик,предмет,дата,оценка\n"
        f"G-1,S-1,Математика,{DAY.isoformat()},5\n"
        f"G-2,S-1,Математика,{DAY.isoformat()},7\n"
        f"G-3,NOBODY,Математика,{DAY.isoformat()},4\n"
        f"G-4,S-1,Математика,позавчера,4\n"
        f"G-1,S-1,Математика,{DAY.isoformat()},4\n"
    )
    with pytest.raises(ImportRejected) as caught:
        await import_journal(db, school.school_id, "grades", text, tz=MSK)
    assert [(e.line, e.column) for e in caught.value.errors] == [
        (3, "value"), (4, "student"), (5, "date"), (6, "source_id")]
    assert caught.value.status == 422
    assert [(d["line"], d["field"]) for d in caught.value.details] == [
        (3, "value"), (4, "student"), (5, "date"), (6, "source_id")]
    async with db.session() as session:
        assert (await session.scalars(select(Grade))).all() == []


async def test_missing_columns_named(db: Database, school: SchoolBuilder) -> None:
    with pytest.raises(ImportRejected) as caught:
        await import_journal(db, school.school_id, "attendance", "source_id,date\n", tz=MSK)
    assert "status" in caught.value.errors[0].message
    with pytest.raises(ImportRejected) as caught:
        await import_journal(db, school.school_id, "grades",
                             "source_id,student,subject,date,value,mark\n", tz=MSK)
    assert caught.value.errors[0].message == "неизвестные столбцы: mark"


async def test_attendance_command(
    sqlite_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    school = await SchoolBuilder(sqlite_db).start()
    student = await school.student("5А")
    path = tmp_path / "marks.csv"
    path.write_text(
        "source_id,student_id,date,lesson,status,comment\n"
        f"A-1,{student.id},{DAY.isoformat()},2,н,\n"
        f"A-2,{student.id},{DAY.isoformat()},3,опоздал,на 5 минут\n",
        encoding="utf-8-sig",
    )

    async def same_database(_settings: Settings) -> Database:
        return database(sqlite_db.url)

    monkeypatch.setattr("hub.commands.import_journal.open_database", same_database)
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40)
    args = argparse.Namespace(file=path, school=None, journal_kind="attendance")
    assert await cmd_import_journal(settings, args) == 0
    assert "создано 2" in capsys.readouterr().out
    async with sqlite_db.session() as session:
        rows = await session.execute(select(Attendance.lesson_number, Attendance.status))
        marks = sorted(tuple(r) for r in rows)
    assert marks == [(2, AttendanceStatus.ABSENT), (3, AttendanceStatus.LATE)]

    path.write_text("source_id,student_id,date,status\nA-3,1,2020-01-01,н\n")
    assert await cmd_import_journal(settings, args) == 1
    assert "строка 2: date" in capsys.readouterr().err


async def test_the_import_command_notifies_exactly_like_the_api(tmp_path: Path) -> None:
    """The real `hub import grades` process, on a migrated database: the notices and
    deliveries it makes are the ones the JSON API makes for the same grade."""
    from hub import migrate
    from hub.journal.inputs import GradeInput, StudentRef
    from hub.journal.models import Source
    from hub.journal.record import record_grades
    from hub.notify.models import Delivery, Notification
    from tests.journal.conftest import journal_token

    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    db = database(url)
    try:
        await migrate.upgrade(db)
        school = await SchoolBuilder(db).start()
        alice = await school.student("5А", last_name="Алексеева", first_name="Алиса")
        await school.parent_of(alice, last_name="Алексеев", first_name="Пётр",
                               email="petr@example.test")
        path = tmp_path / "grades.csv"
        path.write_text("source_id,student_id,subject,date,value\n"
                        f"C-1,{alice.id},Математика,{DAY.isoformat()},5\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
            "HUB_DATABASE_URL": url, "HUB_DATA_DIR": str(tmp_path / "var"),
            "HUB_SECRET_KEY": "test-secret-key-" + "x" * 32,
        }
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("hub")), "import", "grades", str(path),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert "создано 1" in out.decode()
        async with db.transaction() as session:
            await record_grades(session, school.school_id, [GradeInput(
                student=StudentRef(person_id=alice.id), subject="Математика",
                lesson_date=DAY, value=5, source_id="A-1",
            )], by=journal_token(school.school_id), source=Source.API)

        async with db.session() as session:
            ids = dict((source_id, grade_id) for source_id, grade_id in await session.execute(
                select(Grade.source_id, Grade.id)))

            async def notices(grade_id: int) -> list[tuple[object, ...]]:
                rows = await session.execute(
                    select(Notification.person_id, Notification.child_id, Notification.kind,
                           Notification.title, Notification.body, Notification.url,
                           Delivery.channel)
                    .join(Delivery, Delivery.notification_id == Notification.id)
                    .where(Notification.source_kind == "grade",
                           Notification.source_id == grade_id))
                # Each notice links to its own grade (…#grade-N): compare the rest.
                return sorted((*r[:5], str(r[5]).split("#")[0], *r[6:]) for r in rows)

            from_cli, from_api = await notices(ids["C-1"]), await notices(ids["A-1"])
        assert from_cli and from_cli == from_api
    finally:
        await db.dispose()


async def test_records_stored_without_notices_are_notified_after_the_fact(
    sqlite_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.commands.notify_missing import cmd_notify_missing
    from hub.notify.models import Notification

    school = await SchoolBuilder(sqlite_db).start()
    alice = await school.student("5А")
    await school.parent_of(alice, email="parent@example.test")
    text = ("source_id,student_id,subject,date,value\n"
            f"C-1,{alice.id},Математика,{DAY.isoformat()},5\n"
            f"C-2,{alice.id},Математика,{DAY.isoformat()},4\n")
    silent = Database(sqlite_db.url)  # as the import once ran: no notification handlers
    try:
        await import_journal(silent, school.school_id, "grades", text, tz=MSK)
    finally:
        await silent.dispose()

    async def same_database(_settings: Settings) -> Database:
        return database(sqlite_db.url)

    monkeypatch.setattr("hub.commands.notify_missing.open_database", same_database)
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40)
    args = argparse.Namespace(journal_kind="grades", school=None, since=None)
    assert await cmd_notify_missing(settings, args) == 0
    assert capsys.readouterr().out.strip().endswith(": 2")

    async def told() -> list[tuple[int, str]]:
        async with sqlite_db.session() as session:
            rows = await session.execute(select(Notification.person_id, Notification.title))
            return sorted(tuple(r) for r in rows)  # type: ignore[misc]

    first = await told()
    assert sorted({title for _, title in first}) == [
        "Оценка 4 по предмету «Математика»", "Оценка 5 по предмету «Математика»"]
    assert await cmd_notify_missing(settings, args) == 0  # a second run tells no one again
    assert capsys.readouterr().out.strip().endswith(": 0")
    assert await told() == first


async def test_a_nul_in_any_field_is_a_line_error(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    text = (
        "source_id;student;subject;date;value;comment\n"
        f"G-1;S-1;Математика;{DAY.isoformat()};5;ok\n"
        f"G-2;S-1;Матем\x00атика;{DAY.isoformat()};4;\n"
        f"G-3;S-1;Математика;{DAY.isoformat()};4;a\x00b\n"
    )
    with pytest.raises(ImportRejected) as caught:
        await import_journal(db, school.school_id, "grades", text, tz=MSK)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "subject"), (4, "comment")]
    assert "NUL" in caught.value.errors[0].message
    async with db.session() as session:
        assert (await session.scalars(select(Grade))).all() == []
