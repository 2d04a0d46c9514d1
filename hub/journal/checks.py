"""A batch's validation, before anything is written: its size, each item's fields, its
students (by the hub's id or the journal's, in this school, in the class named) and the
author's right to enter them. Every problem of the batch is collected, so one answer lists
them all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.access import EVERYWHERE, Action, Everywhere, Principal, classes_for
from hub.errors import TooLarge
from hub.journal.errors import ItemError, JournalRejected
from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
from hub.journal.models import MAX_AGE_DAYS, MAX_BATCH, MAX_SOURCE_ID, WEB_PREFIX, Source
from hub.journal.reading import chunks
from hub.school import Enrolment, Person, SchoolClass, TeachingAssignment


def check_size(items: Sequence[object]) -> None:
    """The one limit on a batch, wherever it comes from: too many items is a 413."""
    if len(items) > MAX_BATCH:
        raise TooLarge(f"В пакете {len(items)} записей, допускается не больше {MAX_BATCH}. "
                       "Ничего не сохранено.")


@dataclass(frozen=True)
class Resolved:
    """An item's student, and the class they are in (the record keeps it)."""

    student_id: int
    class_id: int | None


class Checker:
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


async def resolve_or_reject(
    session: AsyncSession,
    school_id: int,
    items: Sequence[GradeInput] | Sequence[AttendanceInput],
    by: Principal | None,
    checker: Checker,
) -> list[Resolved]:
    """Each item's student and class, once the whole batch has passed every check; raises
    JournalRejected with every problem otherwise."""
    resolved = await _resolve_students(
        session, school_id, [i.student for i in items], [i.class_name for i in items], checker
    )
    await _check_author(session, by, resolved, [i.subject for i in items], checker)
    if checker.errors:
        raise JournalRejected(sorted(checker.errors, key=lambda e: e.index))
    return [r for r in resolved if r is not None]


async def _resolve_students(
    session: AsyncSession,
    school_id: int,
    refs: Sequence[StudentRef],
    class_names: Sequence[str | None],
    checker: Checker,
) -> list[Resolved | None]:
    ids = {r.person_id for r in refs if r.person_id is not None}
    externals = {r.external_id for r in refs if r.external_id}
    by_id: dict[int, int | None] = {}
    by_external: dict[str, tuple[int, int | None]] = {}
    query = (
        select(Person.id, Person.external_id, Enrolment.class_id)
        .join(Enrolment, Enrolment.student_id == Person.id)
        .where(Person.school_id == school_id)
    )
    for id_chunk in chunks(sorted(ids)):
        for pid, _ext, class_id in await session.execute(query.where(Person.id.in_(id_chunk))):
            by_id[pid] = class_id
    for external_chunk in chunks(sorted(externals)):
        for pid, ext, class_id in await session.execute(
            query.where(Person.external_id.in_(external_chunk))
        ):
            if ext is not None:
                by_external[ext] = (pid, class_id)
    classes = {
        name: cid
        for cid, name in await session.execute(
            select(SchoolClass.id, SchoolClass.name).where(SchoolClass.school_id == school_id)
        )
    }
    resolved: list[Resolved | None] = []
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
        resolved.append(Resolved(student_id, enrolled_in))
    return resolved


def _normal_class(name: str) -> str:
    return name.strip().upper().replace(" ", "").replace("-", "")


@dataclass(frozen=True)
class AuthorScope:
    """Where an author may enter: classes (or EVERYWHERE) and, for a teacher, the subjects
    taught in each (casefolded)."""

    classes: frozenset[int] | Everywhere
    subjects: frozenset[tuple[int, str]]

    def refusal(self, class_id: int | None, subject: str | None) -> tuple[str, str] | None:
        """(field, message) when the author may not enter in this class and subject."""
        if self.classes is EVERYWHERE:
            return None
        if class_id is None or class_id not in self.classes:
            return "class", NOT_YOUR_CLASS
        if subject and (class_id, subject.casefold()) not in self.subjects:
            return "subject", f"вы не ведёте «{subject}» в этом классе"
        return None


NOT_YOUR_CLASS = "вы не ведёте уроки в классе этого ученика"


async def author_scope(session: AsyncSession, by: Principal) -> AuthorScope:
    """A teacher may enter only in the classes (and subjects) they teach; a coordinator or
    the journal's token anywhere in the school."""
    scope = classes_for(by, Action.ENTER_GRADES)
    if scope is EVERYWHERE or by.person_id is None:
        return AuthorScope(scope, frozenset())
    taught = await session.execute(
        select(TeachingAssignment.class_id, TeachingAssignment.subject).where(
            TeachingAssignment.teacher_id == by.person_id
        )
    )
    return AuthorScope(scope, frozenset((cid, s.casefold()) for cid, s in taught))


async def _check_author(
    session: AsyncSession,
    by: Principal | None,
    resolved: Sequence[Resolved | None],
    subjects: Sequence[str | None],
    checker: Checker,
) -> None:
    if by is None:
        return
    scope = await author_scope(session, by)
    for index, (item, subject) in enumerate(zip(resolved, subjects, strict=True)):
        if item is None:
            continue
        refused = scope.refusal(item.class_id, subject)
        if refused is not None:
            checker.add(index, *refused)
