"""Whose source ids are whose, and who may change a stored record through one.

A source id is the caller's name for a record, unique only within its source: each API
token, each person entering through the API with their own session, the teacher's grid and
the CSV import keep their own ids (`source_key`: "token:12", "teacher:34", "web", "csv").
Two sources never meet on an id, so one source cannot change another's records nor learn
which ids another has used: an id of another source is simply a new id here.

An id already used by the same source is an update, and it is authorised against the stored
record as well as the new item: the author must be allowed to enter in the stored record's
class and subject, and the record keeps its student. A refusal reads as the refusal of a
new item in that class would, so it tells nothing about what is stored.

The grid's ids name the class, the day, the subject and the student of a cell
(reading.web_source_id), and only the grid may make them (checks.Checker.source_id), so the
grid has one namespace: every teacher of the lesson works on the same cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.access import Principal
from hub.journal.checks import NOT_YOUR_CLASS, Checker, Resolved, author_scope
from hub.journal.errors import JournalRejected
from hub.journal.inputs import AttendanceInput, GradeInput
from hub.journal.models import WEB_SOURCE_KEY, Attendance, Grade, Source
from hub.journal.reading import by_source_id

Row = TypeVar("Row", Grade, Attendance)

OTHER_STUDENT = "этот source_id уже относится к записи другого ученика: ученика записи не меняют"


def source_key(by: Principal | None, source: Source) -> str:
    """The namespace of the source ids `by` sends from `source`."""
    if source is Source.CSV:
        return "csv"
    if source is Source.WEB:
        return WEB_SOURCE_KEY
    if by is not None and by.token_id is not None:
        return f"token:{by.token_id}"
    if by is not None and by.person_id is not None:
        return f"teacher:{by.person_id}"
    return "api"


async def stored_for_update(
    session: AsyncSession,
    model: type[Row],
    school_id: int,
    items: Sequence[GradeInput | AttendanceInput],
    resolved: Sequence[Resolved],
    *,
    by: Principal | None,
    key: str,
    checker: Checker,
) -> dict[str, Row]:
    """The records of this source that the batch's items update, by source id; raises
    JournalRejected (storing nothing) when an item may not update its record."""
    stored = await by_source_id(session, model, school_id, [i.source_id for i in items],
                                key=key)
    scope = await author_scope(session, by) if by is not None else None
    for index, (item, target) in enumerate(zip(items, resolved, strict=True)):
        row = stored.get(item.source_id)
        if row is None:
            continue
        if scope is not None and scope.refusal(row.class_id, row.subject) is not None:
            checker.add(index, "class", NOT_YOUR_CLASS)
        elif row.student_id != target.student_id:
            checker.add(index, "student", OTHER_STUDENT)
    if checker.errors:
        raise JournalRejected(sorted(checker.errors, key=lambda e: e.index))
    return stored
