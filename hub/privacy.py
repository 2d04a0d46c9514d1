"""Personal data (152-ФЗ): export everything the hub holds about a person, and erase it.

Every package that stores personal data provides a source; the composition root lists them
(`hub.compose.privacy_sources`), and the caller passes them in, so an export or erasure
reaches every table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.models import Account, Invitation, SignInCounter, WebSession
from hub.auth.throttle import LOGIN, counter_key
from hub.notify.addresses import ContactAddress
from hub.notify.preferences import ChannelPreference, DeliverySchedule
from hub.school import (
    Consent,
    Enrolment,
    Guardianship,
    Person,
    SchoolClass,
    TeachingAssignment,
)


class PersonalDataSource(Protocol):
    name: str  # the section of the export: "forum", "notifications", ...

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        """JSON-ready data about the person."""
        ...

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        """Remove or anonymise what identifies the person (texts others rely on may stay,
        unlinked from them)."""
        ...


# The placeholder an erased person's name becomes; the row stays so that others' records
# (grades, posts, consents given for a child) keep pointing somewhere.
ERASED_LAST_NAME = "Удалённый"
ERASED_FIRST_NAME = "пользователь"


def _iso(value: dt.datetime | dt.time | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ref(person: Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.full_name}


async def export_person(
    session: AsyncSession, person_id: int, sources: Sequence[PersonalDataSource]
) -> dict[str, Any]:
    """Everything the hub holds about a person, JSON-ready: the kernel's tables and every
    source given (under "sources")."""
    person = await session.get_one(Person, person_id)
    school_class = await session.scalar(
        select(SchoolClass).join(Enrolment, Enrolment.class_id == SchoolClass.id)
        .where(Enrolment.student_id == person_id)
    )
    children = await session.scalars(
        select(Person).join(Guardianship, Guardianship.child_id == Person.id)
        .where(Guardianship.parent_id == person_id).order_by(Person.id)
    )
    guardians = await session.scalars(
        select(Person).join(Guardianship, Guardianship.parent_id == Person.id)
        .where(Guardianship.child_id == person_id).order_by(Person.id)
    )
    teaching = await session.execute(
        select(SchoolClass.name, TeachingAssignment.subject)
        .join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
        .where(TeachingAssignment.teacher_id == person_id)
        .order_by(SchoolClass.name, TeachingAssignment.subject)
    )
    consents = await session.scalars(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.id)
    )
    account = await session.scalar(select(Account).where(Account.person_id == person_id))
    addresses = await session.scalars(
        select(ContactAddress).where(ContactAddress.person_id == person_id)
    )
    preferences = await session.scalars(
        select(ChannelPreference).where(ChannelPreference.person_id == person_id)
    )
    schedule = await session.get(DeliverySchedule, person_id)
    data: dict[str, Any] = {
        "person": {
            "id": person.id,
            "school_id": person.school_id,
            "last_name": person.last_name,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "email": person.email,
            "phone": person.phone,
            "external_id": person.external_id,
            "created_at": _iso(person.created_at),
        },
        "roles": sorted(role.value for role in person.roles),
        "class": school_class.name if school_class else None,
        "children": [_ref(child) for child in children],
        "guardians": [_ref(guardian) for guardian in guardians],
        "teaching": [{"class": name, "subject": subject} for name, subject in teaching],
        "consents": [
            {
                "purpose": consent.purpose.value,
                "given_by_id": consent.given_by_id,
                "recorded_by_id": consent.recorded_by_id,
                "given_at": _iso(consent.given_at),
                "withdrawn_at": _iso(consent.withdrawn_at),
            }
            for consent in consents
        ],
        "account": None,
        "contact_addresses": [
            {
                "channel": row.channel.value,
                "address": row.address,
                "updated_at": _iso(row.updated_at),
                "disabled_at": _iso(row.disabled_at),
                "disabled_reason": row.disabled_reason,
            }
            for row in addresses
        ],
        "notification_preferences": {
            "modes": [
                {"kind": row.kind.value, "channel": row.channel.value, "mode": row.mode.value}
                for row in preferences
            ],
            "quiet_start": _iso(schedule.quiet_start) if schedule else None,
            "quiet_end": _iso(schedule.quiet_end) if schedule else None,
            "digest_at": _iso(schedule.digest_at) if schedule else None,
        },
        "sources": {},
    }
    if account is not None:
        sessions = await session.scalar(
            select(func.count()).select_from(WebSession)
            .where(WebSession.account_id == account.id)
        )
        invitations = await session.scalar(
            select(func.count()).select_from(Invitation)
            .where(Invitation.account_id == account.id)
        )
        data["account"] = {
            "login": account.login,
            "is_active": account.is_active,
            "must_change_password": account.must_change_password,
            "has_password": account.password_hash is not None,
            "created_at": _iso(account.created_at),
            "last_login_at": _iso(account.last_login_at),
            "sessions": sessions or 0,
            "invitations": invitations or 0,
        }
    for source in sources:
        data["sources"][source.name] = await source.export(session, person_id)
    return data


async def erase_person(
    session: AsyncSession, person_id: int, sources: Sequence[PersonalDataSource]
) -> int | None:
    """Erase a person inside the caller's transaction: the account (with its sessions,
    invitations and sign-in failures), contact addresses, preferences, consents,
    guardianships, enrolment, teaching, roles and every source's data; the row stays with
    an anonymised name and no contacts. Returns the erased account's id (to end sessions
    kept outside the database), if there was one."""
    person = await session.get_one(Person, person_id)
    for source in sources:
        await source.erase(session, person_id)
    account = await session.scalar(select(Account).where(Account.person_id == person_id))
    account_id = account.id if account else None
    if account is not None:
        await session.execute(delete(SignInCounter).where(
            SignInCounter.key == counter_key(LOGIN.scope, account.login)))
        await session.execute(delete(WebSession).where(WebSession.account_id == account.id))
        await session.execute(delete(Invitation).where(Invitation.account_id == account.id))
        await session.delete(account)
    for table, column in (
        (ContactAddress, ContactAddress.person_id),
        (ChannelPreference, ChannelPreference.person_id),
        (DeliverySchedule, DeliverySchedule.person_id),
        (Consent, Consent.person_id),
        (Enrolment, Enrolment.student_id),
        (TeachingAssignment, TeachingAssignment.teacher_id),
    ):
        await session.execute(delete(table).where(column == person_id))
    await session.execute(
        delete(Guardianship).where(
            or_(Guardianship.parent_id == person_id, Guardianship.child_id == person_id)
        )
    )
    person.role_grants.clear()
    person.last_name = ERASED_LAST_NAME
    person.first_name = ERASED_FIRST_NAME
    person.middle_name = None
    person.email = None
    person.phone = None
    person.external_id = None
    await session.flush()
    return account_id

