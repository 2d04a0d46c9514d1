"""The real hours, on the test clock: quiet hours hold a grade until morning and let an urgent
announcement through, a digest goes at its hour, in Moscow and across a daylight-saving
change in Berlin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from hub.clock import SetClock
from hub.config import Settings
from hub.db import Database
from hub.notify import schedule
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.outbox import Message, enqueue
from hub.notify.preferences import Mode, set_mode
from hub.notify.worker import Worker
from tests.notify.conftest import Family, post_grade
from tests.notify.doubles import RecordingChannel
from tests.support.clock import MOSCOW, TODAY, moscow
from tests.support.school import SchoolBuilder

BERLIN = ZoneInfo("Europe/Berlin")
DAY = TODAY  # lessons are dated the day before


@pytest.fixture
def zone() -> Iterator[None]:
    yield
    schedule.configure(MOSCOW)


async def deliver(db: Database, settings: Settings, channel: RecordingChannel) -> list[str]:
    """Run a worker until nothing is due now; the titles of what it sent."""
    worker = Worker(settings, db, {channel.name: channel})
    before = len(channel.sent)
    while await worker.run_once():
        pass
    return [item.title for envelope in channel.sent[before:] for item in envelope.items]


async def test_a_grade_at_half_past_eleven_waits_for_the_end_of_quiet_hours(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, clock: SetClock,
) -> None:
    schedule.configure(MOSCOW)
    clock.set(moscow(DAY, 23, 30), running=False)
    await post_grade(db, school.school_id, family.alice, 5, "late-1")
    assert await deliver(db, settings, channel) == []

    clock.set(moscow(DAY + dt.timedelta(days=1), 6, 59))
    assert await deliver(db, settings, channel) == []

    clock.set(moscow(DAY + dt.timedelta(days=1), 7, 0))
    sent = await deliver(db, settings, channel)
    assert len(sent) == 1 and "5" in sent[0]
    assert [e.address for e in channel.sent] == ["anna@example.test"]


async def test_an_urgent_announcement_at_half_past_eleven_goes_at_once(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, clock: SetClock,
) -> None:
    schedule.configure(MOSCOW)
    clock.set(moscow(DAY, 23, 30), running=False)
    common = dict(kind=NotificationKind.ANNOUNCEMENTS, body="", url=None,
                  source_kind="announcement")
    async with db.transaction() as session:
        await enqueue(session, school.school_id, [(family.anna.id, None)],
                      Message(title="Школа закрыта из-за аварии", urgent=True, source_id=1,
                              **common))
        await enqueue(session, school.school_id, [(family.anna.id, None)],
                      Message(title="Родительское собрание", source_id=2, **common))
    sent = await deliver(db, settings, channel)
    assert len(sent) == 1 and "Школа закрыта" in sent[0]

    clock.set(moscow(DAY + dt.timedelta(days=1), 7, 0))
    sent = await deliver(db, settings, channel)
    assert len(sent) == 1 and "собрание" in sent[0]


async def test_a_digest_goes_at_its_hour_and_not_before(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, clock: SetClock,
) -> None:
    schedule.configure(MOSCOW)
    clock.set(moscow(DAY, 10, 0), running=False)
    async with db.transaction() as session:
        await set_mode(session, family.anna.id, NotificationKind.GRADES, ChannelName.EMAIL,
                       Mode.DIGEST)
    await post_grade(db, school.school_id, family.alice, 5, "d-1")
    clock.set(moscow(DAY, 15, 0))
    await post_grade(db, school.school_id, family.boris, 4, "d-2")

    clock.set(moscow(DAY, 18, 59))
    assert await deliver(db, settings, channel) == []
    clock.set(moscow(DAY, 19, 0))
    assert len(await deliver(db, settings, channel)) == 2
    assert [e.address for e in channel.sent] == ["anna@example.test"]
    assert channel.sent[0].digest


async def test_quiet_hours_follow_the_local_clock_across_a_daylight_saving_change(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, clock: SetClock, zone: None,
) -> None:
    # Berlin moves from UTC+1 to UTC+2 at 02:00 on 29 March 2026: quiet hours still end at
    # 07:00 on the wall clock, which is 05:00 UTC that morning, not 06:00.
    schedule.configure(BERLIN)
    clock.set(dt.datetime(2026, 3, 28, 23, 30, tzinfo=BERLIN), running=False)
    await post_grade(db, school.school_id, family.alice, 5, "dst-1")
    assert await deliver(db, settings, channel) == []

    clock.set(dt.datetime(2026, 3, 29, 4, 59, tzinfo=dt.UTC))  # 06:59 in Berlin
    assert await deliver(db, settings, channel) == []
    clock.set(dt.datetime(2026, 3, 29, 5, 0, tzinfo=dt.UTC))  # 07:00 in Berlin
    assert len(await deliver(db, settings, channel)) == 1


async def test_moscow_has_no_daylight_saving_quiet_hours_end_at_four_utc(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel, clock: SetClock,
) -> None:
    schedule.configure(MOSCOW)
    clock.set(dt.datetime(2026, 3, 28, 23, 30, tzinfo=MOSCOW), running=False)
    await post_grade(db, school.school_id, family.alice, 5, "msk-1")
    clock.set(dt.datetime(2026, 3, 29, 3, 59, tzinfo=dt.UTC))
    assert await deliver(db, settings, channel) == []
    clock.set(dt.datetime(2026, 3, 29, 4, 0, tzinfo=dt.UTC))
    assert len(await deliver(db, settings, channel)) == 1
