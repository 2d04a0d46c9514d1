"""The school's directory for administration: finding people and classes of one school,
a person's and a class's full picture, and the changes administrators make.

Service functions: an AsyncSession and plain values in, domain objects out. Every lookup is
filtered by the school, so another school's id is simply "not found".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import clock
from hub.auth.models import Account, ApiToken, Invitation, WebSession
from hub.school import (
    Consent,
    Enrolment,
    Guardianship,
    Person,
    Role,
    RoleGrant,
    SchoolClass,
    SchoolError,
    TeachingAssignment,
    class_sort_key,
    normalise_class_name,
)

# Roles that give power over others: only whoever may manage roles grants them.
PRIVILEGED_ROLES = frozenset({Role.MODERATOR, Role.COORDINATOR, Role.SYSADMIN, Role.HR})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{5,20}$")
PAGE_SIZE = 50


def check_contacts(email: str | None, phone: str | None) -> None:
    """Raises SchoolError when an e-mail or phone is malformed."""
    if email and not EMAIL.match(email):
        raise SchoolError(f"e-mail «{email}» записан неверно")
    if phone and not PHONE.match(phone):
        raise SchoolError(f"телефон «{phone}» записан неверно")


async def find_person(session: AsyncSession, school_id: int, person_id: int) -> Person | None:
    return await session.scalar(
        select(Person).where(Person.id == person_id, Person.school_id == school_id)
    )


async def find_class(
    session: AsyncSession, school_id: int, class_id: int
) -> SchoolClass | None:
    return await session.scalar(
        select(SchoolClass).where(SchoolClass.id == class_id, SchoolClass.school_id == school_id)
    )


async def find_class_by_name(
    session: AsyncSession, school_id: int, name: str
) -> SchoolClass | None:
    return await session.scalar(
        select(SchoolClass).where(SchoolClass.school_id == school_id, SchoolClass.name == name)
    )


@dataclass(frozen=True)
class PeoplePage:
    people: Sequence[Person]
    total: int
    classes: dict[int, str]  # student id -> class name


async def search_people(
    session: AsyncSession,
    school_id: int,
    *,
    text: str = "",
    role: Role | None = None,
    class_id: int | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> PeoplePage:
    """People of the school matching a name/e-mail/external id fragment, a role and a class
    (a student of it, a parent of its student, or a teacher of it)."""
    query = select(Person).where(Person.school_id == school_id)
    for word in text.split():
        # SQLite's lower() and LIKE fold only ASCII, so Cyrillic cases are spelled out.
        patterns = {f"%{_escape(v)}%" for v in (word, word.lower(), word.capitalize(),
                                                 word.upper())}
        query = query.where(or_(*(
            column.like(pattern, escape="\\")
            for column in (Person.last_name, Person.first_name, Person.middle_name,
                           Person.email, Person.external_id)
            for pattern in patterns
        )))
    if role is not None:
        query = query.where(
            Person.id.in_(select(RoleGrant.person_id).where(RoleGrant.role == role))
        )
    if class_id is not None:
        students = select(Enrolment.student_id).where(Enrolment.class_id == class_id)
        query = query.where(
            or_(
                Person.id.in_(students),
                Person.id.in_(
                    select(Guardianship.parent_id).where(Guardianship.child_id.in_(students))
                ),
                Person.id.in_(
                    select(TeachingAssignment.teacher_id).where(
                        TeachingAssignment.class_id == class_id
                    )
                ),
            )
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    people = (
        await session.scalars(
            query.order_by(Person.last_name, Person.first_name, Person.id)
            .limit(page_size).offset((max(page, 1) - 1) * page_size)
        )
    ).all()
    return PeoplePage(people, total, await class_names_of(session, [p.id for p in people]))


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def class_names_of(session: AsyncSession, student_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(student_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Enrolment.student_id, SchoolClass.name)
        .join(SchoolClass, SchoolClass.id == Enrolment.class_id)
        .where(Enrolment.student_id.in_(ids))
    )
    return {student_id: name for student_id, name in rows}


@dataclass(frozen=True)
class Teaching:
    school_class: SchoolClass
    subject: str


@dataclass
class PersonDetails:
    person: Person
    school_class: SchoolClass | None
    children: list[Person] = field(default_factory=list)
    guardians: list[Person] = field(default_factory=list)
    teaching: list[Teaching] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    consent_givers: dict[int, Person] = field(default_factory=dict)
    account: Account | None = None


async def person_details(session: AsyncSession, person: Person) -> PersonDetails:
    school_class = await session.scalar(
        select(SchoolClass).join(Enrolment, Enrolment.class_id == SchoolClass.id)
        .where(Enrolment.student_id == person.id)
    )
    children = (await session.scalars(
        select(Person).join(Guardianship, Guardianship.child_id == Person.id)
        .where(Guardianship.parent_id == person.id).order_by(Person.last_name, Person.first_name)
    )).all()
    guardians = (await session.scalars(
        select(Person).join(Guardianship, Guardianship.parent_id == Person.id)
        .where(Guardianship.child_id == person.id).order_by(Person.last_name, Person.first_name)
    )).all()
    teaching_rows = (await session.execute(
        select(SchoolClass, TeachingAssignment.subject)
        .join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
        .where(TeachingAssignment.teacher_id == person.id)
    )).all()
    teaching = sorted(
        (Teaching(c, s) for c, s in teaching_rows),
        key=lambda t: (class_sort_key(t.school_class), t.subject),
    )
    consents = (await session.scalars(
        select(Consent).where(Consent.person_id == person.id).order_by(Consent.given_at)
    )).all()
    giver_ids = {c.given_by_id for c in consents if c.given_by_id is not None}
    givers = {
        p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(giver_ids)))
    } if giver_ids else {}
    account = await session.scalar(select(Account).where(Account.person_id == person.id))
    return PersonDetails(
        person, school_class, list(children), list(guardians), teaching, list(consents),
        givers, account,
    )


async def update_person(
    session: AsyncSession,
    person: Person,
    *,
    last_name: str | None = None,
    first_name: str | None = None,
    middle_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    clear: Iterable[str] = (),
) -> Person:
    """Change the given fields; names in `clear` are set to empty (optional fields only)."""
    if last_name is not None and not last_name.strip():
        raise SchoolError("фамилия не может быть пустой")
    if first_name is not None and not first_name.strip():
        raise SchoolError("имя не может быть пустым")
    check_contacts(email, phone)
    if external_id and external_id != person.external_id:
        taken = await session.scalar(
            select(Person.id).where(
                Person.school_id == person.school_id, Person.external_id == external_id,
                Person.id != person.id,
            )
        )
        if taken is not None:
            raise SchoolError(f"внешний код «{external_id}» уже есть у другого человека")
    values = {
        "last_name": last_name, "first_name": first_name, "middle_name": middle_name,
        "email": email, "phone": phone, "external_id": external_id,
    }
    for name, value in values.items():
        if value is not None:
            required = name in ("last_name", "first_name")
            setattr(person, name, value.strip() if required else value.strip() or None)
    for name in clear:
        if name in ("middle_name", "email", "phone", "external_id"):
            setattr(person, name, None)
    await session.flush()
    return person


async def external_id_taken(session: AsyncSession, school_id: int, external_id: str) -> bool:
    return await session.scalar(
        select(Person.id).where(Person.school_id == school_id, Person.external_id == external_id)
    ) is not None


async def leave_class(session: AsyncSession, student_id: int) -> None:
    await session.execute(delete(Enrolment).where(Enrolment.student_id == student_id))
    await session.flush()


async def remove_guardianship(session: AsyncSession, parent_id: int, child_id: int) -> bool:
    row = await session.get(Guardianship, (parent_id, child_id))
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def remove_teaching(
    session: AsyncSession, teacher_id: int, class_id: int, subject: str
) -> bool:
    row = await session.get(TeachingAssignment, (teacher_id, class_id, subject))
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def create_class(session: AsyncSession, school_id: int, name: str) -> SchoolClass:
    name = normalise_class_name(name)
    if await find_class_by_name(session, school_id, name) is not None:
        raise SchoolError(f"класс {name} уже есть")
    school_class = SchoolClass(school_id=school_id, name=name)
    session.add(school_class)
    await session.flush()
    return school_class


@dataclass(frozen=True)
class ClassSummary:
    school_class: SchoolClass
    students: int


async def class_summaries(
    session: AsyncSession, school_id: int, only: Iterable[int] | None = None
) -> list[ClassSummary]:
    query = (
        select(SchoolClass, func.count(Enrolment.student_id))
        .outerjoin(Enrolment, Enrolment.class_id == SchoolClass.id)
        .where(SchoolClass.school_id == school_id)
        .group_by(SchoolClass.id)
    )
    if only is not None:
        query = query.where(SchoolClass.id.in_(list(only)))
    rows = (await session.execute(query)).all()
    return sorted(
        (ClassSummary(c, n) for c, n in rows), key=lambda s: class_sort_key(s.school_class)
    )


@dataclass
class ClassDetails:
    school_class: SchoolClass
    students: list[Person]
    parents: dict[int, list[Person]]  # student id -> guardians
    teachers: list[tuple[Person, str]]


async def class_details(session: AsyncSession, school_class: SchoolClass) -> ClassDetails:
    students = list((await session.scalars(
        select(Person).join(Enrolment, Enrolment.student_id == Person.id)
        .where(Enrolment.class_id == school_class.id)
        .order_by(Person.last_name, Person.first_name)
    )).all())
    parents: dict[int, list[Person]] = {s.id: [] for s in students}
    if students:
        rows = await session.execute(
            select(Guardianship.child_id, Person)
            .join(Person, Person.id == Guardianship.parent_id)
            .where(Guardianship.child_id.in_(list(parents)))
            .order_by(Person.last_name, Person.first_name)
        )
        for child_id, parent in rows:
            parents[child_id].append(parent)
    teachers = [
        (teacher, subject) for teacher, subject in await session.execute(
            select(Person, TeachingAssignment.subject)
            .join(TeachingAssignment, TeachingAssignment.teacher_id == Person.id)
            .where(TeachingAssignment.class_id == school_class.id)
            .order_by(TeachingAssignment.subject, Person.last_name)
        )
    ]
    return ClassDetails(school_class, students, parents, teachers)


async def account_of(session: AsyncSession, person_id: int) -> Account | None:
    return await session.scalar(select(Account).where(Account.person_id == person_id))


async def set_account_active(session: AsyncSession, account: Account, active: bool) -> None:
    """Deactivating also ends the account's database sessions (the caller ends the others)."""
    account.is_active = active
    if not active:
        await session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    await session.flush()


async def reset_by_invitation(session: AsyncSession, account: Account) -> str:
    """The old password stops working; a new invitation link token is returned."""
    from hub.auth.accounts import invite

    account.password_hash = None
    account.must_change_password = False
    await session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    return await invite(session, account)


async def pending_invitation(session: AsyncSession, account_id: int) -> Invitation | None:
    return await session.scalar(
        select(Invitation).where(
            Invitation.account_id == account_id, Invitation.used_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
    )


async def tokens_of_school(session: AsyncSession, school_id: int) -> Sequence[ApiToken]:
    return (await session.scalars(
        select(ApiToken).where(ApiToken.school_id == school_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
    )).all()


async def people_with_role(
    session: AsyncSession, school_id: int, role: Role
) -> Sequence[Person]:
    return (await session.scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(Person.school_id == school_id, RoleGrant.role == role)
        .order_by(Person.last_name, Person.first_name)
    )).all()
