"""The board's and the forum's events as notifications (hub.notify's outbox): an announcement
to its audience, a reply to the topic's subscribers, a reminder to those who have not
confirmed reading. Runs inside the transaction that emitted the event.

Recipients are only people whose notification consent stands (hub.notify.recipients), and
a subscriber is told of a reply only while they may still read the section.
"""

from __future__ import annotations

import html
import re
from typing import Any, cast

from sqlalchemy import (
    ScalarSelect,
    Select,
    String,
    Table,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from forum import audience
from forum.models import (
    Announcement,
    AnnouncementClass,
    Audience,
    ClassTarget,
    Post,
    Section,
    Status,
    Subscription,
    Topic,
)
from hub.auth.access import load_principal
from hub.events import (
    AcknowledgementReminded,
    AnnouncementPublished,
    Event,
    EventHandlers,
    ReplyPosted,
)
from hub.notify import recipients
from hub.notify.channel import NotificationKind
from hub.notify.outbox import Message, Recipients, enqueue, enqueue_audience
from hub.notify.revision import revise, withdraw
from hub.school import STAFF_ROLES, ConsentPurpose, Person, RoleGrant, SchoolClass, consenting

PREVIEW = 500
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|pre|div|ul|ol)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _preview(safe_html: str) -> str:
    """The start of a text as plain text: paragraphs kept (a blank line between them),
    each line without its leading spaces."""
    text = _BREAK.sub("\n", safe_html)
    text = _BLOCK_END.sub("\n\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1].rstrip() + "…"


async def _staff_audience(session: AsyncSession, announcement: Announcement) -> Recipients:
    staff = list(await session.scalars(select(Person.id).where(
        Person.school_id == announcement.school_id,
        exists().where(RoleGrant.person_id == Person.id, RoleGrant.role.in_(list(STAFF_ROLES))),
    )))
    allowed = await consenting(session, staff, ConsentPurpose.NOTIFICATIONS)
    return [(person, None) for person in sorted(allowed) if person != announcement.author_id]


def _class_audience(announcement: Announcement) -> Select[int, int | None]:
    """The recipients of a class, parents' or school-wide announcement, as one SELECT:
    the database resolves the whole school (hub.notify.recipients.in_classes_query)."""
    kind = NotificationKind.ANNOUNCEMENTS
    if announcement.audience is Audience.CLASSES:
        class_ids = select(AnnouncementClass.class_id).where(
            AnnouncementClass.announcement_id == announcement.id)
        target = announcement.class_target
    else:
        class_ids = select(SchoolClass.id).where(SchoolClass.school_id == announcement.school_id)
        target = (ClassTarget.PARENTS if announcement.audience is Audience.PARENTS
                  else ClassTarget.BOTH)
    found = recipients.in_classes_query(announcement.school_id, class_ids, kind).subquery()
    query = select(found.c.person_id, found.c.child_id)
    if announcement.author_id is not None:
        query = query.where(found.c.person_id != announcement.author_id)
    if target is ClassTarget.PARENTS:
        query = query.where(or_(found.c.child_id.is_(None),
                                found.c.person_id != found.c.child_id))
    elif target is ClassTarget.STUDENTS:
        query = query.where(found.c.person_id == found.c.child_id)
    return query


async def on_announcement(session: AsyncSession, event: Event) -> None:
    assert isinstance(event, AnnouncementPublished)
    announcement = await session.get(Announcement, event.announcement_id)
    if announcement is None:
        return
    message = Message(
        kind=NotificationKind.ANNOUNCEMENTS,
        title=capital(announcement.title),  # «Срочно» is said once, by each channel
        body=_preview(announcement.body_html),
        url=f"/board/{announcement.id}",
        source_kind="announcement",
        source_id=announcement.id,
        urgent=announcement.urgent,
    )
    if announcement.audience is Audience.STAFF:
        await enqueue(session, announcement.school_id,
                      await _staff_audience(session, announcement), message)
    else:
        await enqueue_audience(session, announcement.school_id, _class_audience(announcement),
                               message)


async def announcement_edited(session: AsyncSession, announcement: Announcement) -> None:
    """An edit made before the notices went out: they carry the edited text. An edit that
    sent the announcement back to the moderators withdraws them until it is published."""
    if announcement.status is not Status.PUBLISHED:
        await announcement_withdrawn(session, announcement.id)
        return
    await revise(session, "announcement", announcement.id,
                 title=("Срочно: " if announcement.urgent else "") + announcement.title,
                 body=_preview(announcement.body_html))


async def announcement_withdrawn(session: AsyncSession, announcement_id: int) -> None:
    """A deleted or unpublished announcement: its notices and reminders that have not
    gone out are cancelled, and its in-app notices hidden."""
    for source_kind in ("announcement", "announcement_reminder"):
        await withdraw(session, source_kind, announcement_id)


async def on_reminder(session: AsyncSession, event: Event) -> None:
    assert isinstance(event, AcknowledgementReminded)
    announcement = await session.get(Announcement, event.announcement_id)
    if announcement is None:
        return
    allowed = await consenting(session, event.person_ids, ConsentPurpose.NOTIFICATIONS)
    await enqueue(session, announcement.school_id, [(p, None) for p in sorted(allowed)],
                  Message(
        kind=NotificationKind.ANNOUNCEMENTS,
        title=f"Напоминание: «{capital(announcement.title)}»",
        body="Пожалуйста, подтвердите, что вы ознакомились с объявлением.",
        url=f"/board/{announcement.id}",
        source_kind="announcement_reminder",
        source_id=announcement.id,
    ))


_subscriptions = cast(Table, Subscription.__table__)
# A plain column query, built once: a reply runs it each time, and it needs no ORM rows.
_SUBSCRIBERS = select(_subscriptions.c.person_id).where(
    _subscriptions.c.topic_id == bindparam("topic_id")
)


def followers_column(topic_id: Any, author_id: Any) -> ScalarSelect[str | None]:
    """Who follows a topic, but its new post's author, as one column ("3,17"; NULL for no
    one) that a reply reads with its topic: telling them then takes no statement of its
    own (ReplyPosted.followers)."""
    person_id = _subscriptions.c.person_id
    return (
        select(func.aggregate_strings(person_id.cast(String), ","))
        .where(_subscriptions.c.topic_id == topic_id, person_id != author_id)
        .scalar_subquery()
    )


def followers_of(column: str | None) -> tuple[int, ...]:
    """The ids of followers_column's value."""
    return tuple(int(person) for person in column.split(",")) if column else ()


async def on_reply(session: AsyncSession, event: Event) -> None:
    assert isinstance(event, ReplyPosted)
    if event.followers == ():  # read with the topic: no one else follows it
        return
    post = await session.get(Post, event.post_id)
    topic = await session.get(Topic, event.topic_id)
    if post is None or topic is None:
        return
    section = await session.get_one(Section, topic.section_id)
    if event.followers is not None:
        subscribers = list(event.followers)
    else:
        subscribers = [p for p in await session.scalars(
            _SUBSCRIBERS, {"topic_id": topic.id}
        ) if p != post.author_id]
    allowed = await consenting(session, subscribers, ConsentPurpose.NOTIFICATIONS)
    to: list[tuple[int, int | None]] = []
    if allowed:
        for person in await session.scalars(
            select(Person).where(Person.id.in_(sorted(allowed)))
        ):
            if audience.may_read_section(await load_principal(session, person), section):
                to.append((person.id, None))
    if not to:  # most replies: no one else follows the topic
        return
    await enqueue(session, topic.school_id, to, Message(
        kind=NotificationKind.FORUM_REPLIES,
        title=f"Новый ответ в теме «{topic.title}»",
        body=_preview(post.body_html),
        url=f"/forum/topics/{topic.id}?page=last#post-{post.id}",
        source_kind="post",
        source_id=post.id,
    ))


def subscribe(handlers: EventHandlers) -> None:
    handlers.on(AnnouncementPublished, on_announcement)
    handlers.on(ReplyPosted, on_reply)
    handlers.on(AcknowledgementReminded, on_reminder)
