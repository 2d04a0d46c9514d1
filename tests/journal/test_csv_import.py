"""CSV files from the school's journal (hub.journal.csv_import) and the `hub import
grades|attendance FILE.csv` command: the API's rules, errors by line, all or nothing."""

from __future__ import annotations

import argparse
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
