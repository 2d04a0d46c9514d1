"""Grades and attendance: the records that parents are told about.

They arrive from three sources: the teacher's page ("web"), the school journal's JSON API
("api") and CSV imports ("csv"). All three go through `record_grades` / `record_attendance`,
which validate a whole batch first and store nothing if any item is wrong, then upsert by
the caller's `source_id` (unique per school): a new item is inserted and announced
(GradePosted / AttendanceMarked), an identical one changes nothing and announces nothing,
a changed one is updated and announced as a correction. Events are emitted in the caller's
transaction, so the record and its notifications commit together.

"Present" is not stored as a new mark: sent for an item that has no mark it changes
nothing; sent for an existing mark it turns that mark into "present" (a correction the
parents are told about, "отметка исправлена: присутствовал(а)"), and the mark then stops
showing as an absence. Web source ids start with "web:"; the journal may not use that
prefix, so the teacher's page and the journal never overwrite each other's items.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.auth.access import EVERYWHERE, Action, Principal, classes_for
from hub.db import Base, str_enum
from hub.events import AttendanceMarked, GradePosted, emit
from hub.school import Enrolment, Person, SchoolClass, TeachingAssignment

MAX_BATCH = 1000
MAX_AGE_DAYS = 366  # older dates are a typo (a wrong year), not a late entry
MAX_COMMENT = 500
MAX_WORK_TYPE = 100
MAX_SUBJECT = 100
MAX_SOURCE_ID = 128
WEB_PREFIX = "web:"
DEFAULT_TZ = ZoneInfo("Europe/Moscow")

# What Notification.source_kind says for these records (per-grade delivery counts).
GRADE_SOURCE_KIND = "grade"
ATTENDANCE_SOURCE_KIND = "attendance"


class Source(enum.StrEnum):
    WEB = "web"
    API = "api"
    CSV = "csv"


class AttendanceStatus(enum.StrEnum):
    ABSENT = "absent"
    LATE = "late"
    SICK = "sick"
    EXCUSED = "excused"
    PRESENT = "present"  # only ever a correction of an earlier mark


STATUS_TITLES: dict[AttendanceStatus, str] = {
    AttendanceStatus.ABSENT: "отсутствовал(а)",
    AttendanceStatus.LATE: "опоздал(а)",
    AttendanceStatus.SICK: "болел(а)",
    AttendanceStatus.EXCUSED: "отсутствовал(а) по уважительной причине",
    AttendanceStatus.PRESENT: "присутствовал(а)",
}

# Russian spellings accepted in CSV files next to the English values.
STATUS_ALIASES: dict[str, AttendanceStatus] = {
    "н": AttendanceStatus.ABSENT,
    "отсутствовал": AttendanceStatus.ABSENT,
    "оп": AttendanceStatus.LATE,
    "опоздал": AttendanceStatus.LATE,
    "б": AttendanceStatus.SICK,
    "болел": AttendanceStatus.SICK,
    "у": AttendanceStatus.EXCUSED,
    "уважительная": AttendanceStatus.EXCUSED,
    "присутствовал": AttendanceStatus.PRESENT,
}


class Grade(Base):
    __tablename__ = "grades"
    __table_args__ = (
        UniqueConstraint("school_id", "source_id"),
        CheckConstraint("value BETWEEN 2 AND 5", name="value_range"),
        Index("ix_grades_student_date", "student_id", "lesson_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # The class the student was in when graded (they may move later).
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    lesson_date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[int]
    work_type: Mapped[str | None] = mapped_column(String(MAX_WORK_TYPE))
    comment: Mapped[str | None] = mapped_column(String(MAX_COMMENT))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    source: Mapped[Source] = mapped_column(str_enum(Source, "journal_source"))
    source_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    corrected: Mapped[bool] = mapped_column(default=False)
    # The value before the latest correction.
    previous_value: Mapped[int | None]


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("school_id", "source_id"),
        Index("ix_attendance_student_date", "student_id", "lesson_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="SET NULL"), index=True
    )
    lesson_date: Mapped[dt.date] = mapped_column(Date)
    # A subject, a lesson number, both, or neither (the whole day).
    subject: Mapped[str | None] = mapped_column(String(MAX_SUBJECT))
    lesson_number: Mapped[int | None]
    status: Mapped[AttendanceStatus] = mapped_column(
        str_enum(AttendanceStatus, "attendance_status")
    )
    comment: Mapped[str | None] = mapped_column(String(MAX_COMMENT))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    source: Mapped[Source] = mapped_column(str_enum(Source, "journal_source"))
    source_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    corrected: Mapped[bool] = mapped_column(default=False)
    previous_status: Mapped[AttendanceStatus | None] = mapped_column(
        str_enum(AttendanceStatus, "attendance_status")
    )


Record = TypeVar("Record", Grade, Attendance)
V = TypeVar("V")


# ---------------------------------------------------------------------------- input


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


@dataclass(frozen=True)
class ItemError:
    index: int  # position in the batch (0-based); CSV imports report line numbers
    field: str
    message: str


class JournalRejected(ValueError):
    """The batch had bad items; nothing was stored."""

    def __init__(self, errors: Sequence[ItemError]) -> None:
        super().__init__(f"{len(errors)} bad item(s)")
        self.errors = list(errors)


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)  # in the batch's order (0 for a no-op)


# ---------------------------------------------------------------------------- services


@dataclass(frozen=True)
class _Resolved:
    student_id: int
    class_id: int | None


class _Checker:
    """Collects every problem of a batch before anything is written."""

    def __init__(self, today: dt.date) -> None:
        self.errors: list[ItemError] = []
        self.today = today

    def add(self, index: int, field_name: str, message: str) -> None:
        self.errors.append(ItemError(index, field_name, message))

    def date(self, index: int, value: dt.date) -> None:
        if value > self.today:
            self.add(index, "date", f"дата {value:%d.%m.%Y} ещё не наступила")
        elif (self.today - value).days > MAX_AGE_DAYS:
            self.add(index, "date", f"дата {value:%d.%m.%Y} старше года")

    def text(self, index: int, name: str, value: str | None, limit: int, title: str) -> None:
        if value is not None and len(value) > limit:
            self.add(index, name, f"{title} длиннее {limit} символов")

    def source_id(self, index: int, value: str, source: Source, seen: set[str]) -> None:
        if not value:
            self.add(index, "source_id", "нет идентификатора записи (source_id)")
        elif len(value) > (200 if source is Source.WEB else MAX_SOURCE_ID):
            self.add(index, "source_id", f"source_id длиннее {MAX_SOURCE_ID} символов")
        elif source is not Source.WEB and value.startswith(WEB_PREFIX):
            self.add(index, "source_id", f"source_id не может начинаться с «{WEB_PREFIX}»")
        elif value in seen:
            self.add(index, "source_id", f"source_id «{value}» повторяется в пакете")
        seen.add(value)


async def _resolve_students(
    session: AsyncSession,
    school_id: int,
    refs: Sequence[StudentRef],
    class_names: Sequence[str | None],
    checker: _Checker,
) -> list[_Resolved | None]:
    ids = {r.person_id for r in refs if r.person_id is not None}
    externals = {r.external_id for r in refs if r.external_id}
    by_id: dict[int, int | None] = {}
    by_external: dict[str, tuple[int, int | None]] = {}
    query = (
        select(Person.id, Person.external_id, Enrolment.class_id)
        .join(Enrolment, Enrolment.student_id == Person.id)
        .where(Person.school_id == school_id)
    )
    for chunk in _chunks(sorted(ids)):
        for pid, _ext, class_id in await session.execute(query.where(Person.id.in_(chunk))):
            by_id[pid] = class_id
    for chunk in _chunks(sorted(externals)):
        for pid, ext, class_id in await session.execute(
            query.where(Person.external_id.in_(chunk))
        ):
            by_external[ext] = (pid, class_id)
    classes = {
        name: cid
        for cid, name in await session.execute(
            select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id)
        )
    }
    resolved: list[_Resolved | None] = []
    for index, (ref, class_name) in enumerate(zip(refs, class_names, strict=True)):
        found: tuple[int, int | None] | None = None
        if (ref.person_id is None) == (not ref.external_id):
            checker.add(index, "student", "укажите ученика: student_id или student_external_id")
        elif ref.person_id is not None and ref.person_id in by_id:
            found = (ref.person_id, by_id[ref.person_id])
        elif ref.external_id and ref.external_id in by_external:
            found = by_external[ref.external_id]
        else:
            checker.add(index, "student", "ученик не найден в этой школе")
        if found is None:
            resolved.append(None)
            continue
        student_id, enrolled_in = found
        if class_name:
            wanted = classes.get(_normal_class(class_name))
            if wanted is None:
                checker.add(index, "class", f"класс «{class_name}» не найден")
                resolved.append(None)
                continue
            if wanted != enrolled_in:
                checker.add(index, "class", f"ученик не учится в классе «{class_name}»")
                resolved.append(None)
                continue
        resolved.append(_Resolved(student_id, enrolled_in))
    return resolved


def _normal_class(name: str) -> str:
    return name.strip().upper().replace(" ", "").replace("-", "")


async def _check_author(
    session: AsyncSession,
    by: Principal | None,
    resolved: Sequence[_Resolved | None],
    subjects: Sequence[str | None],
    checker: _Checker,
) -> None:
    """A teacher may enter only in the classes (and subjects) they teach; a coordinator or
    the journal's token anywhere in the school."""
    if by is None:
        return
    scope = classes_for(by, Action.ENTER_GRADES)
    if scope is EVERYWHERE:
        return
    taught: set[tuple[int, str]] = set()
    if by.person_id is not None:
        taught = {
            (cid, subject)
            for cid, subject in await session.execute(
                select(TeachingAssignment.class_id, TeachingAssignment.subject).where(
                    TeachingAssignment.teacher_id == by.person_id
                )
            )
        }
    taught_subjects = {(cid, s.casefold()) for cid, s in taught}
    for index, (item, subject) in enumerate(zip(resolved, subjects, strict=True)):
        if item is None:
            continue
        if item.class_id is None or item.class_id not in scope:
            checker.add(index, "class", "вы не ведёте уроки в классе этого ученика")
        elif subject and (item.class_id, subject.casefold()) not in taught_subjects:
            checker.add(index, "subject", f"вы не ведёте «{subject}» в этом классе")


