"""The school: schools, people, roles, classes, enrolments, guardianships, teaching, consent.

Every row belongs to one school; a deployment may host several.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import (
    ForeignKey,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub import clock
from hub.db import Base, str_enum
from hub.errors import Invalid


class Role(enum.StrEnum):
    PARENT = "parent"
    STUDENT = "student"
    TEACHER = "teacher"
    SPEECH_THERAPIST = "speech_therapist"
    PSYCHOLOGIST = "psychologist"
    MODERATOR = "moderator"
    COORDINATOR = "coordinator"
    SYSADMIN = "sysadmin"
    HR = "hr"


ROLE_TITLES: dict[Role, str] = {
    Role.PARENT: "родитель",
    Role.STUDENT: "обучающийся",
    Role.TEACHER: "учитель",
    Role.SPEECH_THERAPIST: "логопед",
    Role.PSYCHOLOGIST: "психолог",
    Role.MODERATOR: "модератор",
    Role.COORDINATOR: "координатор",
    Role.SYSADMIN: "системный администратор",
    Role.HR: "специалист по кадрам",
}

# Teachers, speech therapists and psychologists all teach classes they are assigned to.
TEACHING_ROLES = frozenset({Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST})
STAFF_ROLES = TEACHING_ROLES | {Role.MODERATOR, Role.COORDINATOR, Role.SYSADMIN, Role.HR}


class ConsentPurpose(enum.StrEnum):
    PROCESSING = "processing"  # storing and processing personal data in the hub
    NOTIFICATIONS = "notifications"  # sending notifications by e-mail and messengers


CONSENT_TITLES: dict[ConsentPurpose, str] = {
    ConsentPurpose.PROCESSING: "обработка персональных данных",
    ConsentPurpose.NOTIFICATIONS: "уведомления по e-mail и в мессенджерах",
}


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("school_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The id the school's journal or a CSV import knows this person by.
    external_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.role_grants)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def short_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class RoleGrant(Base):
    __tablename__ = "role_grants"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), primary_key=True)

    person: Mapped[Person] = relationship(back_populates="role_grants")


class SchoolClass(Base):
    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Enrolment(Base):
    """A student's class: one at a time."""

    __tablename__ = "enrolments"

    student_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)


class Guardianship(Base):
    __tablename__ = "guardianships"

    parent_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    child_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TeachingAssignment(Base):
    __tablename__ = "teaching_assignments"

    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    subject: Mapped[str] = mapped_column(String(100), primary_key=True)


class Consent(Base):
    """Personal-data consent (school policy 5.4): what for, when, given by whom."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[ConsentPurpose] = mapped_column(str_enum(ConsentPurpose, "consent_purpose"))
    # The person themselves, or a guardian giving it for a child.
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    given_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    withdrawn_at: Mapped[dt.datetime | None]


CLASS_NAME = re.compile(r"^(?:[1-9]|1[01])[А-ЯЁ]$")


class SchoolError(Invalid):
    """A request the school's records cannot take; the message is for a person to read.

    The message is a fragment ("класс 5А уже есть"): forms and CSV lines put it after what
    it is about. In the JSON API it is one problem not tied to a field."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details=[{"field": "", "message": message}])


def normalise_class_name(name: str) -> str:
    value = name.strip().upper().replace(" ", "").replace("-", "")
    if not CLASS_NAME.match(value):
        raise SchoolError(f"класс «{name}»: ожидается номер 1–11 и буква, например 5А")
    return value


async def create_school(session: AsyncSession, name: str, slug: str) -> School:
    school = School(name=name, slug=slug)
    session.add(school)
    await session.flush()
    return school


async def create_person(
    session: AsyncSession,
    school_id: int,
    *,
    last_name: str,
    first_name: str,
    middle_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    roles: Iterable[Role] = (),
) -> Person:
    person = Person(
        school_id=school_id,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name or None,
        email=email or None,
        phone=phone or None,
        external_id=external_id or None,
        role_grants=[RoleGrant(role=role) for role in set(roles)],
    )
    session.add(person)
    await session.flush()
    return person


async def set_roles(session: AsyncSession, person: Person, roles: Iterable[Role]) -> None:
    wanted = set(roles)
    person.role_grants[:] = [g for g in person.role_grants if g.role in wanted]
    for role in wanted - person.roles:
        person.role_grants.append(RoleGrant(role=role))
    await session.flush()


