"""CSV import of people and classes (the format is in docs/import.md).

Every row is checked first; if any row is wrong, every problem is reported with its line
number and nothing is imported. Otherwise the whole file goes in within the caller's
transaction. A person is found again by `external_id`, so importing the same file twice
updates instead of duplicating.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.directory import EMAIL, PHONE, PRIVILEGED_ROLES
from hub.school import (
    TEACHING_ROLES,
    Guardianship,
    Person,
    Role,
    SchoolClass,
    SchoolError,
    TeachingAssignment,
    create_person,
    enrol,
    normalise_class_name,
    set_roles,
)

# A class in the `class` cell: "5А", "5 а", "5-А"; several are separated by spaces or commas.
CLASS_IN_CELL = re.compile(r"\d{1,2}\s*-?\s*[А-Яа-яЁё](?![А-Яа-яЁё])")

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000

COLUMNS = (
    "external_id", "last_name", "first_name", "middle_name", "roles", "class", "subject",
    "email", "phone", "guardian_of",
)
REQUIRED_COLUMNS = ("external_id", "last_name", "first_name", "roles")

# What a cell of `roles` may say: the codes, and the Russian words a school writes.
ROLE_WORDS: dict[str, Role] = {role.value: role for role in Role} | {
    "родитель": Role.PARENT,
    "законный_представитель": Role.PARENT,
    "ученик": Role.STUDENT,
    "обучающийся": Role.STUDENT,
    "учитель": Role.TEACHER,
    "логопед": Role.SPEECH_THERAPIST,
    "психолог": Role.PSYCHOLOGIST,
    "модератор": Role.MODERATOR,
    "координатор": Role.COORDINATOR,
    "администратор": Role.SYSADMIN,
    "кадры": Role.HR,
}


@dataclass(frozen=True)
class RowError:
    line: int  # 1 is the header
    message: str

    def __str__(self) -> str:
        return f"строка {self.line}: {self.message}"


class ImportRejected(Exception):
    """The file was not imported; `errors` lists every problem found."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = list(errors)


@dataclass
class ImportRow:
    line: int
    external_id: str
    last_name: str
    first_name: str
    middle_name: str | None
    roles: frozenset[Role]
    classes: list[str]
    subject: str | None
    email: str | None
    phone: str | None
    guardian_of: list[str]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    classes_created: list[str] = field(default_factory=list)
    guardianships_added: int = 0


def decode(data: bytes) -> str:
    """UTF-8 text, with or without a BOM; anything else is rejected with a hint."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected([RowError(0, f"файл больше {MAX_FILE_BYTES // 1024 // 1024} МиБ")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([RowError(
            0, "файл не в кодировке UTF-8: сохраните его как «CSV UTF-8» и загрузите снова"
        )]) from None
    if "\x00" in text:  # no column can keep it (PostgreSQL refuses it)
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRejected([RowError(line, "нулевой символ (NUL) в тексте: файл повреждён "
                                             "или сохранён не как CSV")])
    return text


def sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ";"


def parse(text: str) -> list[ImportRow]:
    """Rows of the file, checked one by one (not against the database)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    errors: list[RowError] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRejected([RowError(1, "файл пуст: нет строки заголовка")]) from None
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown:
        errors.append(RowError(1, "неизвестные столбцы: " + ", ".join(unknown)))
    if missing:
        errors.append(RowError(1, "нет обязательных столбцов: " + ", ".join(missing)))
    if duplicated:
        errors.append(RowError(1, "столбцы повторяются: " + ", ".join(duplicated)))
    if errors:
        raise ImportRejected(errors)
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                errors.append(RowError(line, f"больше {MAX_ROWS} строк в одном файле"))
                break
            if len(cells) != len(header):
                errors.append(RowError(
                    line, f"{len(cells)} значений вместо {len(header)} (по числу столбцов)"
                ))
                continue
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            row, problems = _row(line, values)
            if row is not None and row.external_id in seen:
                problems.append(
                    f"external_id «{row.external_id}» уже был в строке {seen[row.external_id]}"
                )
            if row is not None:
                seen.setdefault(row.external_id, line)
            errors.extend(RowError(line, p) for p in problems)
            if row is not None and not problems:
                rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"файл CSV повреждён: {exc}"))
    if errors:
        raise ImportRejected(errors)
    return rows


