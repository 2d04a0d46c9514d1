"""The forum's services: sections, topics, posts, replies with quotes, unread markers,
subscriptions, reports.

Sections are made lazily: the school-wide one, the staff room, and one for each class the
first time the school's sections are listed after the class appeared (hub.school must not
know about the forum).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import BindParameter

from forum import audience, gate, search
from forum.board import ERASED_AUTHOR, author_names
from forum.live import note_after_commit
from forum.models import Post, Section, SectionKind, Status, Subscription, Topic, TopicRead
from forum.notifications import followers_column, followers_of
from hub import clock
from hub.auth.access import AccessDenied, Action, Principal
from hub.errors import Conflict, Invalid, NotFound
from hub.events import ReplyPosted, emit
from hub.school import SchoolClass, class_sort_key
from moderation.screening import Facts, facts_columns

log = logging.getLogger(__name__)

PAGE_SIZE = 20
EDIT_WINDOW = dt.timedelta(minutes=15)
MAX_REPORT_REASON = 500


# Sections.

async def ensure_sections(session: AsyncSession, school_id: int) -> None:
    """Create the sections the school should have and does not yet."""
    have = set(await session.scalars(select(Section.key).where(Section.school_id == school_id)))
    wanted: list[Section] = []
    if "school" not in have:
        wanted.append(Section(school_id=school_id, key="school", kind=SectionKind.SCHOOL,
                              title="Общий раздел школы"))
    if "staff" not in have:
        wanted.append(Section(school_id=school_id, key="staff", kind=SectionKind.STAFF,
                              title="Учительская"))
    for school_class in await session.scalars(
        select(SchoolClass).where(SchoolClass.school_id == school_id)
    ):
        if f"class:{school_class.id}" not in have:
            wanted.append(Section(
                school_id=school_id, key=f"class:{school_class.id}", kind=SectionKind.CLASS,
                class_id=school_class.id, title=f"Класс {school_class.name}",
            ))
    for section in wanted:
        try:
            async with session.begin_nested():
                session.add(section)
        except IntegrityError:  # another request made it at the same moment
            pass


@dataclass(frozen=True)
class SectionEntry:
    section: Section
    topics: int
    unread: int
    may_post: bool


def _section_order(section: Section, classes: dict[int, SchoolClass]) -> tuple:
    rank = {SectionKind.SCHOOL: 0, SectionKind.CLASS: 1, SectionKind.STAFF: 2}[section.kind]
    school_class = classes.get(section.class_id or 0)
    return rank, class_sort_key(school_class) if school_class else (0, "")


async def list_sections(session: AsyncSession, principal: Principal) -> list[SectionEntry]:
    await ensure_sections(session, principal.school_id)
    sections = (await session.scalars(
        select(Section).where(Section.school_id == principal.school_id)
    )).all()
    classes = {c.id: c for c in await session.scalars(
        select(SchoolClass).where(SchoolClass.school_id == principal.school_id)
    )}
    readable = sorted(
        (s for s in sections if audience.may_read_section(principal, s)),
        key=lambda s: _section_order(s, classes),
    )
    entries = []
    for section in readable:
        topics = await list_topics(session, principal, section, page=1, page_size=10_000)
        entries.append(SectionEntry(
            section, len(topics.items), sum(1 for t in topics.items if t.unread),
            audience.may_post_in_section(principal, section),
        ))
    return entries


async def get_section(session: AsyncSession, principal: Principal, section_id: int) -> Section:
    """A section `principal` may read; unknown and forbidden look the same (404)."""
    section = await session.get(Section, section_id)
    if section is None or not audience.may_read_section(principal, section):
        raise NotFound("Раздел не найден.")
    return section


# What a reader sees of topics and posts.

def _visible_posts(principal: Principal) -> ColumnElement[bool]:
    """Posts `principal` sees: published and not hidden; their own in any state; and, for
    moderators, held and hidden ones (marked)."""
    if audience.sees_held(principal):
        return Post.status != Status.REJECTED if principal.person_id is None else or_(
            Post.status != Status.REJECTED, Post.author_id == principal.person_id
        )
    shown = and_(Post.status == Status.PUBLISHED, Post.hidden == false())
    if principal.person_id is None:
        return shown
    return or_(shown, Post.author_id == principal.person_id)


def _visible_topics(principal: Principal) -> ColumnElement[bool]:
    return _topics_visible_to(audience.sees_held(principal), principal.person_id)


def _topics_visible_to(sees_held: bool, person_id: Any, topics: Any = Topic
                       ) -> ColumnElement[bool]:
    """Topics a reader sees: published and not hidden, their own; for moderators, held and
    hidden ones too. `person_id` is a value or a bound parameter; `topics` the mapped
    class, or the table's columns for a Core statement."""
    if sees_held:
        return or_(topics.status != Status.REJECTED, topics.author_id == person_id)
    shown = and_(topics.status == Status.PUBLISHED, topics.hidden == false())
    return or_(shown, topics.author_id == person_id)


