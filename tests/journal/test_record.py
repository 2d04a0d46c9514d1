"""The one record routine (hub.journal.record) for grades and attendance: validation of a
whole batch, idempotent upserts, corrections."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import delete, func, select, update

from hub.db import Database
from hub.errors import TooLarge
from hub.events import AttendanceMarked, Event, GradePosted
from hub.journal.errors import JournalRejected
from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
from hub.journal.models import Attendance, AttendanceStatus, Grade, Source
from hub.journal.record import record_attendance, record_grades
from hub.school import Enrolment, TeachingAssignment
from tests.journal.conftest import Journal5A, grade, journal_token, mark
from tests.support.clock import TODAY, YESTERDAY
from tests.support.school import SchoolBuilder


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_same_batch_twice_is_stored_and_announced_once(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    batch = [grade(journal.alice.id, 5, "j-1"), grade(journal.boris.id, 3, "j-2")]
    async with db.transaction() as session:
        first = await record_grades(session, school.school_id, batch,
                                    by=journal_token(school.school_id), source=Source.API)
    async with db.transaction() as session:
        second = await record_grades(session, school.school_id, batch,
                                     by=journal_token(school.school_id), source=Source.API)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert first.ids == second.ids and all(first.ids)
    assert await count(db, Grade) == 2
    assert sorted((e.student_id, e.corrected) for e in emitted) == sorted(
        [(journal.alice.id, False), (journal.boris.id, False)])


async def test_changed_grade_is_a_correction_keeping_the_old_value(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [grade(journal.alice.id, 3, "j-1")],
                            by=None, source=Source.CSV)
    async with db.transaction() as session:
        result = await record_grades(
            session, school.school_id, [grade(journal.alice.id, 4, "j-1", comment="пересдача")],
            by=None, source=Source.CSV)
    assert (result.created, result.updated) == (0, 1)
    async with db.session() as session:
        stored = await session.scalar(select(Grade))
    assert (stored.value, stored.previous_value, stored.corrected) == (4, 3, True)
    assert stored.comment == "пересдача"
    assert [(type(e), e.corrected) for e in emitted] == [(GradePosted, False), (GradePosted, True)]


async def test_every_bad_item_is_reported_and_nothing_is_stored(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    batch = [
        grade(journal.alice.id, 5, "ok-1"),
        grade(journal.alice.id, 7, "bad-value"),
        grade(999_999, 4, "bad-student"),
        grade(journal.boris.id, 4, "bad-date", lesson_date=TODAY + dt.timedelta(days=2)),
        grade(journal.boris.id, 4, "old-date", lesson_date=TODAY - dt.timedelta(days=800)),
        grade(journal.boris.id, 4, "bad-class", class_name="5Б"),
        grade(journal.boris.id, 4, "long", comment="х" * 501),
        grade(journal.boris.id, 4, "ok-1"),
        grade(journal.boris.id, 4, "web:forged"),
    ]
    with pytest.raises(JournalRejected) as caught:
        async with db.transaction() as session:
            await record_grades(session, school.school_id, batch,
                                by=journal_token(school.school_id), source=Source.API)
    found = {(e.index, e.field) for e in caught.value.errors}
    assert found == {(1, "value"), (2, "student"), (3, "date"), (4, "date"), (5, "class"),
                     (6, "comment"), (7, "source_id"), (8, "source_id")}
    messages = {e.index: e.message for e in caught.value.errors}
    assert "оценка 7" in messages[1] and "не найден" in messages[2]
    assert "ещё не наступила" in messages[3]
    assert await count(db, Grade) == 0
    assert emitted == []


async def test_students_of_another_school_are_unknown(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    other = await SchoolBuilder(db).start("Школа № 2", "school2")
    with pytest.raises(JournalRejected) as caught:
        async with db.transaction() as session:
            await record_grades(session, other.school_id, [grade(journal.alice.id, 5, "x")],
                                by=journal_token(other.school_id), source=Source.API)
    assert [(e.index, e.field) for e in caught.value.errors] == [(0, "student")]
    assert await count(db, Grade) == 0


async def test_teacher_enters_only_in_own_class_and_subject(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    teacher = await school.principal(journal.teacher)
    batch = [
        grade(journal.alice.id, 5, "a"),
        grade(journal.vera.id, 5, "b"),  # 5Б: not theirs
        grade(journal.boris.id, 5, "c", subject="Физкультура"),  # not their subject
    ]
    with pytest.raises(JournalRejected) as caught:
        async with db.transaction() as session:
            await record_grades(session, school.school_id, batch, by=teacher,
                                source=Source.API)
    assert {(e.index, e.field) for e in caught.value.errors} == {(1, "class"), (2, "subject")}
    async with db.transaction() as session:
        result = await record_grades(session, school.school_id, batch[:1], by=teacher,
                                     source=Source.API)
    assert result.created == 1
    async with db.session() as session:
        assert (await session.scalar(select(Grade))).teacher_id == journal.teacher.id


async def test_student_by_journal_id_and_class_name(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    item = GradeInput(student=StudentRef(external_id="S-1"), subject="Математика",
                      lesson_date=YESTERDAY, value=4, source_id="ext", class_name="5а")
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [item], by=None, source=Source.CSV)
    async with db.session() as session:
        stored = await session.scalar(select(Grade))
    assert (stored.student_id, stored.class_id) == (journal.alice.id, journal.class_id)


async def test_attendance_present_clears_an_earlier_mark_only(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    async with db.transaction() as session:
        result = await record_attendance(
            session, school.school_id,
            [mark(journal.alice.id, AttendanceStatus.ABSENT, "m-1"),
             mark(journal.boris.id, AttendanceStatus.PRESENT, "m-2")],
            by=None, source=Source.CSV)
    assert (result.created, result.unchanged) == (1, 1)
    assert await count(db, Attendance) == 1  # "present" with nothing to clear stores nothing
    async with db.transaction() as session:
        result = await record_attendance(
            session, school.school_id, [mark(journal.alice.id, AttendanceStatus.PRESENT, "m-1")],
            by=None, source=Source.CSV)
    assert result.updated == 1
    async with db.session() as session:
        stored = await session.scalar(select(Attendance))
    assert (stored.status, stored.previous_status) == (
        AttendanceStatus.PRESENT, AttendanceStatus.ABSENT)
    assert [(type(e), e.corrected) for e in emitted] == [
        (AttendanceMarked, False), (AttendanceMarked, True)]


async def test_attendance_rejects_bad_lesson_number_and_batch_over_limit(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    bad = AttendanceInput(student=StudentRef(person_id=journal.alice.id), lesson_date=YESTERDAY,
                          status=AttendanceStatus.LATE, source_id="m", lesson_number=15)
    with pytest.raises(JournalRejected) as caught:
        async with db.transaction() as session:
            await record_attendance(session, school.school_id, [bad], by=None,
                                    source=Source.CSV)
    assert [e.field for e in caught.value.errors] == ["lesson"]
    assert caught.value.status == 422
    assert caught.value.details == [{"index": 0, "field": "lesson",
                                     "message": "номер урока 15: допустимо 1–12"}]
    many = [mark(journal.alice.id, AttendanceStatus.LATE, f"m-{i}") for i in range(1001)]
    with pytest.raises(TooLarge) as too_many:
        async with db.transaction() as session:
            await record_attendance(session, school.school_id, many, by=None,
                                    source=Source.CSV)
    assert too_many.value.status == 413 and "не больше 1000" in too_many.value.message
    assert await count(db, Attendance) == 0


async def test_five_concurrent_identical_corrections_are_stored_and_announced_once(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    marks = 40
    async with db.transaction() as session:
        await record_grades(session, school.school_id,
                            [grade(journal.alice.id, 3, f"j-{n}") for n in range(marks)],
                            by=journal_token(school.school_id), source=Source.API)
    correction = [grade(journal.alice.id, 5, f"j-{n}") for n in range(marks)]

    async def send() -> tuple[int, int]:
        async with db.transaction() as session:
            result = await record_grades(session, school.school_id, correction,
                                         by=journal_token(school.school_id), source=Source.API)
        return result.updated, result.unchanged

    results = await asyncio.gather(*(send() for _ in range(5)))
    assert sum(updated for updated, _ in results) == marks
    assert sum(unchanged for _, unchanged in results) == 4 * marks
    corrections = [e for e in emitted if isinstance(e, GradePosted) and e.corrected]
    assert len(corrections) == marks
    async with db.session() as session:
        stored = list(await session.scalars(select(Grade)))
    assert {(g.value, g.previous_value, g.corrected) for g in stored} == {(5, 3, True)}


async def test_a_source_id_keeps_its_student(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    teacher = await school.principal(journal.teacher)
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [grade(journal.alice.id, 5, "t-1")],
                            by=teacher, source=Source.API)
    with pytest.raises(JournalRejected) as caught:
        async with db.transaction() as session:
            await record_grades(session, school.school_id, [grade(journal.boris.id, 2, "t-1")],
                                by=teacher, source=Source.API)
    assert [(e.index, e.field) for e in caught.value.errors] == [(0, "student")]
    async with db.session() as session:
        assert (await session.execute(select(Grade.student_id, Grade.value))).all() == [
            (journal.alice.id, 5)]
    assert len(emitted) == 1


async def test_an_update_is_authorised_against_the_stored_record(
    db: Database, school: SchoolBuilder, journal: Journal5A, emitted: list[Event]
) -> None:
    both = await school.teacher_of("5А", "5Б", login="both")
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [grade(journal.vera.id, 5, "v-1")],
                            by=await school.principal(both), source=Source.API)
    async with db.transaction() as session:  # no longer teaches 5Б; Vera moved to 5А
        await session.execute(delete(TeachingAssignment).where(
            TeachingAssignment.teacher_id == both.id,
            TeachingAssignment.class_id == school.classes["5Б"].id))
        await session.execute(update(Enrolment).where(Enrolment.student_id == journal.vera.id)
                              .values(class_id=journal.class_id))
    teacher = await school.principal(both)
    with pytest.raises(JournalRejected) as caught:
        async with db.transaction() as session:
            await record_grades(session, school.school_id, [grade(journal.vera.id, 2, "v-1")],
                                by=teacher, source=Source.API)
    async with db.transaction() as session:
        await session.execute(update(Enrolment).where(Enrolment.student_id == journal.vera.id)
                              .values(class_id=school.classes["5Б"].id))
    with pytest.raises(JournalRejected) as unknown:
        async with db.transaction() as session:
            await record_grades(session, school.school_id, [grade(journal.vera.id, 2, "v-2")],
                                by=teacher, source=Source.API)
    assert caught.value.details == unknown.value.details  # the same refusal, stored or not
    async with db.session() as session:
        assert (await session.execute(select(Grade.value, Grade.corrected))).all() == [
            (5, False)]
    assert len(emitted) == 1


async def test_each_source_has_its_own_source_ids(
    db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    teacher = await school.principal(journal.teacher)
    sources = [(journal_token(school.school_id), Source.API, 5), (teacher, Source.API, 4),
               (None, Source.CSV, 3)]
    for by, source, value in sources:
        async with db.transaction() as session:
            result = await record_grades(session, school.school_id,
                                         [grade(journal.alice.id, value, "same")],
                                         by=by, source=source)
        assert result.created == 1
    async with db.session() as session:
        rows = (await session.execute(
            select(Grade.source_key, Grade.value).order_by(Grade.id))).all()
    assert rows == [("token:1", 5), (f"teacher:{journal.teacher.id}", 4), ("csv", 3)]
