"""Grades and attendance from a CSV file exported by the school's journal.

The same routine and rules as the JSON API (hub.journal.record): every line is checked,
errors are reported by line number, and a file with any error stores nothing. A file may
be longer than an API batch: it is recorded in batches, still in one transaction. Columns:
docs/import.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from hub.db import Database
from hub.journal.errors import ImportRejected, JournalRejected, LineError
from hub.journal.inputs import AttendanceInput, BatchResult, GradeInput, StudentRef
from hub.journal.models import MAX_BATCH, AttendanceStatus, Source
from hub.journal.record import ATTENDANCE, GRADES, Kind, record

# Column names: English as documented, and the Russian headings a school's export may use.
ALIASES = {
    "id": "source_id", "идентификатор": "source_id",
    "ученик": "student", "student_external_id": "student", "код_ученика": "student",
    "класс": "class", "class_name": "class",
    "предмет": "subject",
    "дата": "date",
    "оценка": "value",
    "вид_работы": "work_type", "вид работы": "work_type",
    "комментарий": "comment",
    "урок": "lesson", "lesson_number": "lesson", "номер_урока": "lesson",
    "отметка": "status",
}
REQUIRED = {
    "grades": ("source_id", "subject", "date", "value"),
    "attendance": ("source_id", "date", "status"),
}
KNOWN = {
    "grades": {"source_id", "student", "student_id", "class", "subject", "date", "value",
               "work_type", "comment"},
    "attendance": {"source_id", "student", "student_id", "class", "subject", "date",
                   "lesson", "status", "comment"},
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

KINDS: dict[str, Kind[Any, Any]] = {"grades": GRADES, "attendance": ATTENDANCE}


async def import_journal(
    db: Database, school_id: int, kind: str, text: str, *, tz: dt.tzinfo
) -> BatchResult:
    """Store the whole file or nothing; raises ImportRejected with every line's problems.
    `kind` is "grades" or "attendance"."""
    items, lines, errors = parse(kind, text)
    total = BatchResult()
    async with db.transaction() as session:
        for start in range(0, len(items), MAX_BATCH):
            try:
                part = await record(session, KINDS[kind], school_id,
                                    items[start:start + MAX_BATCH], by=None, source=Source.CSV,
                                    tz=tz)
            except JournalRejected as exc:
                errors += [LineError(lines[start + e.index], e.field, e.message)
                           for e in exc.errors]
                continue
            total.created += part.created
            total.updated += part.updated
            total.unchanged += part.unchanged
            total.ids += part.ids
        if errors:  # raising rolls back the parts already written
            raise ImportRejected(sorted(errors, key=lambda e: e.line))
    return total


def parse(
    kind: str, text: str
) -> tuple[list[Any], list[int], list[LineError]]:
    """Rows as service inputs, the line number of each, and the problems found reading."""
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    errors: list[LineError] = []
    header = [ALIASES.get(h.strip().casefold(), h.strip().casefold()) for h in next(reader, [])]
    unknown = sorted({h for h in header if h not in KNOWN[kind]})
    repeated = sorted({h for h in header if header.count(h) > 1})
    if unknown or repeated:
        problems = ([f"неизвестные столбцы: {', '.join(unknown)}"] if unknown else []) + (
            [f"повторяются столбцы: {', '.join(repeated)}"] if repeated else [])
        raise ImportRejected([LineError(1, "заголовок", "; ".join(problems))])
    missing = [c for c in REQUIRED[kind] if c not in header]
    if "student" not in header and "student_id" not in header:
        missing.append("student или student_id")
    if missing:
        raise ImportRejected([LineError(1, "заголовок", "нет столбцов: " + ", ".join(missing))])
    items: list[Any] = []
    lines: list[int] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        row = {name: (raw[i].strip() if i < len(raw) else "") for i, name in enumerate(header)}
        with_nul = [name for name, value in row.items() if "\x00" in value]
        if with_nul:
            errors += [LineError(line, name, "недопустимый символ NUL (нулевой байт)")
                       for name in with_nul]
            continue
        before = len(errors)
        source_id = row.get("source_id", "")
        if source_id in seen:
            errors.append(LineError(line, "source_id",
                                    f"«{source_id}» уже был в строке {seen[source_id]}"))
        seen.setdefault(source_id, line)
        item = (_grade if kind == "grades" else _mark)(row, line, errors)
        if len(errors) == before and item is not None:
            items.append(item)
            lines.append(line)
    return items, lines, errors


def _student(row: dict[str, str], line: int, errors: list[LineError]) -> StudentRef:
    person_id = None
    if row.get("student_id"):
        person_id = _number(row["student_id"], line, "student_id", errors)
    return StudentRef(person_id=person_id, external_id=row.get("student") or None)


def _grade(row: dict[str, str], line: int, errors: list[LineError]) -> GradeInput | None:
    value = _number(row["value"], line, "value", errors)
    day = _date(row["date"], line, errors)
    if value is None or day is None:
        return None
    return GradeInput(
        student=_student(row, line, errors), subject=row["subject"], lesson_date=day,
        value=value, source_id=row["source_id"], class_name=row.get("class") or None,
        work_type=row.get("work_type") or None, comment=row.get("comment") or None,
    )


def _mark(row: dict[str, str], line: int, errors: list[LineError]) -> AttendanceInput | None:
    day = _date(row["date"], line, errors)
    lesson = _number(row["lesson"], line, "lesson", errors) if row.get("lesson") else None
    raw = row["status"].casefold()
    status = STATUS_ALIASES.get(raw)
    if status is None:
        try:
            status = AttendanceStatus(raw)
        except ValueError:
            errors.append(LineError(line, "status", f"неизвестная отметка «{row['status']}»"))
            return None
    if day is None:
        return None
    return AttendanceInput(
        student=_student(row, line, errors), lesson_date=day, status=status,
        source_id=row["source_id"], class_name=row.get("class") or None,
        subject=row.get("subject") or None, lesson_number=lesson,
        comment=row.get("comment") or None,
    )


def _number(value: str, line: int, column: str, errors: list[LineError]) -> int | None:
    try:
        return int(value)
    except ValueError:
        errors.append(LineError(line, column, f"«{value}» — не целое число"))
        return None


def _date(value: str, line: int, errors: list[LineError]) -> dt.date | None:
    for form in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, form).date()
        except ValueError:
            continue
    errors.append(LineError(line, "date", f"дата «{value}»: ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"))
    return None