@dataclass(frozen=True)
class TopicEntry:
    topic: Topic
    author: str
    replies: int
    unread: bool
    subscribed: bool


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    pages: int


async def list_topics(
    session: AsyncSession, principal: Principal, section: Section, *, page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page:
    where = and_(Topic.section_id == section.id, _visible_topics(principal))
    total = await session.scalar(select(func.count()).select_from(Topic).where(where)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    topics = (await session.scalars(
        select(Topic).where(where).order_by(Topic.last_post_at.desc(), Topic.id.desc())
        .offset((page - 1) * page_size).limit(page_size)
    )).all()
    ids = [t.id for t in topics]
    counts: dict[int, tuple[int, int]] = {}
    read: dict[int, int] = {}
    subscribed: set[int] = set()
    if ids:
        visible = _visible_posts(principal)
        for topic_id, count, last in await session.execute(
            select(Post.topic_id, func.count(), func.max(Post.id))
            .where(Post.topic_id.in_(ids), visible).group_by(Post.topic_id)
        ):
            counts[topic_id] = (count, last)
        if principal.person_id is not None:
            read = dict((await session.execute(
                select(TopicRead.topic_id, TopicRead.last_post_id).where(
                    TopicRead.person_id == principal.person_id, TopicRead.topic_id.in_(ids)
                )
            )).all())
            subscribed = set(await session.scalars(
                select(Subscription.topic_id).where(
                    Subscription.person_id == principal.person_id,
                    Subscription.topic_id.in_(ids),
                )
            ))
    names = await author_names(session, {t.author_id for t in topics})
    items = [
        TopicEntry(
            topic=t,
            author=names.get(t.author_id, ERASED_AUTHOR),
            replies=max(0, counts.get(t.id, (0, 0))[0] - 1),
            unread=counts.get(t.id, (0, 0))[1] > read.get(t.id, 0),
            subscribed=t.id in subscribed,
        )
        for t in topics
    ]
    return Page(items, page, pages)


async def get_topic(
    session: AsyncSession, principal: Principal, topic_id: int
) -> tuple[Topic, Section]:
    # One statement: the topic, if the reader may see it, with its section.
    found = (await session.execute(
        select(Topic, Section).join(Section, Section.id == Topic.section_id).where(
            Topic.id == topic_id, Topic.school_id == principal.school_id,
            _visible_topics(principal),
        )
    )).first()
    if found is None:
        raise NotFound("Тема не найдена.")
    topic, section = found
    if not audience.may_read_section(principal, section):
        raise NotFound("Раздел не найден.")
    return topic, section


# What a page of posts shows, read as plain rows: building 50 ORM objects (and reading
# their instrumented attributes in the template) costs more than the rest of the page.
POST_COLUMNS = (
    Post.id, Post.topic_id, Post.author_id, Post.quote_of_id, Post.body_html, Post.status,
    Post.hidden, Post.created_at, Post.edited_at, Post.reject_reason, Post.is_opening,
)
PostRow = Row[*tuple[Any, ...]]
TopicRow = Row[*tuple[Any, ...]]  # a topic as a plain row: its columns by their names
Authored = TypeVar("Authored", Topic, Post)


@dataclass(frozen=True)
class PostEntry:
    post: Post | PostRow
    author: str
    editable: bool
    quote_author: str | None


@dataclass(frozen=True)
class ReaderState:
    """Where the reader stopped in a topic, and whether they follow it."""

    last_read: int
    has_marker: bool
    subscribed: bool


def _reader_columns(person_id: Any, topic_id: Any) -> tuple[Any, Any]:
    marker = (
        select(TopicRead.last_post_id)
        .where(TopicRead.person_id == person_id, TopicRead.topic_id == topic_id)
        .scalar_subquery()
    )
    follows = exists().where(Subscription.person_id == person_id,
                             Subscription.topic_id == topic_id)
    return marker, follows


@dataclass(frozen=True)
class ReaderView:
    """A topic as one reader opens it."""

    topic: Topic
    section: Section
    state: ReaderState
    # The reader has posts here that only they (and moderators) see, or may still edit:
    # their page is not the one other readers of their kind get.
    own_marks: bool


@functools.cache
def _reader_view_statement(sees_held: bool) -> Select[Any]:
    """The statement of reader_view for a signed-in reader, built once: its parameters are
    the topic, the school, the person and the start of the edit window."""
    person: BindParameter[int] = bindparam("person_id")
    marker, follows = _reader_columns(person, Topic.id)
    own = exists().where(
        Post.topic_id == Topic.id, Post.author_id == person,
        or_(Post.status != Status.PUBLISHED, Post.hidden == true(),
            Post.created_at >= bindparam("edit_since")),
    )
    return (
        select(Topic, Section, marker, follows, own)
        .join(Section, Section.id == Topic.section_id)
        .where(Topic.id == bindparam("topic_id"), Topic.school_id == bindparam("school_id"),
               _topics_visible_to(sees_held, person))
    )


async def reader_view(session: AsyncSession, principal: Principal, topic_id: int
                      ) -> ReaderView:
    """The topic if `principal` may see it, its section, where the reader stopped, whether
    they follow it and whether their own posts mark it: one statement."""
    if principal.person_id is None:
        topic, section = await get_topic(session, principal, topic_id)
        return ReaderView(topic, section, ReaderState(0, False, False), False)
    found = (await session.execute(_reader_view_statement(audience.sees_held(principal)), {
        "topic_id": topic_id, "school_id": principal.school_id,
        "person_id": principal.person_id, "edit_since": clock.now() - EDIT_WINDOW,
    })).first()
    if found is None:
        raise NotFound("Тема не найдена.")
    topic, section, last_read, subscribed, own_marks = found
    if not audience.may_read_section(principal, section):
        raise NotFound("Раздел не найден.")
    return ReaderView(topic, section,
                      ReaderState(last_read or 0, last_read is not None, bool(subscribed)),
                      bool(own_marks))


async def posts_page(
    session: AsyncSession, principal: Principal, topic: Topic, *, page: int | None = None,
    page_size: int = PAGE_SIZE,
) -> Page:
    """A page of the topic's posts the reader may see (the last one when `page` is None)."""
    where = and_(Post.topic_id == topic.id, _visible_posts(principal))
    total = await session.scalar(select(func.count()).select_from(Post).where(where)) or 0
    pages = max(1, -(-total // page_size))
    page = pages if page is None else min(max(1, page), pages)
    posts = (await session.execute(
        select(*POST_COLUMNS).where(where).order_by(Post.id)
        .offset((page - 1) * page_size).limit(page_size)
    )).all()
    return Page(await post_entries(session, principal, posts), page, pages)


async def move_marker(session: AsyncSession, person_id: int, state: ReaderState,
                      topic_id: int, post_id: int) -> None:
    """The reader has seen the topic up to `post_id`."""
    if post_id <= state.last_read:
        return
    if state.has_marker:
        await session.execute(
            update(TopicRead)
            .where(TopicRead.person_id == person_id, TopicRead.topic_id == topic_id,
                   TopicRead.last_post_id < post_id)
            .values(last_post_id=post_id)
        )
        return
    try:
        async with session.begin_nested():
            session.add(TopicRead(person_id=person_id, topic_id=topic_id, last_post_id=post_id))
    except IntegrityError:
        pass


async def posts_after(
    session: AsyncSession, principal: Principal, topic_id: int, after_id: int
) -> list[PostEntry]:
    """Posts newer than `after_id` the reader may see (the live page's fragment)."""
    topic, _ = await get_topic(session, principal, topic_id)
    posts = (await session.scalars(
        select(Post).where(Post.topic_id == topic.id, Post.id > after_id,
                           _visible_posts(principal))
        .order_by(Post.id).limit(100)
    )).all()
    return await post_entries(session, principal, posts)


async def post_entries(
    session: AsyncSession, principal: Principal, posts: Sequence[Post] | Sequence[PostRow]
) -> list[PostEntry]:
    quoted_ids = {p.quote_of_id for p in posts if p.quote_of_id}
    quoted = {}
    if quoted_ids:
        # Only quotes of posts this reader may see name their author: a reply may have
        # quoted a post that was held or hidden afterwards.
        quoted = dict((await session.execute(
            select(Post.id, Post.author_id).where(
                Post.id.in_(quoted_ids), _visible_posts(principal)
            )
        )).all())
    names = await author_names(session, {p.author_id for p in posts} | set(quoted.values()))
    now = clock.now()
    return [
        PostEntry(
            post=p,
            author=names.get(p.author_id, ERASED_AUTHOR),
            editable=_may_edit(principal, p, now),
            quote_author=names.get(quoted[p.quote_of_id], ERASED_AUTHOR)
            if p.quote_of_id in quoted else None,
        )
        for p in posts
    ]


def _may_edit(principal: Principal, post: Post | PostRow, now: dt.datetime) -> bool:
    return (
        post.author_id is not None
        and post.author_id == principal.person_id
        and post.status is not Status.REJECTED
        and now - post.created_at <= EDIT_WINDOW
    )


# Writing.

@dataclass(frozen=True)
class Written:
    post: Post
    topic: Topic | TopicRow  # a reply reads its topic as a plain row
    duplicate: bool


async def _earlier(
    session: AsyncSession, model: type[Authored], author_id: int, token: str | None
) -> Authored | None:
    if not token:
        return None
    return await session.scalar(
        select(model).where(model.author_id == author_id, model.form_token == token)
    )


def _require_post_in(principal: Principal, section: audience.SectionLike) -> None:
    if principal.person_id is None or not audience.may_post_in_section(principal, section):
        raise AccessDenied(Action.POST_SCHOOL_FORUM)


async def create_topic(
    session: AsyncSession, principal: Principal, section_id: int, *, title: str, body: str,
    form_token: str | None = None,
) -> Written:
    """A new topic with its opening post, screened as one text."""
    section = await get_section(session, principal, section_id)
    _require_post_in(principal, section)
    assert principal.person_id is not None
    earlier = await _earlier(session, Topic, principal.person_id, form_token)
    if earlier is not None:
        opening = await session.scalar(
            select(Post).where(Post.topic_id == earlier.id, Post.is_opening)
        )
        assert opening is not None
        return Written(opening, earlier, True)
    title = gate.check_title(title)
    body = gate.check_body(body)
    passed = await gate.pass_gate(
        session, school_id=principal.school_id, author_id=principal.person_id,
        title=title, source=body,
    )
    now = clock.now()
    topic = Topic(
        school_id=principal.school_id, section_id=section.id, author_id=principal.person_id,
        title=passed.title, status=passed.status, was_held=passed.status is Status.HELD,
        created_at=now, last_post_at=now, form_token=form_token,
    )
    session.add(topic)
    await session.flush()
    post = Post(
        school_id=principal.school_id, topic_id=topic.id, author_id=principal.person_id,
        body_source=passed.source, body_html=passed.html, is_opening=True,
        status=passed.status, was_held=passed.status is Status.HELD, created_at=now,
    )
    session.add(post)
    await session.flush()
    await search.index_post(session, post, new=True)
    await _subscribe(session, principal.person_id, topic.id)
    if passed.status is Status.HELD:
        await gate.send_to_queue(
            session, school_id=principal.school_id, kind="topic", target_id=topic.id,
            author_id=principal.person_id, verdict=passed.verdict,
        )
    log.info("topic %s in section %s by person %s: %s", topic.id, section.id,
             principal.person_id, passed.status.value)
    return Written(post, topic, False)


_TOPICS = cast(Table, Topic.__table__)
_SECTIONS = cast(Table, Section.__table__)
_POSTS = cast(Table, Post.__table__)
_SECTION_PREFIX = "section__"  # its columns' names in a row of a topic and its section


@functools.cache
def _topic_to_answer_statement(sees_held: bool) -> Select[*tuple[Any, ...]]:
    """The statement of _topic_to_answer, built once; its parameters are the topic, the
    school, the person, the form's token and the time (the author's mute); it reads who
    else follows the topic too (told of the reply). Core, of the tables: a reply builds no
    ORM object for the topic and its section unless someone is to be told of it."""
    person: BindParameter[int] = bindparam("person_id")
    earlier = select(_POSTS.c.id).where(
        _POSTS.c.author_id == person, _POSTS.c.form_token == bindparam("form_token")
    ).scalar_subquery()
    muted_until, words = facts_columns(person, bindparam("now"), bindparam("school_id"))
    followers = followers_column(_TOPICS.c.id, person)
    return (
        select(*_TOPICS.c, *(column.label(_SECTION_PREFIX + column.key)
                             for column in _SECTIONS.c),
               earlier.label("earlier_id"), muted_until.label("muted_until"),
               words.label("words"), followers.label("followers"))
        .select_from(_TOPICS.join(_SECTIONS, _SECTIONS.c.id == _TOPICS.c.section_id))
        .where(_TOPICS.c.id == bindparam("topic_id"),
               _TOPICS.c.school_id == bindparam("school_id"),
               _topics_visible_to(sees_held, person, _TOPICS.c))
    )


@dataclass(frozen=True, slots=True)
class SectionFacts:
    """What the access rules read of a section (audience.SectionLike)."""

    school_id: int
    kind: SectionKind
    class_id: int | None


@dataclass(frozen=True)
class Answering:
    """A topic about to be answered, as _topic_to_answer reads it."""

    topic: Topic | TopicRow
    section: Section | SectionFacts
    earlier_id: int | None  # the post the same form made before
    facts: Facts | None  # what the screening of the answer reads
    followers: tuple[int, ...] | None  # who else follows the topic


async def _topic_to_answer(
    session: AsyncSession, principal: Principal, topic_id: int, form_token: str | None
) -> Answering:
    """get_topic, the post the reader's form `form_token` made before, if any, the facts
    the screening of the answer reads and who else follows the topic: one statement."""
    if principal.person_id is None:
        topic, section = await get_topic(session, principal, topic_id)
        return Answering(topic, section, None, None, None)
    found = (await session.execute(
        _topic_to_answer_statement(audience.sees_held(principal)),
        {"topic_id": topic_id, "school_id": principal.school_id,
         "person_id": principal.person_id, "form_token": form_token or None,
         "now": clock.now()},
    )).first()
    if found is None:
        raise NotFound("Тема не найдена.")
    section_facts = SectionFacts(found.section__school_id, found.section__kind,
                                 found.section__class_id)
    if not audience.may_read_section(principal, section_facts):
        raise NotFound("Раздел не найден.")
    followers = followers_of(found.followers)
    if followers:
        # Those told of the reply are told by a handler that reads the topic and its
        # section from the session (forum.notifications.on_reply): they join it as loaded.
        _as_loaded(session, Topic, {column.key: found._mapping[column.key]
                                    for column in _TOPICS.c})
        _as_loaded(session, Section, {
            column.key: found._mapping[_SECTION_PREFIX + column.key] for column in _SECTIONS.c
        })
    return Answering(found, section_facts, found.earlier_id, Facts(found.muted_until, found.words),
                     followers)


_KEPT = "forum.topics.kept"


def _as_loaded(session: AsyncSession, model: type[Topic] | type[Section],
               values: dict[str, Any]) -> None:
    """A row already read, in the session as if loaded from it (unless it is there)."""
    if _in_session(session, model, values["id"]) is None:
        instance = model(**values)
        make_transient_to_detached(instance)
        session.add(instance)
        # The identity map holds its objects weakly: the session keeps this one to its end.
        session.info.setdefault(_KEPT, []).append(instance)


def _in_session(session: AsyncSession, model: type[Authored] | type[Section], id_: int
                ) -> Any:
    """The object of that row the session has loaded, or None; no statement."""
    return session.identity_map.get(identity_key(model, id_))


async def reply(
    session: AsyncSession, principal: Principal, topic_id: int, *, body: str,
    quote_of_id: int | None = None, form_token: str | None = None,
) -> Written:
    """A reply (optionally quoting a post of the same topic): published or held."""
    answering = await _topic_to_answer(session, principal, topic_id, form_token)
    topic = answering.topic
    _require_post_in(principal, answering.section)
    assert principal.person_id is not None
    if answering.earlier_id is not None:  # the same form again: the post it made
        return Written(await session.get_one(Post, answering.earlier_id), topic, True)
    if topic.status is not Status.PUBLISHED:
        raise Conflict("Тема ещё не опубликована: ответить можно после проверки модератором.")
    if quote_of_id is not None:
        # Only a post the author can see: a quote shows its author's name to every reader.
        quoted = await session.scalar(select(Post).where(
            Post.id == quote_of_id, Post.topic_id == topic.id,
            _visible_posts(principal),
        ))
        if quoted is None:
            raise Invalid("Цитируемое сообщение не найдено в этой теме.")
    body = gate.check_body(body)
    passed = await gate.pass_gate(
        session, school_id=principal.school_id, author_id=principal.person_id,
        title="", source=body, facts=answering.facts,
    )
    post = await _insert_post(session, Post(
        school_id=principal.school_id, topic_id=topic.id, author_id=principal.person_id,
        quote_of_id=quote_of_id, body_source=passed.source, body_html=passed.html,
        is_opening=False, status=passed.status, hidden=False,
        was_held=passed.status is Status.HELD, reject_reason=None, created_at=clock.now(),
        edited_at=None, form_token=form_token,
    ))
    await search.index_post(session, post, new=True)
    if passed.status is Status.HELD:
        await gate.send_to_queue(
            session, school_id=principal.school_id, kind="post", target_id=post.id,
            author_id=principal.person_id, verdict=passed.verdict,
        )
    else:
        await announce_post(session, topic, post, followers=answering.followers)
    log.info("post %s in topic %s by person %s: %s", post.id, topic.id, principal.person_id,
             passed.status.value)
    return Written(post, topic, False)


_POST_COLUMNS = tuple(column.key for column in _POSTS.columns if column.key != "id")
_INSERT_POST = insert(_POSTS).returning(_POSTS.c.id)


async def _insert_post(session: AsyncSession, post: Post) -> Post:
    """Store a new post whose every column but the id is set: one INSERT … RETURNING, not
    the unit of work's flush (a reply's largest share of CPU); the post joins the session as
    a loaded, clean row, so the event handlers that read it by id find it there."""
    values = {key: getattr(post, key) for key in _POST_COLUMNS}
    post.id = (await session.execute(_INSERT_POST, values)).scalar_one()
    make_transient_to_detached(post)
    session.add(post)
    return post


_MOVE_TOPIC_UP = (
    update(_TOPICS).where(_TOPICS.c.id == bindparam("topic_id"))
    .values(last_post_at=bindparam("last_post_at"))
)


async def announce_post(session: AsyncSession, topic: Topic | TopicRow, post: Post, *,
                        followers: tuple[int, ...] | None = None) -> None:
    """A post became visible: the topic moves up, subscribers hear, open pages update.
    `followers`: who else follows the topic, if the caller read them in this transaction."""
    # One UPDATE of the one column, not a flush of the topic.
    last_post_at = max(topic.last_post_at, post.created_at)
    await session.execute(_MOVE_TOPIC_UP, {"topic_id": topic.id, "last_post_at": last_post_at})
    # The loaded object, if any, in step with its row.
    loaded = topic if isinstance(topic, Topic) else _in_session(session, Topic, topic.id)
    if loaded is not None:
        set_committed_value(loaded, "last_post_at", last_post_at)
    if not post.is_opening:
        await emit(session, ReplyPosted(
            school_id=post.school_id, post_id=post.id, topic_id=topic.id,
            author_id=post.author_id or 0, followers=followers,
        ))
    note_after_commit(session, "topic", topic.id, post=post.id)


async def edit_post(
    session: AsyncSession, principal: Principal, post_id: int, *, body: str,
    title: str | None = None,
) -> Written:
    """The author changes their post within the edit window; it is screened again."""
    post = await session.get(Post, post_id)
    if post is None or post.school_id != principal.school_id:
        raise NotFound("Сообщение не найдено.")
    topic, _ = await get_topic(session, principal, post.topic_id)
    if post.author_id is None or post.author_id != principal.person_id:
        raise AccessDenied(Action.POST_SCHOOL_FORUM)
    if not _may_edit(principal, post, clock.now()):
        raise Conflict(
            f"Сообщение можно изменить только в течение {EDIT_WINDOW.seconds // 60} минут."
        )
    body = gate.check_body(body)
    if post.is_opening and title is not None:
        title = gate.check_title(title)
    passed = await gate.pass_gate(
        session, school_id=principal.school_id, author_id=principal.person_id,
        title=title or "", source=body,
    )
    post.body_source = passed.source
    post.body_html = passed.html
    post.edited_at = clock.now()
    if post.is_opening and title is not None:
        topic.title = passed.title
    await search.index_post(session, post)
    kind, target_id = ("topic", topic.id) if post.is_opening else ("post", post.id)
    if passed.status is Status.HELD and post.status is not Status.HELD:
        post.status = Status.HELD
        post.was_held = True
        if post.is_opening:
            topic.status = Status.HELD
            topic.was_held = True
        await session.flush()
        await gate.send_to_queue(
            session, school_id=principal.school_id, kind=kind, target_id=target_id,
            author_id=principal.person_id, verdict=passed.verdict,
        )
    await session.flush()
    note_after_commit(session, "topic", topic.id, edited=post.id)
    return Written(post, topic, False)


async def get_post(session: AsyncSession, principal: Principal, post_id: int) -> Post:
    post = await session.get(Post, post_id)
    if post is None or post.school_id != principal.school_id:
        raise NotFound("Сообщение не найдено.")
    await get_topic(session, principal, post.topic_id)
    visible = await session.scalar(
        select(func.count()).select_from(Post).where(
            Post.id == post.id, _visible_posts(principal)
        )
    )
    if not visible:
        raise NotFound("Сообщение не найдено.")
    return post


async def report_post(
    session: AsyncSession, principal: Principal, post_id: int, reason: str
) -> None:
    """A reader reports a post (the opening post reports the topic) to the moderators."""
    if principal.person_id is None:
        raise AccessDenied(Action.REPORT_POST)
    post = await get_post(session, principal, post_id)
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid("Укажите причину жалобы.")
    if len(reason) > MAX_REPORT_REASON:
        raise Invalid(f"Причина длиннее {MAX_REPORT_REASON} символов.")
    if post.author_id == principal.person_id:
        raise Invalid("Нельзя пожаловаться на своё сообщение.")
    kind, target_id = ("topic", post.topic_id) if post.is_opening else ("post", post.id)
    await gate.report_to_queue(
        session, school_id=principal.school_id, kind=kind, target_id=target_id,
        reporter_id=principal.person_id, reason=reason,
    )


async def _subscribe(session: AsyncSession, person_id: int, topic_id: int) -> None:
    if await session.get(Subscription, (person_id, topic_id)) is None:
        try:
            async with session.begin_nested():
                session.add(Subscription(person_id=person_id, topic_id=topic_id))
        except IntegrityError:
            pass


async def set_subscription(
    session: AsyncSession, principal: Principal, topic_id: int, subscribed: bool
) -> None:
    topic, _ = await get_topic(session, principal, topic_id)
    if principal.person_id is None:
        raise AccessDenied(Action.READ_SCHOOL_FORUM)
    if subscribed:
        await _subscribe(session, principal.person_id, topic.id)
    else:
        found = await session.get(Subscription, (principal.person_id, topic.id))
        if found is not None:
            await session.delete(found)
            await session.flush()


async def is_subscribed(session: AsyncSession, person_id: int | None, topic_id: int) -> bool:
    if person_id is None:
        return False
    return await session.get(Subscription, (person_id, topic_id)) is not None


async def subscribers(session: AsyncSession, topic_id: int) -> list[int]:
    """Who wants to hear of replies in a topic (for the notification pipeline)."""
    return list(await session.scalars(
        select(Subscription.person_id).where(Subscription.topic_id == topic_id)
    ))
