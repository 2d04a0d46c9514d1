"""Notification preferences: per person, per kind and channel, off / instantly / in a daily
digest; quiet hours; the digest time. Defaults apply until a person changes something, so a
new parent gets grades and attendance by e-mail at once."""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, ForeignKey, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub import clock
from hub.db import Base, str_enum
from hub.notify.channel import ChannelName, NotificationKind


class Mode(enum.StrEnum):
    OFF = "off"
    INSTANT = "instant"
    DIGEST = "digest"


SENT_CHANNELS = (ChannelName.EMAIL, ChannelName.TELEGRAM)

DEFAULT_MODES: dict[tuple[NotificationKind, ChannelName], Mode] = {
    (NotificationKind.GRADES, ChannelName.EMAIL): Mode.INSTANT,
    (NotificationKind.ATTENDANCE, ChannelName.EMAIL): Mode.INSTANT,
    (NotificationKind.ANNOUNCEMENTS, ChannelName.EMAIL): Mode.INSTANT,
    (NotificationKind.FORUM_REPLIES, ChannelName.EMAIL): Mode.DIGEST,
    (NotificationKind.MODERATION, ChannelName.EMAIL): Mode.INSTANT,
    # Telegram counts only once a chat is linked (see hub.notify.addresses).
    (NotificationKind.GRADES, ChannelName.TELEGRAM): Mode.INSTANT,
    (NotificationKind.ATTENDANCE, ChannelName.TELEGRAM): Mode.INSTANT,
    (NotificationKind.ANNOUNCEMENTS, ChannelName.TELEGRAM): Mode.INSTANT,
    (NotificationKind.FORUM_REPLIES, ChannelName.TELEGRAM): Mode.OFF,
    (NotificationKind.MODERATION, ChannelName.TELEGRAM): Mode.INSTANT,
}
DEFAULT_QUIET = (dt.time(21, 0), dt.time(7, 0))
DEFAULT_DIGEST_AT = dt.time(19, 0)



class ChannelPreference(Base):
    __tablename__ = "notification_preferences"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NotificationKind] = mapped_column(
        str_enum(NotificationKind, "notification_kind"), primary_key=True
    )
    channel: Mapped[ChannelName] = mapped_column(
        str_enum(ChannelName, "channel_name"), primary_key=True
    )
    mode: Mapped[Mode] = mapped_column(str_enum(Mode, "notification_mode"))
    # When the mode last changed (None: before this was recorded). An unsubscribe link
    # made before a change speaks for a choice the person has since revised.
    changed_at: Mapped[dt.datetime | None]


class DeliverySchedule(Base):
    """When a person may be disturbed: quiet hours and the daily digest time (local time
    of the school)."""

    __tablename__ = "notification_schedules"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    quiet_start: Mapped[dt.time | None]
    quiet_end: Mapped[dt.time | None]
    digest_at: Mapped[dt.time]


@dataclass(frozen=True)
class Preferences:
    modes: dict[tuple[NotificationKind, ChannelName], Mode] = field(
        default_factory=lambda: dict(DEFAULT_MODES)
    )
    quiet: tuple[dt.time, dt.time] | None = DEFAULT_QUIET
    digest_at: dt.time = DEFAULT_DIGEST_AT

    def mode(self, kind: NotificationKind, channel: ChannelName) -> Mode:
        return self.modes.get((kind, channel), Mode.OFF)

    def is_quiet(self, local_time: dt.time) -> bool:
        if self.quiet is None:
            return False
        start, end = self.quiet
        if start <= end:
            return start <= local_time < end
        return local_time >= start or local_time < end  # across midnight


