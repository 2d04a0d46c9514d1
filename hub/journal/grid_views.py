"""The teacher's pages: the grid for one lesson (/journal), where a teacher marks attendance
and enters grades for a class, and what they entered lately with how its notifications
fared (/journal/entered).

Views parse the form, authorise, call `record` or a query and render; a refusal is raised
as a hub.errors.UserError and rendered by the error middleware. A grid with wrong cells is
the one exception: it is shown again as the teacher filled it, with a line per problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.auth.access import (
    EVERYWHERE,
    AccessDenied,
    Action,
    Principal,
    classes_for,
)
from hub.errors import Invalid
from hub.http.keys import DB, SETTINGS
from hub.http.render import render
from hub.http.session import signed_in
from hub.journal.errors import ItemError, JournalRejected
from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
from hub.journal.models import (
    ATTENDANCE_SOURCE_KIND,
    GRADE_SOURCE_KIND,
    MAX_AGE_DAYS,
    STATUS_TITLES,
    Attendance,
    AttendanceStatus,
    Grade,
    Source,
)
from hub.journal.reading import (
    SheetRow,
    entered_by,
    lesson_sheet,
    subjects_taught,
    web_source_id,
)
from hub.journal.record import record_attendance, record_grades, remove_grades
from hub.notify.summary import delivery_summaries
from hub.school import classes_of_school

GRID_STATUSES = (
    (AttendanceStatus.PRESENT, "был"),
    (AttendanceStatus.ABSENT, "н"),
    (AttendanceStatus.LATE, "оп"),
    (AttendanceStatus.SICK, "б"),
    (AttendanceStatus.EXCUSED, "у"),
)


async def _lesson_choice(
    request: web.Request, principal: Principal, params: Any
) -> dict[str, Any]:
    """The classes and subjects the teacher may pick, and the chosen lesson if valid."""
    scope = classes_for(principal, Action.ENTER_GRADES)
    if not scope:
        raise AccessDenied(Action.ENTER_GRADES)
    today = clock.now().astimezone(request.app[SETTINGS].tz).date()
    choice: dict[str, Any] = {"class_id": None, "subject": "", "date": today, "subjects": [],
                              "today": today, "problem": None}
    async with request.app[DB].session() as session:
        classes = [c for c in await classes_of_school(session, principal.school_id)
                   if c.id in scope]
        choice["classes"] = classes
        chosen = _int(params.get("class"))
        school_class = next((c for c in classes if c.id == chosen), None)
        if chosen is not None and school_class is None:
            raise AccessDenied(Action.ENTER_GRADES)
        if school_class is None:
            return choice
        choice["class_id"] = school_class.id
        choice["class_name"] = school_class.name
        own = None if scope is EVERYWHERE else principal.person_id
        choice["subjects"] = await subjects_taught(session, school_class.id, own)
        subject = str(params.get("subject", "")).strip()
        if subject in choice["subjects"]:
            choice["subject"] = subject
        elif not subject and len(choice["subjects"]) == 1:
            choice["subject"] = choice["subjects"][0]  # one subject: straight to the grid
        try:
            choice["date"] = dt.date.fromisoformat(str(params.get("date") or today.isoformat()))
        except ValueError:
            choice["problem"] = "Дата урока указана неверно."
        if choice["date"] > today:
            choice["problem"] = "Нельзя заполнять журнал на будущую дату."
        elif (today - choice["date"]).days > MAX_AGE_DAYS:
            choice["problem"] = "Дата урока старше года."
    return choice


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


async def journal_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    choice = await _lesson_choice(request, principal, request.query)
    rows = await _rows(request, principal, choice)
    return render(request, "journal/lesson.html", {
        **choice, "rows": rows, "errors": [], "statuses": GRID_STATUSES,
        "saved": request.query.get("saved") == "1",
    })


async def _rows(
    request: web.Request, principal: Principal, choice: dict[str, Any]
) -> list[dict[str, Any]]:
    if not choice["class_id"] or not choice["subject"] or choice["problem"]:
        return []
    async with request.app[DB].session() as session:
        sheet = await lesson_sheet(session, principal.school_id, choice["class_id"],
                                   choice["date"], choice["subject"])
        summaries = await _summaries(session, sheet)
    return [
        {
            "student_id": row.student.id,
            "name": row.student.full_name,
            "status": row.attendance.status if row.attendance else AttendanceStatus.PRESENT,
            "grade": row.grade.value if row.grade else "",
            "work_type": (row.grade.work_type or "") if row.grade else "",
            "comment": (row.grade.comment or "") if row.grade else "",
            "delivery": summaries.get(row.student.id),
            "from_journal": [_journal_note(r) for r in row.from_journal],
        }
        for row in sheet
    ]


def _journal_note(record: Grade | Attendance) -> str:
    if isinstance(record, Grade):
        return f"{record.value}" + (f" ({record.work_type})" if record.work_type else "")
    return STATUS_TITLES[record.status]


async def _summaries(
    session: AsyncSession, sheet: Sequence[SheetRow]
) -> dict[int, dict[str, int]]:
    """Per row: how the notifications about its grade and mark fared (delivered, waiting,
    failed)."""
    grades = {row.grade.id: row.student.id for row in sheet if row.grade}
    marks = {row.attendance.id: row.student.id for row in sheet if row.attendance}
    result: dict[int, dict[str, int]] = {}
    for kind, owners in ((GRADE_SOURCE_KIND, grades), (ATTENDANCE_SOURCE_KIND, marks)):
        for source_id, counts in (
            await delivery_summaries(session, kind, list(owners))
        ).items():
            total = result.setdefault(owners[source_id], {})
            for key, count in counts.items():
                total[key] = total.get(key, 0) + count
    return {student: total for student, total in result.items() if total.get("notified")}


async def entered_page(request: web.Request) -> web.Response:
    """What the teacher entered lately, each with how its notifications fared."""
    principal, account = signed_in(request)
    if not classes_for(principal, Action.ENTER_GRADES):
        raise AccessDenied(Action.ENTER_GRADES)
    async with request.app[DB].session() as session:
        entries = await entered_by(session, principal.school_id, account.person_id)
        summaries = {
            kind: await delivery_summaries(
                session, kind, [e.record.id for e in entries if e.kind == kind])
            for kind in (GRADE_SOURCE_KIND, ATTENDANCE_SOURCE_KIND)
        }
    rows = [
        {"entry": e, "delivery": summaries[e.kind].get(e.record.id),
         "is_grade": e.kind == GRADE_SOURCE_KIND}
        for e in entries
    ]
    return render(request, "journal/entered.html",
                  {"rows": rows, "status_titles": STATUS_TITLES})


async def journal_save(request: web.Request) -> web.StreamResponse:
    principal, _ = signed_in(request)
    form = await request.post()
    choice = await _lesson_choice(request, principal, form)
    if not choice["class_id"] or not choice["subject"] or choice["problem"]:
        raise Invalid(choice["problem"] or "Выберите класс и предмет урока.")
    class_id, day, subject = choice["class_id"], choice["date"], choice["subject"]
    errors: list[str] = []
    async with request.app[DB].session() as session:
        sheet = await lesson_sheet(session, principal.school_id, class_id, day, subject)
    names = {row.student.id: row.student.full_name for row in sheet}
    grades: list[GradeInput] = []
    marks: list[AttendanceInput] = []
    cleared: list[str] = []
    for row in sheet:
        sid = row.student.id
        raw_status = str(form.get(f"att_{sid}", AttendanceStatus.PRESENT.value))
        try:
            status = AttendanceStatus(raw_status)
        except ValueError:
            errors.append(f"{names[sid]}: неизвестная отметка «{raw_status}»")
            continue
        marks.append(AttendanceInput(
            student=StudentRef(person_id=sid), lesson_date=day, status=status,
            source_id=web_source_id("a", class_id, day, subject, sid), subject=subject,
        ))
        raw_grade = str(form.get(f"grade_{sid}", "")).strip()
        grade_id = web_source_id("g", class_id, day, subject, sid)
        if not raw_grade:
            if row.grade is not None:
                cleared.append(grade_id)
            continue
        value = _int(raw_grade)
        if value is None:
            errors.append(f"{names[sid]}: оценка «{raw_grade}» — не число")
            continue
        grades.append(GradeInput(
            student=StudentRef(person_id=sid), subject=subject, lesson_date=day, value=value,
            source_id=grade_id,
            work_type=str(form.get(f"work_{sid}", "")).strip() or None,
            comment=str(form.get(f"comment_{sid}", "")).strip() or None,
        ))
    if not errors:
        try:
            await _save(request, principal, marks, grades, cleared, names)
        except _GridRejected as exc:
            errors = exc.lines
        except IntegrityError:
            errors = ["Этот урок только что сохранил кто-то ещё. Обновите страницу."]
    if errors:
        rows = _rows_from_form(sheet, form)
        return render(request, "journal/lesson.html", {
            **choice, "rows": rows, "errors": errors, "statuses": GRID_STATUSES,
            "saved": False,
        }, status=422)
    raise web.HTTPSeeOther(
        f"/journal?class={class_id}&subject={quote(subject)}&date={day.isoformat()}&saved=1"
    )


class _GridRejected(Exception):
    """Some cells were wrong: the grid is shown again with a line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(f"{len(lines)} problem(s)")
        self.lines = lines


