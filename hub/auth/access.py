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

from sqlalchemy import CompoundSelect, literal, null, select, union_all
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
    # forum and board
    READ_BOARD = "read_board"
    READ_ALL_NOTICES = "read_all_notices"
    READ_STAFF_NOTICES = "read_staff_notices"
    READ_PARENT_NOTICES = "read_parent_notices"
    READ_CLASS_NOTICES = "read_class_notices"
    POST_ANNOUNCEMENT = "post_announcement"
    POST_SCHOOL_ANNOUNCEMENT = "post_school_announcement"
    VIEW_ACK_REPORT = "view_ack_report"
    READ_SCHOOL_FORUM = "read_school_forum"
    POST_SCHOOL_FORUM = "post_school_forum"
    READ_STAFF_ROOM = "read_staff_room"
    POST_STAFF_ROOM = "post_staff_room"
    READ_CLASS_FORUM = "read_class_forum"
    POST_CLASS_FORUM = "post_class_forum"
    OVERSEE_SECTION = "oversee_section"
    SEE_HELD_POSTS = "see_held_posts"
    REPORT_POST = "report_post"
    # journal (grades and attendance)
    ENTER_GRADES = "enter_grades"
    VIEW_OWN_GRADES = "view_own_grades"
    # telegram
    LINK_TELEGRAM = "link_telegram"
    # moderation (the flagged queue, watched words, sanctions, audit log)
    MODERATE = "moderate"
    UNDO_ANY_DECISION = "undo_any_decision"
    SANCTION_AUTHOR = "sanction_author"
    MANAGE_WATCHED_WORDS = "manage_watched_words"
    READ_AUDIT_LOG = "read_audit_log"
    # notifications (the pipeline): one's own list and settings; the delivery log
    VIEW_NOTIFICATIONS = "view_notifications"
    VIEW_DELIVERY_LOG = "view_delivery_log"
    RETRY_DELIVERIES = "retry_deliveries"
    # mail: the local mailbox (e-mail kept when no SMTP server is configured)
    VIEW_MAILBOX = "view_mailbox"