async def preferences_of(
    session: AsyncSession, person_ids: list[int] | Select[int]
) -> dict[int, Preferences]:
    """Everyone's preferences in two queries (a batch of grades has many recipients).
    `person_ids` may be a SELECT of the ids (a whole audience, resolved in the database):
    then anyone without rows of their own reads as the defaults."""
    ids: list[int] | Select[int]
    if isinstance(person_ids, Select):
        ids = person_ids
        modes: dict[int, dict[tuple[NotificationKind, ChannelName], Mode]] = defaultdict(
            lambda: dict(DEFAULT_MODES))
        result: dict[int, Preferences] = _DefaultPreferences()
    else:
        ids = sorted(set(person_ids))
        modes = {pid: dict(DEFAULT_MODES) for pid in ids}
        result = {}
    schedules: dict[int, DeliverySchedule] = {}
    if isinstance(ids, Select) or ids:
        for row in await session.scalars(
            select(ChannelPreference).where(ChannelPreference.person_id.in_(ids))
        ):
            modes[row.person_id][(row.kind, row.channel)] = row.mode
        for schedule in await session.scalars(
            select(DeliverySchedule).where(DeliverySchedule.person_id.in_(ids))
        ):
            schedules[schedule.person_id] = schedule
    for pid in (modes.keys() | schedules.keys()) if isinstance(ids, Select) else ids:
        found = schedules.get(pid)
        if found is None:
            result[pid] = Preferences(modes=modes[pid])
            continue
        quiet = (
            (found.quiet_start, found.quiet_end)
            if found.quiet_start is not None and found.quiet_end is not None
            else None
        )
        result[pid] = Preferences(modes=modes[pid], quiet=quiet, digest_at=found.digest_at)
    return result


class _DefaultPreferences(dict[int, Preferences]):
    """Preferences by person, the defaults for those not in it."""

    def __missing__(self, person_id: int) -> Preferences:
        return _DEFAULT


_DEFAULT = Preferences()


async def preferences_for(session: AsyncSession, person_id: int) -> Preferences:
    return (await preferences_of(session, [person_id]))[person_id]


async def set_mode(
    session: AsyncSession,
    person_id: int,
    kind: NotificationKind,
    channel: ChannelName,
    mode: Mode,
) -> None:
    row = await session.get(ChannelPreference, (person_id, kind, channel))
    if row is None:
        session.add(ChannelPreference(person_id=person_id, kind=kind, channel=channel, mode=mode,
                                      changed_at=clock.now()))
    elif row.mode is not mode:
        row.mode = mode
        row.changed_at = clock.now()
    await session.flush()


async def changed_since(
    session: AsyncSession, person_id: int, kinds: tuple[NotificationKind, ...],
    channel: ChannelName, since: dt.datetime | None,
) -> dict[NotificationKind, Mode]:
    """The kinds whose mode on `channel` the person changed after `since` (None: at any
    recorded time), with the mode they chose."""
    changed: ColumnElement[bool] = ChannelPreference.changed_at.is_not(None)
    if since is not None:
        changed = ChannelPreference.changed_at > since
    rows = await session.scalars(select(ChannelPreference).where(
        ChannelPreference.person_id == person_id, ChannelPreference.kind.in_(kinds),
        ChannelPreference.channel == channel, changed,
    ))
    return {row.kind: row.mode for row in rows}


async def set_schedule(
    session: AsyncSession,
    person_id: int,
    *,
    quiet: tuple[dt.time, dt.time] | None,
    digest_at: dt.time,
) -> None:
    """Quiet hours (None: none at all) and the digest time."""
    schedule = await session.get(DeliverySchedule, person_id)
    if schedule is None:
        schedule = DeliverySchedule(person_id=person_id, digest_at=digest_at)
        session.add(schedule)
    schedule.quiet_start, schedule.quiet_end = quiet if quiet else (None, None)
    schedule.digest_at = digest_at
    await session.flush()


async def explicit_modes(
    session: AsyncSession, person_ids: list[int]
) -> dict[int, dict[tuple[NotificationKind, ChannelName], Mode]]:
    """Only what each person chose, without the defaults (a student is told about their own
    grades only on the channels they chose)."""
    result: dict[int, dict[tuple[NotificationKind, ChannelName], Mode]] = {
        pid: {} for pid in set(person_ids)
    }
    if result:
        for row in await session.scalars(
            select(ChannelPreference).where(ChannelPreference.person_id.in_(list(result)))
        ):
            result[row.person_id][(row.kind, row.channel)] = row.mode
    return result
