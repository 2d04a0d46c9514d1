"""The notice board's services: post, read, edit, delete, acknowledge, remind.

Every function takes the acting principal; who may do what is asked of forum.audience
(which asks hub.auth.access).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, exists, false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from forum import attachments, audience, gate, notifications
from forum.live import note_after_commit
from forum.models import (
    Acknowledgement,
    Announcement,
    AnnouncementClass,
    AnnouncementRevision,
    Attachment,
    Audience,
    ClassTarget,
    Status,
)
from hub import clock
from hub.auth.access import AccessDenied, Action, Principal
from hub.db import changed_rows
from hub.errors import Invalid, NotFound
from hub.events import AcknowledgementReminded, AnnouncementPublished, emit
from hub.notify import inbox
from hub.school import (
    STAFF_ROLES,
    Enrolment,
    Guardianship,
    Person,
    RoleGrant,
    SchoolClass,
    class_sort_key,
)

log = logging.getLogger(__name__)

ERASED_AUTHOR = "удалённый пользователь"


@dataclass
class Draft:
    """An announcement as the form gives it."""

    title: str
    body: str
    audience: Audience
    class_ids: list[int] = field(default_factory=list)
    class_target: ClassTarget = ClassTarget.BOTH
    pinned: bool = False
    urgent: bool = False
    publish_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    form_token: str | None = None
    uploads: list[attachments.Upload] = field(default_factory=list)


REPEAT_WINDOW = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Posted:
    announcement: Announcement
    duplicate: bool  # the same form was submitted before: nothing new was made


@dataclass(frozen=True)
class BoardEntry:
    announcement: Announcement
    author: str
    class_names: list[str]
    acknowledged: bool
    attachments: list[Attachment]
    scheduled: bool
    expired: bool


async def _valid_classes(session: AsyncSession, school_id: int, class_ids: list[int]) -> list[int]:
    ids = sorted(set(class_ids))
    if not ids:
        return []
    found = set(await session.scalars(
        select(SchoolClass.id).where(SchoolClass.id.in_(ids), SchoolClass.school_id == school_id)
    ))
    if found != set(ids):
        raise Invalid("Указан класс, которого нет в школе.")
    return ids


def _check_dates(draft: Draft, now: dt.datetime) -> None:
    if draft.expires_at is not None:
        start = draft.publish_at or now
        if draft.expires_at <= start:
            raise Invalid("Дата снятия должна быть позже даты публикации.")


async def create_announcement(
    session: AsyncSession, principal: Principal, draft: Draft, *, data_dir: Path
) -> Posted:
    """Check, screen and save an announcement (published or held), with its attachments
    and, when it is due, the AnnouncementPublished event."""
    if principal.person_id is None:
        raise AccessDenied(Action.POST_ANNOUNCEMENT)
    if draft.form_token:
        earlier = await session.scalar(select(Announcement).where(
            Announcement.author_id == principal.person_id,
            Announcement.form_token == draft.form_token,
        ))
        if earlier is not None:
            return Posted(earlier, True)
    title = gate.check_title(draft.title)
    body = gate.check_body(draft.body)
    # Back and "Опубликовать" again brings the same text with a fresh form: the same
    # author's same title and text within minutes is that announcement, not a new one.
    repeated = await session.scalar(select(Announcement).where(
        Announcement.author_id == principal.person_id,
        Announcement.title == title, Announcement.body_source == body,
        Announcement.created_at >= clock.now() - REPEAT_WINDOW,
        Announcement.deleted_at.is_(None),
    ).order_by(Announcement.id.desc()).limit(1))
    if repeated is not None:
        return Posted(repeated, True)
    if draft.audience is Audience.CLASSES and not draft.class_ids:
        raise Invalid("Выберите хотя бы один класс.")
    class_ids = await _valid_classes(
        session, principal.school_id,
        draft.class_ids if draft.audience is Audience.CLASSES else [],
    )
    audience.require_may_address(principal, draft.audience, class_ids)
    now = clock.now()
    _check_dates(draft, now)
    if len(draft.uploads) > attachments.MAX_FILES:
        raise Invalid(f"Не больше {attachments.MAX_FILES} файлов.")
    checked = [attachments.check(upload) for upload in draft.uploads]
    passed = await gate.pass_gate(
        session, school_id=principal.school_id, author_id=principal.person_id,
        title=title, source=body,
    )
    announcement = Announcement(
        school_id=principal.school_id,
        author_id=principal.person_id,
        title=passed.title,
        body_source=passed.source,
        body_html=passed.html,
        audience=draft.audience,
        class_target=draft.class_target,
        pinned=draft.pinned,
        urgent=draft.urgent,
        status=passed.status,
        was_held=passed.status is Status.HELD,
        publish_at=draft.publish_at or now,
        expires_at=draft.expires_at,
        form_token=draft.form_token,
    )
    session.add(announcement)
    await session.flush()
    for class_id in class_ids:
        session.add(AnnouncementClass(announcement_id=announcement.id, class_id=class_id))
    for item in checked:
        session.add(Attachment(
            announcement_id=announcement.id, filename=item.filename,
            content_type=item.content_type, size=len(item.data),
            stored_name=attachments.store(data_dir, item),
        ))
    await session.flush()
    if passed.status is Status.HELD:
        await gate.send_to_queue(
            session, school_id=principal.school_id, kind="announcement",
            target_id=announcement.id, author_id=principal.person_id, verdict=passed.verdict,
        )
    else:
        await announce_if_due(session, announcement, now)
    log.info("announcement %s by person %s: %s", announcement.id, principal.person_id,
             passed.status.value)
    return Posted(announcement, False)


async def announce_if_due(
    session: AsyncSession, announcement: Announcement, now: dt.datetime | None = None
) -> bool:
    """Emit AnnouncementPublished once, when a published announcement is due."""
    now = now or clock.now()
    if (
        announcement.status is not Status.PUBLISHED
        or announcement.hidden
        or announcement.deleted_at is not None
        or announcement.announced_at is not None
        or announcement.publish_at > now
    ):
        return False
    # Compare-and-set: of several instances publishing due ones, one emits the event.
    claimed = await changed_rows(session,
        update(Announcement)
        .where(Announcement.id == announcement.id, Announcement.announced_at.is_(None))
        .values(announced_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed != 1:
        return False
    announcement.announced_at = now
    await emit(session, AnnouncementPublished(
        school_id=announcement.school_id, announcement_id=announcement.id,
        author_id=announcement.author_id or 0, urgent=announcement.urgent,
    ))
    note_after_commit(session, "board", announcement.school_id, announcement=announcement.id)
    return True


async def publish_due(session: AsyncSession, now: dt.datetime | None = None) -> list[int]:
    """Announce scheduled announcements whose time has come (every school)."""
    now = now or clock.now()
    due = (await session.scalars(
        select(Announcement).where(
            Announcement.status == Status.PUBLISHED,
            Announcement.hidden.is_(False),
            Announcement.deleted_at.is_(None),
            Announcement.announced_at.is_(None),
            Announcement.publish_at <= now,
        ).order_by(Announcement.id).limit(200)
    )).all()
    return [a.id for a in due if await announce_if_due(session, a, now)]


async def get_readable(
    session: AsyncSession, principal: Principal, announcement_id: int
) -> Announcement:
    found = await session.scalar(
        select(Announcement).where(
            Announcement.id == announcement_id, audience.readable(principal, clock.now())
        )
    )
    if found is None:
        raise NotFound("Объявление не найдено.")
    return found


async def author_names(session: AsyncSession, ids: set[int | None]) -> dict[int | None, str]:
    names: dict[int | None, str] = {None: ERASED_AUTHOR}
    wanted = [i for i in ids if i is not None]
    if wanted:
        # The two columns only: a whole Person would load its roles too, a second query.
        for person_id, first_name, last_name in await session.execute(
            select(Person.id, Person.first_name, Person.last_name).where(Person.id.in_(wanted))
        ):
            names[person_id] = f"{first_name} {last_name}"
    return names


BOARD_LIMIT = 100


async def list_board(
    session: AsyncSession, principal: Principal, *, limit: int = BOARD_LIMIT
) -> list[BoardEntry]:
    """What `principal` reads on the board: pinned first, then the newest."""
    now = clock.now()
    found = (await session.scalars(
        select(Announcement).where(audience.readable(principal, now))
        .order_by(*BOARD_ORDER).limit(limit)
    )).all()
    return await _entries(session, principal, found, now)


BOARD_ORDER = (Announcement.pinned.desc(), Announcement.publish_at.desc(),
               Announcement.id.desc())


@dataclass(frozen=True)
class BoardRow:
    """An announcement on a reader's board and the marks that are theirs: what the board's
    rendered list is remembered by (forum.board_views)."""

    id: int
    own: bool
    acknowledged: bool
    scheduled: bool
    expired: bool


@functools.lru_cache(maxsize=1024)
def _board_rows_statement(principal: Principal) -> Select[*tuple[Any, ...]]:
    """The reader's board as ids and marks, built once per principal (a principal is
    immutable: a changed role is a new one); `now` is its parameter."""
    now: BindParameter[dt.datetime] = bindparam("now", type_=Announcement.publish_at.type)
    acknowledged = (
        exists().where(Acknowledgement.person_id == principal.person_id,
                       Acknowledgement.announcement_id == Announcement.id)
        if principal.person_id is not None else false()
    )
    return (
        select(Announcement.id, Announcement.author_id, Announcement.publish_at,
               Announcement.expires_at, acknowledged)
        .where(audience.readable(principal, now))
        .order_by(*BOARD_ORDER).limit(BOARD_LIMIT)
    )


async def board_rows(session: AsyncSession, principal: Principal, now: dt.datetime
                     ) -> list[BoardRow]:
    """What `principal` reads on the board at `now`, in its order: one statement."""
    person_id = principal.person_id
    return [
        BoardRow(id=row[0], own=person_id is not None and row[1] == person_id,
                 acknowledged=bool(row[4]), scheduled=row[2] > now,
                 expired=row[3] is not None and row[3] <= now)
        for row in await session.execute(_board_rows_statement(principal), {"now": now})
    ]


async def board_entries(session: AsyncSession, principal: Principal, ids: list[int],
                        now: dt.datetime) -> list[BoardEntry]:
    """The announcements `ids` (read by board_rows at `now`) with what the board shows of
    them."""
    found = {a.id: a for a in await session.scalars(
        select(Announcement).where(Announcement.id.in_(ids))
    )}
    return await _entries(session, principal, [found[i] for i in ids if i in found], now)


async def entry(session: AsyncSession, principal: Principal, announcement: Announcement
                ) -> BoardEntry:
    return (await _entries(session, principal, [announcement], clock.now()))[0]


async def _entries(
    session: AsyncSession, principal: Principal, found: Sequence[Announcement], now: dt.datetime
) -> list[BoardEntry]:
    ids = [a.id for a in found]
    if not ids:
        return []
    names = await author_names(session, {a.author_id for a in found})
    classes: dict[int, list[SchoolClass]] = {i: [] for i in ids}
    for announcement_id, school_class in await session.execute(
        select(AnnouncementClass.announcement_id, SchoolClass)
        .join(SchoolClass, SchoolClass.id == AnnouncementClass.class_id)
        .where(AnnouncementClass.announcement_id.in_(ids))
    ):
        classes[announcement_id].append(school_class)
    acked: set[int] = set()
    if principal.person_id is not None:
        acked = set(await session.scalars(
            select(Acknowledgement.announcement_id).where(
                Acknowledgement.person_id == principal.person_id,
                Acknowledgement.announcement_id.in_(ids),
            )
        ))
    files: dict[int, list[Attachment]] = {i: [] for i in ids}
    for attachment in await session.scalars(
        select(Attachment).where(Attachment.announcement_id.in_(ids)).order_by(Attachment.id)
    ):
        files[attachment.announcement_id].append(attachment)
    return [
        BoardEntry(
            announcement=a,
            author=names.get(a.author_id, ERASED_AUTHOR),
            class_names=[c.name for c in sorted(classes[a.id], key=class_sort_key)],
            acknowledged=a.id in acked,
            attachments=files[a.id],
            scheduled=a.publish_at > now,
            expired=a.expires_at is not None and a.expires_at <= now,
        )
        for a in found
    ]


def _require_editor(principal: Principal, announcement: Announcement) -> None:
    if announcement.author_id is not None and announcement.author_id == principal.person_id:
        return
    audience.require_may_address(principal, Audience.SCHOOL, [])


async def edit_announcement(
    session: AsyncSession, principal: Principal, announcement_id: int, *, title: str, body: str,
    pinned: bool, urgent: bool, expires_at: dt.datetime | None,
) -> Announcement:
    """Change the text (the old version is kept) and the flags; the text is screened again."""
    announcement = await get_readable(session, principal, announcement_id)
    _require_editor(principal, announcement)
    if announcement.status is Status.REJECTED:
        raise Invalid("Отклонённое объявление нельзя изменить: создайте новое.")
    title = gate.check_title(title)
    body = gate.check_body(body)
    if expires_at is not None and expires_at <= announcement.publish_at:
        raise Invalid("Дата снятия должна быть позже даты публикации.")
    assert principal.person_id is not None
    passed = await gate.pass_gate(
        session, school_id=principal.school_id, author_id=principal.person_id,
        title=title, source=body,
    )
    session.add(AnnouncementRevision(
        announcement_id=announcement.id, title=announcement.title,
        body_source=announcement.body_source, body_html=announcement.body_html,
        edited_by_id=principal.person_id,
    ))
    announcement.title = passed.title
    announcement.body_source = passed.source
    announcement.body_html = passed.html
    announcement.pinned = pinned
    announcement.urgent = urgent
    announcement.expires_at = expires_at
    announcement.edited_at = clock.now()
    if passed.status is Status.HELD and announcement.status is not Status.HELD:
        announcement.status = Status.HELD
        announcement.was_held = True
        await session.flush()
        await gate.send_to_queue(
            session, school_id=announcement.school_id, kind="announcement",
            target_id=announcement.id, author_id=principal.person_id, verdict=passed.verdict,
        )
    await session.flush()
    await notifications.announcement_edited(session, announcement)
    note_after_commit(session, "board", announcement.school_id, announcement=announcement.id)
    return announcement


async def revisions(session: AsyncSession, announcement_id: int) -> list[AnnouncementRevision]:
    return list(await session.scalars(
        select(AnnouncementRevision)
        .where(AnnouncementRevision.announcement_id == announcement_id)
        .order_by(AnnouncementRevision.id.desc())
    ))


async def delete_announcement(
    session: AsyncSession, principal: Principal, announcement_id: int
) -> None:
    """Hidden from readers, kept for the record."""
    announcement = await get_readable(session, principal, announcement_id)
    _require_editor(principal, announcement)
    announcement.deleted_at = clock.now()
    await session.flush()
    await notifications.announcement_withdrawn(session, announcement.id)
    note_after_commit(session, "board", announcement.school_id, announcement=announcement.id)


async def acknowledge(session: AsyncSession, principal: Principal, announcement_id: int) -> None:
    """"Ознакомлен(а)": once per person; a second click changes nothing."""
    announcement = await get_readable(session, principal, announcement_id)
    if principal.person_id is None:
        raise AccessDenied(Action.READ_BOARD)
    if announcement.status is not Status.PUBLISHED:
        raise Invalid("Объявление ещё не опубликовано.")
    already = await session.get(Acknowledgement, (announcement.id, principal.person_id))
    if already is None:
        try:
            async with session.begin_nested():
                session.add(Acknowledgement(announcement_id=announcement.id,
                                            person_id=principal.person_id))
        except IntegrityError:  # the same click twice at the same moment: one stays
            pass
    await mark_announcement_read(session, principal, announcement.id)


ANNOUNCEMENT_SOURCES = ("announcement", "announcement_reminder")


async def mark_announcement_read(
    session: AsyncSession, principal: Principal, announcement_id: int
) -> None:
    """The person has seen the announcement: its notifications are read."""
    if principal.person_id is not None:
        await inbox.mark_read_about(session, principal.school_id, principal.person_id,
                                    ANNOUNCEMENT_SOURCES, announcement_id)


@dataclass(frozen=True)
class Reader:
    person_id: int
    name: str
    acknowledged_at: dt.datetime | None


@dataclass(frozen=True)
class AckGroup:
    label: str  # "5А" or "Сотрудники"
    readers: list[Reader]

    @property
    def done(self) -> int:
        return sum(1 for r in self.readers if r.acknowledged_at is not None)


async def _expected_readers(
    session: AsyncSession, announcement: Announcement
) -> list[tuple[str, list[Person]]]:
    """The people an announcement is addressed to, grouped by class (or staff)."""
    school_id = announcement.school_id
    if announcement.audience is Audience.STAFF:
        staff = (await session.scalars(
            select(Person).where(
                Person.school_id == school_id,
                exists().where(RoleGrant.person_id == Person.id,
                               RoleGrant.role.in_(list(STAFF_ROLES))),
            ).order_by(Person.last_name, Person.first_name)
        )).all()
        return [("Сотрудники", list(staff))]
    if announcement.audience is Audience.CLASSES:
        class_ids = list(await session.scalars(
            select(AnnouncementClass.class_id)
            .where(AnnouncementClass.announcement_id == announcement.id)
        ))
        target = announcement.class_target
    else:
        class_ids = list(await session.scalars(
            select(SchoolClass.id).where(SchoolClass.school_id == school_id)
        ))
        target = (ClassTarget.PARENTS if announcement.audience is Audience.PARENTS
                  else ClassTarget.BOTH)
    classes = sorted(
        (await session.scalars(select(SchoolClass).where(SchoolClass.id.in_(class_ids)))).all(),
        key=class_sort_key,
    )
    groups: list[tuple[str, list[Person]]] = []
    for school_class in classes:
        people: dict[int, Person] = {}
        if target in (ClassTarget.STUDENTS, ClassTarget.BOTH):
            for person in await session.scalars(
                select(Person).join(Enrolment, Enrolment.student_id == Person.id)
                .where(Enrolment.class_id == school_class.id)
            ):
                people[person.id] = person
        if target in (ClassTarget.PARENTS, ClassTarget.BOTH):
            for person in await session.scalars(
                select(Person).join(Guardianship, Guardianship.parent_id == Person.id)
                .join(Enrolment, Enrolment.student_id == Guardianship.child_id)
                .where(Enrolment.class_id == school_class.id)
            ):
                people[person.id] = person
        groups.append((school_class.name, sorted(
            people.values(), key=lambda p: (p.last_name, p.first_name, p.id)
        )))
    return groups


async def ack_report(
    session: AsyncSession, principal: Principal, announcement_id: int
) -> tuple[Announcement, list[AckGroup]]:
    """Per class, who has confirmed reading and who has not (the author and the admins)."""
    announcement = await get_readable(session, principal, announcement_id)
    if not audience.may_see_acks(principal, announcement):
        raise AccessDenied(Action.VIEW_ACK_REPORT)
    acks = dict((await session.execute(
        select(Acknowledgement.person_id, Acknowledgement.at)
        .where(Acknowledgement.announcement_id == announcement.id)
    )).all())
    groups = [
        AckGroup(label, [Reader(p.id, p.full_name, acks.get(p.id)) for p in people])
        for label, people in await _expected_readers(session, announcement)
    ]
    return announcement, groups


async def remind(session: AsyncSession, principal: Principal, announcement_id: int) -> int:
    """Remind everyone who has not confirmed; returns how many were reminded."""
    announcement, groups = await ack_report(session, principal, announcement_id)
    if announcement.status is not Status.PUBLISHED or announcement.announced_at is None:
        raise Invalid("Объявление ещё не опубликовано.")
    pending = sorted({r.person_id for g in groups for r in g.readers
                      if r.acknowledged_at is None})
    if pending:
        await emit(session, AcknowledgementReminded(
            school_id=announcement.school_id, announcement_id=announcement.id,
            person_ids=tuple(pending),
        ))
    log.info("announcement %s: reminded %s people", announcement.id, len(pending))
    return len(pending)


async def attachment_for(
    session: AsyncSession, principal: Principal, attachment_id: int
) -> Attachment:
    """An attachment, only for those who may read its announcement."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("Файл не найден.")
    await get_readable(session, principal, attachment.announcement_id)
    return attachment


async def class_choices(session: AsyncSession, principal: Principal) -> list[SchoolClass]:
    """The classes `principal` may address."""
    from hub.auth.access import EVERYWHERE, classes_for

    scope = classes_for(principal, Action.POST_ANNOUNCEMENT)
    found = (await session.scalars(
        select(SchoolClass).where(SchoolClass.school_id == principal.school_id)
    )).all()
    return sorted(
        (c for c in found if scope is EVERYWHERE or c.id in scope), key=class_sort_key
    )
