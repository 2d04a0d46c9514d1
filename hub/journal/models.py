"""The journal's tables (Grade, Attendance), their enums and the limits their columns keep."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.db import Base, str_enum
from hub.names import Gender, gendered

MAX_BATCH = 1000  # items in one batch (an API request, a slice of a CSV file)
MAX_AGE_DAYS = 366  # older dates are a typo (a wrong year), not a late entry
MAX_COMMENT = 500
MAX_WORK_TYPE = 100
MAX_SUBJECT = 100
MAX_SOURCE_ID = 128
MAX_SOURCE_KEY = 40
WEB_PREFIX = "web:"
WEB_SOURCE_KEY = "web"  # the grid's namespace of source ids (hub.journal.sources)

# What Notification.source_kind says for these records (per-grade delivery counts).
GRADE_SOURCE_KIND = "grade"
ATTENDANCE_SOURCE_KIND = "attendance"


class Source(enum.StrEnum):
    WEB = "web"
    API = "api"
    CSV = "csv"


class AttendanceStatus(enum.StrEnum):
    ABSENT = "absent"
    LATE = "late"
    SICK = "sick"
    EXCUSED = "excused"
    PRESENT = "present"  # only ever a correction of an earlier mark


STATUS_TITLES: dict[AttendanceStatus, str] = {
    AttendanceStatus.ABSENT: "отсутствовал(а)",
    AttendanceStatus.LATE: "опоздал(а)",
    AttendanceStatus.SICK: "болел(а)",
    AttendanceStatus.EXCUSED: "отсутствовал(а) по уважительной причине",
    AttendanceStatus.PRESENT: "присутствовал(а)",
}

# The same marks said of a boy, of a girl, and as a noun where the gender is not known.
STATUS_WORDS: dict[AttendanceStatus, tuple[str, str, str]] = {
    AttendanceStatus.ABSENT: ("отсутствовал", "отсутствовала", "отсутствие"),
    AttendanceStatus.LATE: ("опоздал", "опоздала", "опоздание"),
    AttendanceStatus.SICK: ("болел", "болела", "болезнь"),
    AttendanceStatus.EXCUSED: ("отсутствовал по уважительной причине",
                               "отсутствовала по уважительной причине",
                               "отсутствие по уважительной причине"),
    AttendanceStatus.PRESENT: ("присутствовал", "присутствовала", "присутствие"),
}


def status_title(status: AttendanceStatus, gender: Gender | None) -> str:
    """«отсутствовала» for a girl, «отсутствовал» for a boy, «отсутствие» when unknown."""
    male, female, neutral = STATUS_WORDS[status]
    return gendered(gender, male, female, neutral)

class Grade(Base):
    __tablename__ = "grades"
    __table_args__ = (
        UniqueConstraint("school_id", "source_key", "source_id"),
        CheckConstraint("value BETWEEN 2 AND 5", name="value_range"),
        Index("ix_grades_student_date", "student_id", "lesson_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # The class the student was in when graded (they may move later).
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    lesson_date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[int]
    work_type: Mapped[str | None] = mapped_column(String(MAX_WORK_TYPE))
    comment: Mapped[str | None] = mapped_column(String(MAX_COMMENT))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    source: Mapped[Source] = mapped_column(str_enum(Source, "journal_source"))
    # Whose source ids these are (hub.journal.sources): "token:12", "teacher:34", "web", "csv".
    source_key: Mapped[str] = mapped_column(String(MAX_SOURCE_KEY))
    source_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    corrected: Mapped[bool] = mapped_column(default=False)
    # The value before the latest correction.
    previous_value: Mapped[int | None]


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("school_id", "source_key", "source_id"),
        Index("ix_attendance_student_date", "student_id", "lesson_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="SET NULL"), index=True
    )
    lesson_date: Mapped[dt.date] = mapped_column(Date)
    # A subject, a lesson number, both, or neither (the whole day).
    subject: Mapped[str | None] = mapped_column(String(MAX_SUBJECT))
    lesson_number: Mapped[int | None]
    status: Mapped[AttendanceStatus] = mapped_column(
        str_enum(AttendanceStatus, "attendance_status")
    )
    comment: Mapped[str | None] = mapped_column(String(MAX_COMMENT))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    source: Mapped[Source] = mapped_column(str_enum(Source, "journal_source"))
    # Whose source ids these are (hub.journal.sources): "token:12", "teacher:34", "web", "csv".
    source_key: Mapped[str] = mapped_column(String(MAX_SOURCE_KEY))
    source_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    corrected: Mapped[bool] = mapped_column(default=False)
    previous_status: Mapped[AttendanceStatus | None] = mapped_column(
        str_enum(AttendanceStatus, "attendance_status")
    )