async def get_or_create_class(session: AsyncSession, school_id: int, name: str) -> SchoolClass:
    name = normalise_class_name(name)
    found = await session.scalar(
        select(SchoolClass).where(SchoolClass.school_id == school_id, SchoolClass.name == name)
    )
    if found is not None:
        return found
    school_class = SchoolClass(school_id=school_id, name=name)
    session.add(school_class)
    await session.flush()
    return school_class


async def enrol(session: AsyncSession, student: Person, school_class: SchoolClass) -> None:
    if student.school_id != school_class.school_id:
        raise SchoolError("ученик и класс из разных школ")
    await session.execute(delete(Enrolment).where(Enrolment.student_id == student.id))
    session.add(Enrolment(student_id=student.id, class_id=school_class.id))
    await session.flush()


async def add_guardianship(session: AsyncSession, parent: Person, child: Person) -> None:
    if parent.school_id != child.school_id:
        raise SchoolError("родитель и ребёнок из разных школ")
    if parent.id == child.id:
        raise SchoolError("человек не может быть своим законным представителем")
    exists = await session.get(Guardianship, (parent.id, child.id))
    if exists is None:
        session.add(Guardianship(parent_id=parent.id, child_id=child.id))
        await session.flush()


async def assign_teaching(
    session: AsyncSession, teacher: Person, school_class: SchoolClass, subject: str
) -> None:
    if teacher.school_id != school_class.school_id:
        raise SchoolError("учитель и класс из разных школ")
    key = (teacher.id, school_class.id, subject)
    if await session.get(TeachingAssignment, key) is None:
        session.add(TeachingAssignment(teacher_id=teacher.id, class_id=school_class.id,
                                       subject=subject))
        await session.flush()


async def record_consent(
    session: AsyncSession,
    person: Person,
    purpose: ConsentPurpose,
    *,
    given_by: Person | None = None,
    recorded_by: Person | None = None,
    given_at: dt.datetime | None = None,
) -> Consent:
    consent = Consent(
        person_id=person.id,
        purpose=purpose,
        given_by_id=(given_by or person).id,
        recorded_by_id=recorded_by.id if recorded_by else None,
        given_at=given_at or clock.now(),
    )
    session.add(consent)
    await session.flush()
    return consent


async def withdraw_consent(
    session: AsyncSession, person_id: int, purpose: ConsentPurpose
) -> None:
    consents = await session.scalars(
        select(Consent).where(
            Consent.person_id == person_id,
            Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
    )
    for consent in consents:
        consent.withdrawn_at = clock.now()
    await session.flush()


async def consenting(
    session: AsyncSession, person_ids: Iterable[int], purpose: ConsentPurpose
) -> set[int]:
    """The people among `person_ids` whose consent for `purpose` stands."""
    ids = list(set(person_ids))
    if not ids:
        return set()
    rows = await session.scalars(
        select(Consent.person_id).where(
            Consent.person_id.in_(ids),
            Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
    )
    return set(rows)


async def class_of(session: AsyncSession, student_id: int) -> SchoolClass | None:
    return await session.scalar(
        select(SchoolClass).join(Enrolment, Enrolment.class_id == SchoolClass.id)
        .where(Enrolment.student_id == student_id)
    )


async def children_of(session: AsyncSession, parent_id: int) -> Sequence[Person]:
    result = await session.scalars(
        select(Person).join(Guardianship, Guardianship.child_id == Person.id)
        .where(Guardianship.parent_id == parent_id).order_by(Person.last_name, Person.first_name)
    )
    return result.all()


async def guardians_of(session: AsyncSession, child_ids: Iterable[int]) -> dict[int, list[int]]:
    """child id -> guardian person ids."""
    ids = list(set(child_ids))
    result: dict[int, list[int]] = {child: [] for child in ids}
    if not ids:
        return result
    rows = await session.execute(
        select(Guardianship.child_id, Guardianship.parent_id).where(
            Guardianship.child_id.in_(ids)
        )
    )
    for child_id, parent_id in rows:
        result[child_id].append(parent_id)
    return result


async def students_of_class(session: AsyncSession, class_id: int) -> Sequence[Person]:
    result = await session.scalars(
        select(Person).join(Enrolment, Enrolment.student_id == Person.id)
        .where(Enrolment.class_id == class_id).order_by(Person.last_name, Person.first_name)
    )
    return result.all()


async def classes_of_school(session: AsyncSession, school_id: int) -> Sequence[SchoolClass]:
    result = await session.scalars(
        select(SchoolClass).where(SchoolClass.school_id == school_id)
    )
    return sorted(result.all(), key=class_sort_key)


def class_sort_key(school_class: SchoolClass) -> tuple[int, str]:
    return int(school_class.name[:-1]), school_class.name[-1]