def _today(tz: dt.tzinfo) -> dt.date:
    return clock.now().astimezone(tz).date()


def _correct(
    row: Grade | Attendance,
    values: dict[str, object],
    tracked: str,
    *,
    now: dt.datetime,
    teacher_id: int | None,
) -> None:
    """Apply a correction, keeping the value people were told before in previous_<tracked>."""
    if getattr(row, tracked) != values[tracked]:
        setattr(row, f"previous_{tracked}", getattr(row, tracked))
    for key, value in values.items():
        setattr(row, key, value)
    row.corrected, row.updated_at = True, now
    if teacher_id is not None:
        row.teacher_id = teacher_id


def _refuse_oversized(items: Sequence[object]) -> None:
    if len(items) > MAX_BATCH:
        raise JournalRejected([ItemError(MAX_BATCH, "items",
                                         f"в пакете больше {MAX_BATCH} записей")])


async def _resolve_or_reject(
    session: AsyncSession,
    school_id: int,
    items: Sequence[GradeInput] | Sequence[AttendanceInput],
    by: Principal | None,
    checker: _Checker,
) -> list[_Resolved | None]:
    """Each item's student and class, once the whole batch has passed every check."""
    resolved = await _resolve_students(
        session, school_id, [i.student for i in items], [i.class_name for i in items], checker
    )
    await _check_author(session, by, resolved, [i.subject for i in items], checker)
    if checker.errors:
        raise JournalRejected(sorted(checker.errors, key=lambda e: e.index))
    return resolved