async def _save(
    request: web.Request,
    principal: Principal,
    marks: list[AttendanceInput],
    grades: list[GradeInput],
    cleared: list[str],
    names: dict[int, str],
) -> None:
    """The grid's marks and grades in one transaction: both halves are checked, so the
    teacher sees every problem at once, and raising rolls back whatever one half wrote."""
    tz = request.app[SETTINGS].tz
    async with request.app[DB].transaction() as session:
        problems: list[str] = []
        try:
            await record_attendance(session, principal.school_id, marks, by=principal,
                                    source=Source.WEB, tz=tz)
        except JournalRejected as exc:
            problems += _row_errors(exc.errors, marks, names)
        try:
            await record_grades(session, principal.school_id, grades, by=principal,
                                source=Source.WEB, tz=tz)
        except JournalRejected as exc:
            problems += _row_errors(exc.errors, grades, names)
        if problems:
            raise _GridRejected(problems)
        await remove_grades(session, principal.school_id, cleared)


def _row_errors(
    errors: Sequence[ItemError],
    items: Sequence[AttendanceInput] | Sequence[GradeInput],
    names: dict[int, str],
) -> list[str]:
    """Item errors as lines a teacher reads: the student's name, then the problem."""
    lines = []
    for error in errors:
        student = items[error.index].student.person_id
        name = names.get(student, "") if student is not None else ""
        lines.append(f"{name}: {error.message}" if name else error.message)
    return lines


def _rows_from_form(sheet: Sequence[SheetRow], form: Any) -> list[dict[str, Any]]:
    """The grid as the teacher filled it, so a rejected save loses nothing they typed."""
    return [
        {
            "student_id": row.student.id,
            "name": row.student.full_name,
            "status": str(form.get(f"att_{row.student.id}", AttendanceStatus.PRESENT.value)),
            "grade": str(form.get(f"grade_{row.student.id}", "")),
            "work_type": str(form.get(f"work_{row.student.id}", "")),
            "comment": str(form.get(f"comment_{row.student.id}", "")),
            "delivery": None,
            "from_journal": [_journal_note(r) for r in row.from_journal],
        }
        for row in sheet
    ]