ALL_ROLES = frozenset(Role)
STAFF_RECORDS = frozenset({Role.SYSADMIN, Role.HR})
CLASS_MEMBERS = frozenset(
    {Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST, Role.PARENT, Role.STUDENT}
)
# forum and board
TEACHERS = frozenset({Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST})
STAFF = TEACHERS | {Role.MODERATOR, Role.COORDINATOR, Role.SYSADMIN, Role.HR}
BOARD_ADMINS = frozenset({Role.COORDINATOR, Role.SYSADMIN})
BOARD_OFFICE = BOARD_ADMINS | {Role.MODERATOR}


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
    # forum and board: who reads which notices (the audience rows of forum.audience pick
    # among these), who posts where, and policy 7.6 (those who oversee a class section read
    # and answer in all of it).
    Action.READ_BOARD: Rule(anywhere=ALL_ROLES),
    Action.READ_ALL_NOTICES: Rule(anywhere=BOARD_OFFICE),
    Action.READ_STAFF_NOTICES: Rule(anywhere=STAFF),
    Action.READ_PARENT_NOTICES: Rule(anywhere=frozenset({Role.PARENT})),
    Action.READ_CLASS_NOTICES: Rule(anywhere=BOARD_OFFICE, in_own_classes=CLASS_MEMBERS),
    Action.POST_ANNOUNCEMENT: Rule(anywhere=BOARD_ADMINS, in_own_classes=TEACHERS),
    Action.POST_SCHOOL_ANNOUNCEMENT: Rule(anywhere=BOARD_ADMINS),
    Action.VIEW_ACK_REPORT: Rule(anywhere=BOARD_ADMINS),
    Action.READ_SCHOOL_FORUM: Rule(anywhere=ALL_ROLES),
    Action.POST_SCHOOL_FORUM: Rule(anywhere=ALL_ROLES),
    Action.READ_STAFF_ROOM: Rule(anywhere=STAFF),
    Action.POST_STAFF_ROOM: Rule(anywhere=STAFF),
    Action.READ_CLASS_FORUM: Rule(anywhere=BOARD_OFFICE, in_own_classes=CLASS_MEMBERS),
    Action.POST_CLASS_FORUM: Rule(anywhere=BOARD_ADMINS, in_own_classes=CLASS_MEMBERS),
    Action.OVERSEE_SECTION: Rule(anywhere=BOARD_ADMINS, in_own_classes=TEACHERS),
    Action.SEE_HELD_POSTS: Rule(anywhere=BOARD_OFFICE),
    Action.REPORT_POST: Rule(anywhere=ALL_ROLES),
    # journal: teachers enter grades and attendance in the classes they teach (the service
    # also checks the subject), a coordinator and the journal's token anywhere. Parents see
    # their own children's records and students their own: the page selects only those.
    Action.ENTER_GRADES: Rule(
        anywhere=frozenset({Role.COORDINATOR}),
        in_own_classes=frozenset({Role.TEACHER, Role.SPEECH_THERAPIST, Role.PSYCHOLOGIST}),
        token_scopes=frozenset({TokenScope.JOURNAL}),
    ),
    Action.VIEW_OWN_GRADES: Rule(anywhere=frozenset({Role.PARENT, Role.STUDENT})),
    # telegram: anyone may link their own chat to their own account
    Action.LINK_TELEGRAM: Rule(anywhere=ALL_ROLES),
    # moderation: moderators and coordinators work the queue and warn or mute authors; a
    # coordinator may also undo another moderator's decision. Watched words are the system
    # administrator's (and the coordinator's); the audit log is read, never edited.
    Action.MODERATE: Rule(anywhere=frozenset({Role.MODERATOR, Role.COORDINATOR})),
    Action.UNDO_ANY_DECISION: Rule(anywhere=frozenset({Role.COORDINATOR})),
    Action.SANCTION_AUTHOR: Rule(anywhere=frozenset({Role.MODERATOR, Role.COORDINATOR})),
    Action.MANAGE_WATCHED_WORDS: Rule(anywhere=frozenset({Role.SYSADMIN, Role.COORDINATOR})),
    Action.READ_AUDIT_LOG: Rule(anywhere=frozenset({Role.COORDINATOR, Role.SYSADMIN})),
    # notifications: everyone reads their own list and sets their channels; the system
    # administrator and the coordinator read the school's delivery log and send dead
    # deliveries again.
    Action.VIEW_NOTIFICATIONS: Rule(anywhere=ALL_ROLES),
    Action.VIEW_DELIVERY_LOG: Rule(anywhere=frozenset({Role.SYSADMIN, Role.COORDINATOR})),
    Action.RETRY_DELIVERIES: Rule(anywhere=frozenset({Role.SYSADMIN, Role.COORDINATOR})),
    # mail: only the system administrator reads the local mailbox (it holds what parents
    # would have received).
    Action.VIEW_MAILBOX: Rule(anywhere=frozenset({Role.SYSADMIN})),
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
    """The person's class scopes, in one query (it runs on every signed-in request)."""
    scopes: CompoundSelect[str, int | None, int | None] = union_all(
        select(literal("taught"), TeachingAssignment.class_id, null()).where(
            TeachingAssignment.teacher_id == person.id
        ),
        select(literal("child"), Enrolment.class_id, Guardianship.child_id)
        .select_from(Guardianship)
        .outerjoin(Enrolment, Enrolment.student_id == Guardianship.child_id)
        .where(Guardianship.parent_id == person.id),
        select(literal("own"), Enrolment.class_id, null()).where(
            Enrolment.student_id == person.id
        ),
    )
    taught: set[int] = set()
    children_classes: set[int] = set()
    children: set[int] = set()
    own_class: int | None = None
    for scope, class_id, child_id in await session.execute(scopes):
        if scope == "own":
            own_class = class_id
        elif scope == "taught" and class_id is not None:
            taught.add(class_id)
        elif scope == "child" and child_id is not None:
            children.add(child_id)
            if class_id is not None:
                children_classes.add(class_id)
    return Principal(
        school_id=person.school_id,
        person_id=person.id,
        roles=person.roles,
        taught_class_ids=frozenset(taught),
        children_class_ids=frozenset(children_classes),
        child_ids=frozenset(children),
        own_class_id=own_class,
    )
