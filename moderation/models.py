"""The moderation tables: the review queue, reports, watched words, sanctions, the audit log."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.db import Base, str_enum


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ItemSource(enum.StrEnum):
    """Why the item is in the queue."""

    DETECTOR = "detector"
    REPORT = "report"
    WATCHED = "watched"


class SanctionKind(enum.StrEnum):
    WARN = "warn"
    MUTE = "mute"


class ReviewItem(Base):
    """One announcement, topic or post waiting for (or decided by) a moderator."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("kind", "target_id"),
        Index("ix_review_items_queue", "school_id", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus, "review_status", length=16))
    source: Mapped[ItemSource] = mapped_column(str_enum(ItemSource, "review_source", length=16))
    # The detector's findings, for highlighting: {"action", "score", "categories", "reasons"}.
    verdict: Mapped[dict | None] = mapped_column(JSON)
    # Where it is, copied from the target when queued: the queue's section filter.
    section: Mapped[str] = mapped_column(String(64), default="")
    place: Mapped[str] = mapped_column(String(300), default="")  # "Форум 5А › Экскурсия"
    class_id: Mapped[int | None] = mapped_column(Integer)
    # Hidden from readers because several people reported it.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    claimed_until: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    # When it (re-)entered the queue: the queue is oldest first by this.
    queued_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Report(Base):
    """A reader's complaint about an item; one per reader per item."""

    __tablename__ = "review_reports"
    __table_args__ = (UniqueConstraint("item_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("review_items.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class WatchedWordRow(Base):
    """A school's watched word or wildcard pattern (moderation.WatchedWord in the detector)."""

    __tablename__ = "watched_words"
    __table_args__ = (UniqueConstraint("school_id", "pattern"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    pattern: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))  # hold | refuse | mask
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class WatchedWordsVersion(Base):
    """A fresh random stamp on every change of a school's watched words: each instance
    compares it with the stamp its cached detector was built from (one primary-key select
    per message), so a change is effective at once everywhere, Redis or not. Random rather
    than a counter, so that a recreated database never matches a stale cache."""

    __tablename__ = "watched_words_versions"

    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )
    stamp: Mapped[str] = mapped_column(String(32))


class Sanction(Base):
    __tablename__ = "sanctions"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SanctionKind] = mapped_column(str_enum(SanctionKind, "sanction_kind", length=16))
    until: Mapped[dt.datetime | None]  # mutes only
    reason: Mapped[str] = mapped_column(String(500))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_items.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class AuditEntry(Base):
    """One moderation decision. Append-only: the code has no update or delete path, and the
    database refuses both (a trigger on SQLite and PostgreSQL). Actor and item are plain ids,
    not foreign keys, so that no cascade ever rewrites the log."""

    __tablename__ = "moderation_audit"
    __table_args__ = (Index("ix_moderation_audit_school_at", "school_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    subject_id: Mapped[int | None] = mapped_column(Integer)  # the author concerned
    text_before: Mapped[str | None] = mapped_column(Text)
    text_after: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)


_SQLITE_GUARDS = [
    DDL(
        f"CREATE TRIGGER moderation_audit_no_{op.lower()} BEFORE {op} ON moderation_audit "
        "BEGIN SELECT RAISE(ABORT, 'moderation_audit is append-only'); END"
    )
    for op in ("UPDATE", "DELETE")
]
_PG_GUARD = [
    DDL(
        "CREATE OR REPLACE FUNCTION moderation_audit_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'moderation_audit is append-only'; END $$"
    ),
    DDL(
        "CREATE TRIGGER moderation_audit_append_only BEFORE UPDATE OR DELETE "
        "ON moderation_audit FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only()"
    ),
]
for _ddl in _SQLITE_GUARDS:
    event.listen(AuditEntry.__table__, "after_create", _ddl.execute_if(dialect="sqlite"))
for _ddl in _PG_GUARD:
    event.listen(AuditEntry.__table__, "after_create", _ddl.execute_if(dialect="postgresql"))