def _row(line: int, values: dict[str, str]) -> tuple[ImportRow | None, list[str]]:
    problems: list[str] = []
    get = values.get
    external_id = get("external_id", "")
    if not external_id:
        problems.append("пустой external_id")
    elif len(external_id) > 64:
        problems.append("external_id длиннее 64 символов")
    for name, title in (("last_name", "фамилия"), ("first_name", "имя")):
        if not get(name):
            problems.append(f"пустое поле {name} ({title})")
    for name in ("last_name", "first_name", "middle_name"):
        if len(get(name) or "") > 100:
            problems.append(f"поле {name} длиннее 100 символов")
    roles: set[Role] = set()
    for word in (get("roles") or "").replace(",", " ").split():
        role = ROLE_WORDS.get(word.lower())
        if role is None:
            problems.append(f"неизвестная роль «{word}»")
        else:
            roles.add(role)
    if not get("roles"):
        problems.append("не указана ни одна роль")
    classes: list[str] = []
    cell = get("class") or ""
    for name in CLASS_IN_CELL.findall(cell):
        try:
            classes.append(normalise_class_name(name))
        except SchoolError as exc:
            problems.append(str(exc))
    leftover = CLASS_IN_CELL.sub("", cell).replace(",", " ").replace(";", " ").strip()
    if leftover:
        problems.append(f"класс «{leftover}»: ожидается номер 1–11 и буква, например 5А")
    if classes:
        if Role.STUDENT in roles and len(classes) > 1:
            problems.append("у обучающегося может быть только один класс")
        elif Role.STUDENT not in roles and not roles & TEACHING_ROLES:
            problems.append("класс указывают только обучающимся и учителям")
    subject = get("subject") or None
    if roles & TEACHING_ROLES and Role.STUDENT not in roles and classes and not subject:
        problems.append("для учителя с классами нужен предмет (столбец subject)")
    if subject and len(subject) > 100:
        problems.append("предмет длиннее 100 символов")
    email, phone = get("email") or None, get("phone") or None
    if email and (not EMAIL.match(email) or len(email) > 254):
        problems.append(f"e-mail «{email}» записан неверно")
    if phone and not PHONE.match(phone):
        problems.append(f"телефон «{phone}» записан неверно")
    guardian_of = (get("guardian_of") or "").split()
    if guardian_of and Role.PARENT not in roles:
        problems.append("guardian_of заполняют только у родителей (роль parent)")
    if external_id in guardian_of:
        problems.append("человек не может быть своим законным представителем")
    if not external_id or not get("last_name") or not get("first_name"):
        return None, problems
    return ImportRow(
        line=line, external_id=external_id, last_name=values["last_name"],
        first_name=values["first_name"], middle_name=get("middle_name") or None,
        roles=frozenset(roles), classes=classes, subject=subject, email=email, phone=phone,
        guardian_of=guardian_of,
    ), problems


async def import_people(
    session: AsyncSession,
    school_id: int,
    data: bytes,
    *,
    may_grant_roles: bool,
) -> ImportReport:
    """Import a CSV file into the school within the caller's transaction. Raises
    ImportRejected (and changes nothing) when any row is wrong. Without `may_grant_roles`
    (Action.MANAGE_ROLES) a row may not give privileged roles nor change anyone's roles."""
    rows = parse(decode(data))
    existing = {
        p.external_id: p for p in await session.scalars(
            select(Person).where(
                Person.school_id == school_id,
                Person.external_id.in_([r.external_id for r in rows]),
            )
        )
    } if rows else {}
    in_file = {row.external_id for row in rows}
    wanted_children = {eid for row in rows for eid in row.guardian_of} - in_file
    known_children = {
        p.external_id: p for p in await session.scalars(
            select(Person).where(
                Person.school_id == school_id, Person.external_id.in_(wanted_children)
            )
        )
    } if wanted_children else {}
    errors: list[RowError] = []
    for row in rows:
        for child in row.guardian_of:
            if child not in in_file and child not in known_children:
                errors.append(RowError(row.line, f"guardian_of: нет человека «{child}»"))
        if may_grant_roles:
            continue
        person = existing.get(row.external_id)
        if person is None and row.roles & PRIVILEGED_ROLES:
            errors.append(RowError(
                row.line, "роли модератора, координатора, администратора и специалиста по "
                "кадрам назначает только системный администратор",
            ))
        elif person is not None and person.roles != row.roles:
            errors.append(RowError(
                row.line, "роли существующего человека меняет только системный администратор",
            ))
    if errors:
        raise ImportRejected(errors)

    report = ImportReport()
    classes = {
        c.name: c for c in await session.scalars(
            select(SchoolClass).where(SchoolClass.school_id == school_id)
        )
    }
    people: dict[str, Person] = dict(known_children)
    for row in rows:
        person = existing.get(row.external_id)
        if person is None:
            person = await create_person(
                session, school_id, last_name=row.last_name, first_name=row.first_name,
                middle_name=row.middle_name, email=row.email, phone=row.phone,
                external_id=row.external_id, roles=row.roles,
            )
            report.created += 1
        else:
            person.last_name, person.first_name = row.last_name, row.first_name
            person.middle_name, person.email, person.phone = (
                row.middle_name, row.email, row.phone
            )
            if person.roles != row.roles:
                await set_roles(session, person, row.roles)
            report.updated += 1
        people[row.external_id] = person
        for name in row.classes:
            if name not in classes:
                classes[name] = SchoolClass(school_id=school_id, name=name)
                session.add(classes[name])
                await session.flush()
                report.classes_created.append(name)
        if Role.STUDENT in row.roles and row.classes:
            await enrol(session, person, classes[row.classes[0]])
        elif row.classes and row.subject:
            for name in row.classes:
                key = (person.id, classes[name].id, row.subject)
                if await session.get(TeachingAssignment, key) is None:
                    session.add(TeachingAssignment(
                        teacher_id=person.id, class_id=classes[name].id, subject=row.subject
                    ))
    for row in rows:
        parent = people[row.external_id]
        for child_id in row.guardian_of:
            child = people[child_id]
            if await session.get(Guardianship, (parent.id, child.id)) is None:
                session.add(Guardianship(parent_id=parent.id, child_id=child.id))
                report.guardianships_added += 1
    await session.flush()
    return report