async def record_grades(
    session: AsyncSession,
    school_id: int,
    items: Sequence[GradeInput],
    *,
    by: Principal | None,
    source: Source,
    tz: dt.tzinfo = DEFAULT_TZ,
) -> BatchResult:
    """Validate the whole batch, then upsert by source_id; raises JournalRejected (and
    stores nothing) when any item is wrong."""
    _refuse_oversized(items)
    checker = _Checker(_today(tz))
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not 2 <= item.value <= 5:
            checker.add(index, "value", f"оценка {item.value}: допустимы 2, 3, 4, 5")
        if not item.subject:
            checker.add(index, "subject", "не указан предмет")
        checker.text(index, "subject", item.subject, MAX_SUBJECT, "предмет")
        checker.text(index, "work_type", item.work_type, MAX_WORK_TYPE, "вид работы")
        checker.text(index, "comment", item.comment, MAX_COMMENT, "комментарий")
        checker.date(index, item.lesson_date)
        checker.source_id(index, item.source_id, source, seen)
    resolved = await _resolve_or_reject(session, school_id, items, by, checker)

    existing = await _existing(session, Grade, school_id, [i.source_id for i in items])
    teacher_id = by.person_id if by is not None else None
    result = BatchResult()
    changed: list[tuple[Grade, bool]] = []
    now = clock.now()
    for item, target in zip(items, resolved, strict=True):
        assert target is not None
        values = {
            "student_id": target.student_id,
            "subject": item.subject,
            "lesson_date": item.lesson_date,
            "value": item.value,
            "work_type": item.work_type or None,
            "comment": item.comment or None,
        }
        grade = existing.get(item.source_id)
        if grade is None:
            grade = Grade(school_id=school_id, class_id=target.class_id, teacher_id=teacher_id,
                          source=source, source_id=item.source_id, created_at=now,
                          updated_at=now, **values)
            session.add(grade)
            existing[item.source_id] = grade
            changed.append((grade, False))
            result.created += 1
        elif all(getattr(grade, k) == v for k, v in values.items()):
            result.unchanged += 1
        else:
            _correct(grade, values, "value", now=now, teacher_id=teacher_id)
            changed.append((grade, True))
            result.updated += 1
    await session.flush()
    result.ids = [existing[i.source_id].id for i in items]
    for grade, corrected in changed:
        await emit(session, GradePosted(school_id=school_id, grade_id=grade.id,
                                        student_id=grade.student_id, corrected=corrected))
    return result


