"""Storing a batch of grades or attendance marks: one routine for both.

`record` checks the whole batch (hub.journal.checks) and stores nothing if any item is
wrong, then upserts by `source_id`: a new item is inserted and announced, an identical one
changes nothing, a changed one is corrected (the value people were told before is kept)
and announced as a correction. What differs between grades and marks is small and lives
in a `Kind`: which fields are checked, which columns an item fills, which value a
correction keeps, which event announces a record, and which new items are not stored at
all ("present" with no earlier mark to clear).

A correction is a compare-and-set: the row changes only if it still holds the values that
were read, and only the request whose update took announces it. Five clients sending the
same correction at once store it once and tell the parents once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.auth.access import Principal
from hub.db import changed_rows
from hub.events import AttendanceMarked, Event, GradePosted, emit
from hub.journal.checks import Checker, check_size, resolve_or_reject
from hub.journal.inputs import AttendanceInput, BatchResult, GradeInput
from hub.journal.models import (
    MAX_COMMENT,
    MAX_SUBJECT,
    MAX_WORK_TYPE,
    Attendance,
    AttendanceStatus,
    Grade,
    Source,
)
from hub.journal.sources import source_key, stored_for_update

DEFAULT_TZ = ZoneInfo("Europe/Moscow")

Item = TypeVar("Item", GradeInput, AttendanceInput)
Row = TypeVar("Row", Grade, Attendance)


@dataclass(frozen=True)
class Kind(Generic[Item, Row]):
    """What `record` needs to know about one kind of record."""

    model: type[Row]
    check: Callable[[Checker, int, Item], None]  # the kind's own fields
    values: Callable[[Item, int], dict[str, Any]]  # the columns an item sets (student id given)
    tracked: str  # the column whose earlier value a correction keeps in previous_<tracked>
    announce: Callable[[int, Row, bool], Event]  # (school id, record, corrected)
    stores_new: Callable[[Item], bool] = lambda _item: True


def _check_grade(checker: Checker, index: int, item: GradeInput) -> None:
    if not 2 <= item.value <= 5:
        checker.add(index, "value", f"оценка {item.value}: допустимы 2, 3, 4, 5")
    if not item.subject:
        checker.add(index, "subject", "не указан предмет")
    checker.text(index, "subject", item.subject, MAX_SUBJECT, "предмет")
    checker.text(index, "work_type", item.work_type, MAX_WORK_TYPE, "вид работы")
    checker.text(index, "comment", item.comment, MAX_COMMENT, "комментарий")


def _check_mark(checker: Checker, index: int, item: AttendanceInput) -> None:
    if item.lesson_number is not None and not 1 <= item.lesson_number <= 12:
        checker.add(index, "lesson", f"номер урока {item.lesson_number}: допустимо 1–12")
    checker.text(index, "subject", item.subject, MAX_SUBJECT, "предмет")
    checker.text(index, "comment", item.comment, MAX_COMMENT, "комментарий")


GRADES: Kind[GradeInput, Grade] = Kind(
    model=Grade,
    check=_check_grade,
    values=lambda item, student_id: {
        "student_id": student_id,
        "subject": item.subject,
        "lesson_date": item.lesson_date,
        "value": item.value,
        "work_type": item.work_type or None,
        "comment": item.comment or None,
    },
    tracked="value",
    announce=lambda school_id, grade, corrected: GradePosted(
        school_id=school_id, grade_id=grade.id, student_id=grade.student_id,
        corrected=corrected),
)

ATTENDANCE: Kind[AttendanceInput, Attendance] = Kind(
    model=Attendance,
    check=_check_mark,
    values=lambda item, student_id: {
        "student_id": student_id,
        "lesson_date": item.lesson_date,
        "subject": item.subject or None,
        "lesson_number": item.lesson_number,
        "status": item.status,
        "comment": item.comment or None,
    },
    tracked="status",
    announce=lambda school_id, mark, corrected: AttendanceMarked(
        school_id=school_id, attendance_id=mark.id, student_id=mark.student_id,
        corrected=corrected),
    stores_new=lambda item: item.status is not AttendanceStatus.PRESENT,  # nothing to clear
)


async def record(
    session: AsyncSession,
    kind: Kind[Item, Row],
    school_id: int,
    items: Sequence[Item],
    *,
    by: Principal | None,
    source: Source,
    tz: dt.tzinfo = DEFAULT_TZ,
) -> BatchResult:
    """Validate the whole batch, then upsert by source_id; raises TooLarge for too many
    items and JournalRejected (storing nothing) when any item is wrong."""
    check_size(items)
    checker = Checker(clock.now().astimezone(tz).date())
    seen: set[str] = set()
    for index, item in enumerate(items):
        kind.check(checker, index, item)
        checker.date(index, item.lesson_date)
        checker.source_id(index, item.source_id, source, seen)
    resolved = await resolve_or_reject(session, school_id, items, by, checker)

    key = source_key(by, source)
    existing = await stored_for_update(session, kind.model, school_id, items, resolved, by=by,
                                       key=key, checker=checker)
    teacher_id = by.person_id if by is not None else None
    result = BatchResult()
    changed: list[tuple[Row, bool]] = []
    now = clock.now()
    for item, target in zip(items, resolved, strict=True):
        values = kind.values(item, target.student_id)
        row = existing.get(item.source_id)
        if row is None:
            if not kind.stores_new(item):
                result.unchanged += 1
                continue
            row = kind.model(school_id=school_id, class_id=target.class_id,
                             teacher_id=teacher_id, source=source, source_key=key,
                             source_id=item.source_id,
                             created_at=now, updated_at=now, **values)
            session.add(row)
            existing[item.source_id] = row
            changed.append((row, False))
            result.created += 1
        elif all(getattr(row, k) == v for k, v in values.items()):
            result.unchanged += 1
        elif await _correct(session, row, values, kind.tracked, now=now,
                            teacher_id=teacher_id):
            changed.append((row, True))
            result.updated += 1
        else:
            result.unchanged += 1
    await session.flush()
    result.ids = [existing[i.source_id].id if i.source_id in existing else 0 for i in items]
    for row, corrected in changed:
        await emit(session, kind.announce(school_id, row, corrected))
    return result


async def record_grades(
    session: AsyncSession,
    school_id: int,
    items: Sequence[GradeInput],
    *,
    by: Principal | None,
    source: Source,
    tz: dt.tzinfo = DEFAULT_TZ,
) -> BatchResult:
    return await record(session, GRADES, school_id, items, by=by, source=source, tz=tz)


async def record_attendance(
    session: AsyncSession,
    school_id: int,
    items: Sequence[AttendanceInput],
    *,
    by: Principal | None,
    source: Source,
    tz: dt.tzinfo = DEFAULT_TZ,
) -> BatchResult:
    """See the package's note on "present"."""
    return await record(session, ATTENDANCE, school_id, items, by=by, source=source, tz=tz)


