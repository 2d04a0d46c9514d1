"""What a batch carries into `record`: one item per grade or mark, from any source, and what
storing the batch did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hub.journal.models import AttendanceStatus


@dataclass(frozen=True)
class StudentRef:
    """A student by the hub's id or by the id the journal knows them by."""

    person_id: int | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class GradeInput:
    student: StudentRef
    subject: str
    lesson_date: dt.date
    value: int
    source_id: str
    class_name: str | None = None
    work_type: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class AttendanceInput:
    student: StudentRef
    lesson_date: dt.date
    status: AttendanceStatus
    source_id: str
    class_name: str | None = None
    subject: str | None = None
    lesson_number: int | None = None
    comment: str | None = None


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)  # in the batch's order (0 for a no-op)
