"""Who reads what: the audience rows of announcements and the forum's sections, turned into
query filters and checks. The roles behind each step are the rules of hub.auth.access; this
module only maps an announcement's audience or a section's kind onto those actions."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from forum.models import (
    Announcement,
    AnnouncementClass,
    Audience,
    ClassTarget,
    Section,
    SectionKind,
    Status,
)
from hub.auth.access import EVERYWHERE, Action, Principal, can, classes_for, require
from hub.school import Role

# Which announcements to a class a member of it reads, by the role that makes them a member.
_TARGETS_BY_ROLE: dict[Role, tuple[ClassTarget, ...]] = {
    Role.PARENT: (ClassTarget.PARENTS, ClassTarget.BOTH),
    Role.STUDENT: (ClassTarget.STUDENTS, ClassTarget.BOTH),
    Role.TEACHER: tuple(ClassTarget),
    Role.SPEECH_THERAPIST: tuple(ClassTarget),
    Role.PSYCHOLOGIST: tuple(ClassTarget),
}


def addressed_to(principal: Principal) -> ColumnElement[bool]:
    """Announcements whose audience includes `principal` (whatever their state)."""
    if can(principal, Action.READ_ALL_NOTICES):
        return true()
    clauses: list[ColumnElement[bool]] = [Announcement.audience == Audience.SCHOOL]
    if can(principal, Action.READ_STAFF_NOTICES):
        clauses.append(Announcement.audience == Audience.STAFF)
    if can(principal, Action.READ_PARENT_NOTICES):
        clauses.append(Announcement.audience == Audience.PARENTS)
    scope = classes_for(principal, Action.READ_CLASS_NOTICES)
    if scope is EVERYWHERE:
        clauses.append(Announcement.audience == Audience.CLASSES)
    else:
        for role, targets in _TARGETS_BY_ROLE.items():
            if role not in principal.roles:
                continue
            class_ids = [c for c in principal.classes_as(role) if c in scope]
            if class_ids:
                clauses.append(and_(
                    Announcement.audience == Audience.CLASSES,
                    Announcement.class_target.in_(targets),
                    Announcement.id.in_(
                        select(AnnouncementClass.announcement_id).where(
                            AnnouncementClass.class_id.in_(class_ids)
                        )
                    ),
                ))
    return or_(*clauses)


def readable(principal: Principal, now: dt.datetime | ColumnElement[dt.datetime]
             ) -> ColumnElement[bool]:
    """Announcements `principal` may open now: their own, or published, due, not expired,
    not hidden and addressed to them. The board's office also sees scheduled and expired
    ones, and held ones."""
    live = and_(
        Announcement.status == Status.PUBLISHED,
        Announcement.hidden == false(),
    )
    if can(principal, Action.READ_ALL_NOTICES):
        visible = or_(live, Announcement.status == Status.HELD)
    else:
        visible = and_(
            live,
            Announcement.publish_at <= now,
            or_(Announcement.expires_at.is_(None), Announcement.expires_at > now),
            addressed_to(principal),
        )
    mine = (
        Announcement.author_id == principal.person_id
        if principal.person_id is not None else false()
    )
    return and_(
        Announcement.school_id == principal.school_id,
        Announcement.deleted_at.is_(None),
        or_(mine, visible),
    )


def require_may_address(
    principal: Principal, audience: Audience, class_ids: list[int]
) -> None:
    """Teachers post to classes they teach; the board's admins to anyone."""
    if audience is Audience.CLASSES:
        require(principal, Action.POST_ANNOUNCEMENT, class_ids[0] if class_ids else None)
        for class_id in class_ids:
            require(principal, Action.POST_ANNOUNCEMENT, class_id)
    else:
        require(principal, Action.POST_SCHOOL_ANNOUNCEMENT)


def may_post_announcements(principal: Principal) -> bool:
    scope = classes_for(principal, Action.POST_ANNOUNCEMENT)
    return scope is EVERYWHERE or bool(scope)


def may_see_acks(principal: Principal, announcement: Announcement) -> bool:
    return (
        announcement.author_id is not None and announcement.author_id == principal.person_id
    ) or can(principal, Action.VIEW_ACK_REPORT)


# The forum's sections.

_SECTION_ACTIONS: dict[SectionKind, tuple[Action, Action]] = {
    SectionKind.SCHOOL: (Action.READ_SCHOOL_FORUM, Action.POST_SCHOOL_FORUM),
    SectionKind.STAFF: (Action.READ_STAFF_ROOM, Action.POST_STAFF_ROOM),
    SectionKind.CLASS: (Action.READ_CLASS_FORUM, Action.POST_CLASS_FORUM),
}


class SectionLike(Protocol):
    """What the rules read of a section: a Section, or those columns of a plain row."""

    @property
    def school_id(self) -> int: ...
    @property
    def kind(self) -> SectionKind: ...
    @property
    def class_id(self) -> int | None: ...


def may_read_section(principal: Principal, section: SectionLike) -> bool:
    if section.school_id != principal.school_id:
        return False
    return can(principal, _SECTION_ACTIONS[section.kind][0], section.class_id)


def may_post_in_section(principal: Principal, section: SectionLike) -> bool:
    return may_read_section(principal, section) and can(
        principal, _SECTION_ACTIONS[section.kind][1], section.class_id
    )


def oversees(principal: Principal, section: Section) -> bool:
    """Policy 7.6: coordinators, administrators and the class's teachers oversee it."""
    return section.school_id == principal.school_id and can(
        principal, Action.OVERSEE_SECTION, section.class_id
    )


def sees_held(principal: Principal) -> bool:
    return can(principal, Action.SEE_HELD_POSTS)