async def record_attendance(
    session: AsyncSession,
    school_id: int,
    items: Sequence[AttendanceInput],
    *,
    by: Principal | None,
    source: Source,
    tz: dt.tzinfo = DEFAULT_TZ,
) -> BatchResult:
    """As record_grades, for attendance marks (see the module's note on "present")."""
    _refuse_oversized(items)
    checker = _Checker(_today(tz))
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.lesson_number is not None and not 1 <= item.lesson_number <= 12:
            checker.add(index, "lesson", f"номер урока {item.lesson_number}: допустимо 1–12")
        checker.text(index, "subject", item.subject, MAX_SUBJECT, "предмет")
        checker.text(index, "comment", item.comment, MAX_COMMENT, "комментарий")
        checker.date(index, item.lesson_date)
        checker.source_id(index, item.source_id, source, seen)
    resolved = await _resolve_or_reject(session, school_id, items, by, checker)

    existing = await _existing(session, Attendance, school_id, [i.source_id for i in items])
    teacher_id = by.person_id if by is not None else None
    result = BatchResult()
    changed: list[tuple[Attendance, bool]] = []
    now = clock.now()
    for item, target in zip(items, resolved, strict=True):
        assert target is not None
        values = {
            "student_id": target.student_id,
            "lesson_date": item.lesson_date,
            "subject": item.subject or None,
            "lesson_number": item.lesson_number,
            "status": item.status,
            "comment": item.comment or None,
        }
        mark = existing.get(item.source_id)
        if mark is None:
            if item.status is AttendanceStatus.PRESENT:
                result.unchanged += 1  # nothing to clear
                continue
            mark = Attendance(school_id=school_id, class_id=target.class_id,
                              teacher_id=teacher_id, source=source, source_id=item.source_id,
                              created_at=now, updated_at=now, **values)
            session.add(mark)
            existing[item.source_id] = mark
            changed.append((mark, False))
            result.created += 1
        elif all(getattr(mark, k) == v for k, v in values.items()):
            result.unchanged += 1
        else:
            _correct(mark, values, "status", now=now, teacher_id=teacher_id)
            changed.append((mark, True))
            result.updated += 1
    await session.flush()
    result.ids = [existing[i.source_id].id if i.source_id in existing else 0 for i in items]
    for mark, corrected in changed:
        await emit(session, AttendanceMarked(school_id=school_id, attendance_id=mark.id,
                                             student_id=mark.student_id, corrected=corrected))
    return result


async def _existing(
    session: AsyncSession, model: type[Record], school_id: int, source_ids: Iterable[str]
) -> dict[str, Record]:
    found: dict[str, Record] = {}
    for chunk in _chunks(sorted(set(source_ids))):
        for row in await session.scalars(
            select(model).where(model.school_id == school_id, model.source_id.in_(chunk))
        ):
            found[row.source_id] = row
    return found


