"""Tables of the notice board and the forum.

Every announcement, topic and post keeps its source text (what the author typed) and the
sanitized HTML that pages show. `status` is the moderation state; `hidden` is set when
several people reported it and is cleared by a moderator's decision.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy.dialects.postgresql  # noqa: F401  (registers to_tsvector's types)
from sqlalchemy import (
    DDL,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.db import Base, str_enum
from hub.text import without_bidi_controls


class Status(enum.StrEnum):
    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"


class Audience(enum.StrEnum):
    SCHOOL = "school"
    STAFF = "staff"
    PARENTS = "parents"
    CLASSES = "classes"


class ClassTarget(enum.StrEnum):
    PARENTS = "parents"
    STUDENTS = "students"
    BOTH = "both"


class SectionKind(enum.StrEnum):
    SCHOOL = "school"
    CLASS = "class"
    STAFF = "staff"


class Announcement(Base):
    __tablename__ = "announcements"
    __table_args__ = (UniqueConstraint("author_id", "form_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "audience", length=16))
    class_target: Mapped[ClassTarget] = mapped_column(
        str_enum(ClassTarget, "class_target", length=16), default=ClassTarget.BOTH
    )
    pinned: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[Status] = mapped_column(str_enum(Status, "post_status", length=16), index=True)
    hidden: Mapped[bool] = mapped_column(default=False)
    # True when the detector held it: an undone decision puts it back in the queue.
    was_held: Mapped[bool] = mapped_column(default=False)
    reject_reason: Mapped[str | None] = mapped_column(String(1000))
    publish_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    expires_at: Mapped[dt.datetime | None]
    # When AnnouncementPublished was emitted (None: not yet due, or not published).
    announced_at: Mapped[dt.datetime | None]
    deleted_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    edited_at: Mapped[dt.datetime | None]
    # A random value from the form: the same form submitted twice makes one announcement.
    form_token: Mapped[str | None] = mapped_column(String(64))


class AnnouncementClass(Base):
    __tablename__ = "announcement_classes"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AnnouncementRevision(Base):
    """An earlier version, kept when an announcement is edited."""

    __tablename__ = "announcement_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    replaced_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Acknowledgement(Base):
    __tablename__ = "acknowledgements"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Attachment(Base):
    __tablename__ = "announcement_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    # The file's name under <data_dir>/attachments (random, never the uploaded name).
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    @property
    def shown_name(self) -> str:
        """The name to show and to offer for saving; names stored before bidi controls
        were stripped on upload may still carry them."""
        return without_bidi_controls(self.filename)


class Section(Base):
    __tablename__ = "forum_sections"
    __table_args__ = (UniqueConstraint("school_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    # "school", "staff" or "class:<id>": one section of each per school.
    key: Mapped[str] = mapped_column(String(32))
    kind: Mapped[SectionKind] = mapped_column(str_enum(SectionKind, "section_kind", length=16))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))


class Topic(Base):
    __tablename__ = "forum_topics"
    __table_args__ = (UniqueConstraint("author_id", "form_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("forum_sections.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[Status] = mapped_column(str_enum(Status, "post_status", length=16))
    hidden: Mapped[bool] = mapped_column(default=False)
    was_held: Mapped[bool] = mapped_column(default=False)
    reject_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_post_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    form_token: Mapped[str | None] = mapped_column(String(64))


class Post(Base):
    """A message in a topic; the topic's opening message is its first post."""

    __tablename__ = "forum_posts"
    __table_args__ = (
        UniqueConstraint("author_id", "form_token"),
        Index(
            "ix_forum_posts_fts",
            func.to_tsvector(literal_column("'russian'"), literal_column("body_source")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("forum_topics.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    quote_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="SET NULL")
    )
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    is_opening: Mapped[bool] = mapped_column(default=False)
    status: Mapped[Status] = mapped_column(str_enum(Status, "post_status", length=16))
    hidden: Mapped[bool] = mapped_column(default=False)
    was_held: Mapped[bool] = mapped_column(default=False)
    reject_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    edited_at: Mapped[dt.datetime | None]
    form_token: Mapped[str | None] = mapped_column(String(64))


class TopicRead(Base):
    """How far a person has read a topic: the unread marker."""

    __tablename__ = "forum_topic_reads"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("forum_topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_post_id: Mapped[int] = mapped_column(default=0)


class Subscription(Base):
    __tablename__ = "forum_subscriptions"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("forum_topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


# Full-text search on SQLite: an FTS5 table the search service keeps in step with posts
# (rowid = post id). PostgreSQL uses the expression index on forum_posts above.
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS forum_posts_fts USING fts5("
    "body, tokenize = 'unicode61 remove_diacritics 2')"
)
event.listen(
    Base.metadata, "after_create", DDL(SQLITE_FTS_DDL).execute_if(dialect="sqlite")
)