async def _correct(
    session: AsyncSession,
    row: Grade | Attendance,
    values: dict[str, Any],
    tracked: str,
    *,
    now: dt.datetime,
    teacher_id: int | None,
) -> bool:
    """Apply a correction if the row still holds what was read, keeping the value people
    were told before in previous_<tracked>; False when another request got there first
    with the same values. A row changed meanwhile to something else is read again."""
    model = type(row)
    for _ in range(5):
        seen = {key: getattr(row, key) for key in values}
        if seen == values:
            return False
        new = dict(values, corrected=True, updated_at=now)
        if seen[tracked] != values[tracked]:
            new[f"previous_{tracked}"] = seen[tracked]
        if teacher_id is not None:
            new["teacher_id"] = teacher_id
        done = await changed_rows(session,
            update(model)
            .where(model.id == row.id,
                   *(getattr(model, key) == value for key, value in seen.items()))
            .values(**new)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(row)
        if done == 1:
            return True
    raise RuntimeError(f"record {row.id} keeps changing under a correction")


async def remove_grades(session: AsyncSession, school_id: int, source_ids: Iterable[str]) -> int:
    """Delete grades (the teacher's page clears a grade entered by mistake); no one is
    told. Returns how many were removed."""
    ids = sorted(set(source_ids))
    if not ids:
        return 0
    return await changed_rows(session,
        delete(Grade).where(Grade.school_id == school_id, Grade.source_id.in_(ids))
    )