def _chunks(values: Sequence[V], size: int = 500) -> Iterable[Sequence[V]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


async def remove_grades(session: AsyncSession, school_id: int, source_ids: Iterable[str]) -> int:
    """Delete grades (the teacher's page clears a grade entered by mistake); no one is
    told. Returns how many were removed."""
    ids = sorted(set(source_ids))
    if not ids:
        return 0
    result = await session.execute(
        delete(Grade).where(Grade.school_id == school_id, Grade.source_id.in_(ids))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- reading


def web_source_id(kind: str, class_id: int, day: dt.date, subject: str, student_id: int) -> str:
    """The teacher page's id for one cell of the grid: saving it again is an update."""
    return f"{WEB_PREFIX}{kind}:{class_id}:{day.isoformat()}:{student_id}:{subject.casefold()}"


@dataclass(frozen=True)
class SheetRow:
    student: Person
    grade: Grade | None
    attendance: Attendance | None
    # What the school's journal (API or CSV) holds for the same lesson, shown read-only.
    from_journal: list[Grade | Attendance] = field(default_factory=list)


async def lesson_sheet(
    session: AsyncSession, school_id: int, class_id: int, day: dt.date, subject: str
) -> list[SheetRow]:
    """The teacher page's grid: the class's students, what the page entered for them, and
    what arrived from the journal for that day and subject."""
    students = (await session.scalars(
        select(Person).join(Enrolment, Enrolment.student_id == Person.id)
        .where(Enrolment.class_id == class_id, Person.school_id == school_id)
        .order_by(Person.last_name, Person.first_name, Person.id)
    )).all()
    grade_ids = {web_source_id("g", class_id, day, subject, s.id): s.id for s in students}
    mark_ids = {web_source_id("a", class_id, day, subject, s.id): s.id for s in students}
    grades = await _existing(session, Grade, school_id, grade_ids)
    marks = await _existing(session, Attendance, school_id, mark_ids)
    by_student_grade = {grade_ids[k]: v for k, v in grades.items()}
    by_student_mark = {mark_ids[k]: v for k, v in marks.items()}
    elsewhere: dict[int, list[Grade | Attendance]] = {s.id: [] for s in students}
    ids = list(elsewhere)
    for chunk in _chunks(ids):
        for grade in await session.scalars(
            select(Grade).where(Grade.school_id == school_id, Grade.student_id.in_(chunk),
                                Grade.lesson_date == day, Grade.subject == subject,
                                Grade.source != Source.WEB).order_by(Grade.id)
        ):
            elsewhere[grade.student_id].append(grade)
        for mark in await session.scalars(
            select(Attendance).where(
                Attendance.school_id == school_id, Attendance.student_id.in_(chunk),
                Attendance.lesson_date == day, Attendance.source != Source.WEB,
                Attendance.status != AttendanceStatus.PRESENT,
                or_(Attendance.subject == subject, Attendance.subject.is_(None)),
            ).order_by(Attendance.id)
        ):
            elsewhere[mark.student_id].append(mark)
    return [
        SheetRow(s, by_student_grade.get(s.id), by_student_mark.get(s.id), elsewhere[s.id])
        for s in students
    ]


async def subjects_taught(
    session: AsyncSession, class_id: int, teacher_id: int | None = None
) -> list[str]:
    """The subjects taught in a class (by one teacher, when given)."""
    query = select(TeachingAssignment.subject).where(TeachingAssignment.class_id == class_id)
    if teacher_id is not None:
        query = query.where(TeachingAssignment.teacher_id == teacher_id)
    return sorted(set(await session.scalars(query)))


async def recent_grades(
    session: AsyncSession, student_id: int, *, limit: int = 30
) -> Sequence[Grade]:
    result = await session.scalars(
        select(Grade).where(Grade.student_id == student_id)
        .order_by(Grade.lesson_date.desc(), Grade.id.desc()).limit(limit)
    )
    return result.all()


async def recent_attendance(
    session: AsyncSession, student_id: int, *, limit: int = 30
) -> Sequence[Attendance]:
    """Marks that still stand (a mark corrected to "present" is not an absence)."""
    result = await session.scalars(
        select(Attendance).where(
            Attendance.student_id == student_id,
            Attendance.status != AttendanceStatus.PRESENT,
        ).order_by(Attendance.lesson_date.desc(), Attendance.id.desc()).limit(limit)
    )
    return result.all()


@dataclass(frozen=True)
class EnteredRecord:
    """A grade or mark a teacher entered, with the student's name (for their list)."""

    kind: str  # GRADE_SOURCE_KIND or ATTENDANCE_SOURCE_KIND
    record: Grade | Attendance
    student_name: str


async def entered_by(
    session: AsyncSession, school_id: int, teacher_id: int, *, limit: int = 50
) -> list[EnteredRecord]:
    """The latest grades and marks a teacher entered (on the page or through the API),
    newest first."""
    found: list[EnteredRecord] = []
    kinds: tuple[tuple[str, type[Grade] | type[Attendance]], ...] = (
        (GRADE_SOURCE_KIND, Grade), (ATTENDANCE_SOURCE_KIND, Attendance))
    for kind, model in kinds:
        rows = await session.execute(
            select(model, Person).join(Person, Person.id == model.student_id)
            .where(model.school_id == school_id, model.teacher_id == teacher_id)
            .order_by(model.updated_at.desc(), model.id.desc()).limit(limit)
        )
        found += [EnteredRecord(kind, record, person.full_name) for record, person in rows]
    found.sort(key=lambda e: (e.record.updated_at, e.record.id), reverse=True)
    return found[:limit]


# ------------------------------------------------------------- texts for notifications


def grade_title(grade: Grade, corrected: bool = False) -> str:
    """"Оценка 5 по предмету «Математика»" / "Исправлена оценка: 4 → 5 ..." for the
    pipeline's notification title."""
    if corrected and grade.previous_value is not None:
        return (f"Исправлена оценка: {grade.previous_value} → {grade.value} "
                f"по предмету «{grade.subject}»")
    if corrected:
        return f"Исправлена оценка {grade.value} по предмету «{grade.subject}»"
    return f"Оценка {grade.value} по предмету «{grade.subject}»"


def grade_body(grade: Grade) -> str:
    parts = [f"{grade.lesson_date:%d.%m.%Y}, {grade.subject}: {grade.value}"]
    if grade.work_type:
        parts.append(f"Вид работы: {grade.work_type}")
    if grade.comment:
        parts.append(f"Комментарий: {grade.comment}")
    return "\n".join(parts)


def attendance_title(mark: Attendance, corrected: bool = False) -> str:
    what = STATUS_TITLES[mark.status]
    lesson = f" на уроке «{mark.subject}»" if mark.subject else ""
    prefix = "Исправлена отметка: " if corrected else ""
    return f"{prefix}{what}{lesson} {mark.lesson_date:%d.%m.%Y}"


def attendance_body(mark: Attendance) -> str:
    parts = [f"{mark.lesson_date:%d.%m.%Y}: {STATUS_TITLES[mark.status]}"]
    if mark.subject:
        parts.append(f"Предмет: {mark.subject}")
    if mark.lesson_number:
        parts.append(f"Урок № {mark.lesson_number}")
    if mark.comment:
        parts.append(f"Комментарий: {mark.comment}")
    return "\n".join(parts)


# ---------------------------------------------------------------------------- privacy


class JournalData:
    """A student's grades and attendance (hub.privacy): exported, and erased with them.
    A teacher's name on the grades they entered is unlinked on erasure."""

    name = "journal"

    async def export(self, session: AsyncSession, person_id: int) -> dict[str, Any]:
        grades = await session.scalars(
            select(Grade).where(Grade.student_id == person_id).order_by(Grade.id))
        marks = await session.scalars(
            select(Attendance).where(Attendance.student_id == person_id)
            .order_by(Attendance.id))
        return {
            "grades": [
                {"id": g.id, "subject": g.subject, "date": g.lesson_date.isoformat(),
                 "value": g.value, "work_type": g.work_type, "comment": g.comment,
                 "corrected": g.corrected, "previous_value": g.previous_value,
                 "source": g.source.value, "created_at": g.created_at.isoformat()}
                for g in grades
            ],
            "attendance": [
                {"id": m.id, "date": m.lesson_date.isoformat(), "subject": m.subject,
                 "lesson_number": m.lesson_number, "status": m.status.value,
                 "comment": m.comment, "source": m.source.value,
                 "created_at": m.created_at.isoformat()}
                for m in marks
            ],
        }

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        for model in (Grade, Attendance):
            await session.execute(
                delete(model).where(model.student_id == person_id)
                .execution_options(synchronize_session=False))
            await session.execute(
                update(model).where(model.teacher_id == person_id).values(teacher_id=None)
                .execution_options(synchronize_session=False))


PRIVACY = JournalData()
