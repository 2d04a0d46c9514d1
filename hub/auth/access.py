"""The one place that answers "may this person do this to that?".

Access follows the role and the class: a rule names the roles that may act anywhere in the
school and the roles that may act only in their own classes (a teacher's taught classes, a
parent's children's classes, a student's own class). Every view asks `can` or `require`;
nothing else decides access. Adding an action means adding a row to RULES, and the
table-driven test in tests/hub/test_access.py then walks it for every role.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.school import (
    Enrolment,
    Guardianship,
    Person,
    Role,
    TeachingAssignment,
)


class TokenScope(enum.StrEnum):
    ADMIN = "admin"  # people, classes, guardianships, consent
    JOURNAL = "journal"  # grades and attendance from the school's journal


class Action(enum.StrEnum):
    VIEW_PROFILE = "view_profile"
    CHANGE_PASSWORD = "change_password"
    VIEW_CLASS = "view_class"
    VIEW_PEOPLE = "view_people"
    MANAGE_PEOPLE = "manage_people"
    ISSUE_ACCOUNTS = "issue_accounts"
    MANAGE_ROLES = "manage_roles"
    MANAGE_CLASSES = "manage_classes"
    MANAGE_GUARDIANSHIPS = "manage_guardianships"
    RECORD_CONSENT = "record_consent"
    IMPORT_PEOPLE = "import_people"
    EXPORT_PERSONAL_DATA = "export_personal_data"
    ERASE_PERSONAL_DATA = "erase_personal_data"
    MANAGE_API_TOKENS = "manage_api_tokens"


ALL_ROLES = frozenset(Role)
STAFF_RECORDS = frozenset({Role.SYSADMIN, Role.HR})
CLASS_MEMBERS = frozenset(
    {Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST, Role.PARENT, Role.STUDENT}
)


@dataclass(frozen=True)
class Rule:
    anywhere: frozenset[Role] = frozenset()
    in_own_classes: frozenset[Role] = frozenset()
    token_scopes: frozenset[TokenScope] = frozenset()


RULES: dict[Action, Rule] = {
    Action.VIEW_PROFILE: Rule(anywhere=ALL_ROLES),
    Action.CHANGE_PASSWORD: Rule(anywhere=ALL_ROLES),
    Action.VIEW_CLASS: Rule(
        anywhere=frozenset({Role.COORDINATOR, Role.SYSADMIN, Role.HR}),
        in_own_classes=CLASS_MEMBERS,
        token_scopes=frozenset({TokenScope.ADMIN}),
    ),
    Action.VIEW_PEOPLE: Rule(
        anywhere=frozenset({Role.COORDINATOR, Role.SYSADMIN, Role.HR}),
        token_scopes=frozenset({TokenScope.ADMIN}),
    ),
    Action.MANAGE_PEOPLE: Rule(anywhere=STAFF_RECORDS, token_scopes=frozenset({TokenScope.ADMIN})),
    Action.MANAGE_CLASSES: Rule(
        anywhere=STAFF_RECORDS, token_scopes=frozenset({TokenScope.ADMIN})
    ),
    Action.MANAGE_GUARDIANSHIPS: Rule(
        anywhere=STAFF_RECORDS, token_scopes=frozenset({TokenScope.ADMIN})
    ),
    Action.RECORD_CONSENT: Rule(
        anywhere=STAFF_RECORDS, token_scopes=frozenset({TokenScope.ADMIN})
    ),
    Action.IMPORT_PEOPLE: Rule(anywhere=STAFF_RECORDS, token_scopes=frozenset({TokenScope.ADMIN})),
    Action.ISSUE_ACCOUNTS: Rule(anywhere=frozenset({Role.SYSADMIN})),
    Action.MANAGE_ROLES: Rule(anywhere=frozenset({Role.SYSADMIN})),
    Action.EXPORT_PERSONAL_DATA: Rule(anywhere=frozenset({Role.SYSADMIN})),
    Action.ERASE_PERSONAL_DATA: Rule(anywhere=frozenset({Role.SYSADMIN})),
    Action.MANAGE_API_TOKENS: Rule(anywhere=frozenset({Role.SYSADMIN})),
}


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in person, or an API token of the school."""

    school_id: int
    person_id: int | None
    roles: frozenset[Role] = frozenset()
    # The classes each class-scoped role reaches.
    taught_class_ids: frozenset[int] = frozenset()
    children_class_ids: frozenset[int] = frozenset()
    own_class_id: int | None = None
    child_ids: frozenset[int] = frozenset()
    token_id: int | None = None
    token_scopes: frozenset[TokenScope] = field(default_factory=frozenset)

    def classes_as(self, role: Role) -> frozenset[int]:
        if role in (Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST):
            return self.taught_class_ids
        if role is Role.PARENT:
            return self.children_class_ids
        if role is Role.STUDENT and self.own_class_id is not None:
            return frozenset({self.own_class_id})
        return frozenset()

    def has_any(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)


class Everywhere:
    """The scope of a principal who may act in every class of the school."""

    def __contains__(self, class_id: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERYWHERE"


EVERYWHERE = Everywhere()


class AccessDenied(Exception):
    def __init__(self, action: Action) -> None:
        super().__init__(action)
        self.action = action


def can(principal: Principal, action: Action, class_id: int | None = None) -> bool:
    """May `principal` do `action` (in class `class_id`, when the action concerns a class)?"""
    rule = RULES[action]
    if principal.has_any(rule.anywhere) or not principal.token_scopes.isdisjoint(
        rule.token_scopes
    ):
        return True
    if class_id is None:
        return False
    return any(
        class_id in principal.classes_as(role) for role in rule.in_own_classes & principal.roles
    )


def require(principal: Principal, action: Action, class_id: int | None = None) -> None:
    if not can(principal, action, class_id):
        raise AccessDenied(action)


def classes_for(principal: Principal, action: Action) -> frozenset[int] | Everywhere:
    """Every class in which `principal` may do `action`: for listings and filters."""
    rule = RULES[action]
    if principal.has_any(rule.anywhere) or not principal.token_scopes.isdisjoint(
        rule.token_scopes
    ):
        return EVERYWHERE
    scope: set[int] = set()
    for role in rule.in_own_classes & principal.roles:
        scope |= principal.classes_as(role)
    return frozenset(scope)


async def load_principal(session: AsyncSession, person: Person) -> Principal:
    taught = await session.scalars(
        select(TeachingAssignment.class_id).where(TeachingAssignment.teacher_id == person.id)
    )
    children = (
        await session.execute(
            select(Guardianship.child_id, Enrolment.class_id)
            .outerjoin(Enrolment, Enrolment.student_id == Guardianship.child_id)
            .where(Guardianship.parent_id == person.id)
        )
    ).all()
    own_class = await session.scalar(
        select(Enrolment.class_id).where(Enrolment.student_id == person.id)
    )
    return Principal(
        school_id=person.school_id,
        person_id=person.id,
        roles=person.roles,
        taught_class_ids=frozenset(taught),
        children_class_ids=frozenset(c for _, c in children if c is not None),
        child_ids=frozenset(child for child, _ in children),
        own_class_id=own_class,
    )
