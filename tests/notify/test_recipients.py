"""Who is told about a grade or an absence, on which channel, when."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hub.compose import privacy_sources
from hub.config import Settings
from hub.db import Database
from hub.events import ModerationDecided, emit
from hub.journal.inputs import GradeInput, StudentRef
from hub.journal.models import Source
from hub.journal.record import record_grades
from hub.notify import schedule
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, DeliveryStatus, Notification
from hub.notify.outbox import Message, enqueue
from hub.notify.preferences import Mode, preferences_of, set_mode, set_schedule
from hub.notify.worker import Worker
from hub.privacy import erase_person, export_person
from tests.notify.conftest import (
    YESTERDAY,
    Family,
    journal_token,
    mark_absent,
    post_grade,
)
from tests.notify.doubles import RecordingChannel
from tests.support.school import SchoolBuilder

MOSCOW = ZoneInfo("Europe/Moscow")


async def deliver(db: Database, settings: Settings, channel: RecordingChannel) -> int:
    worker = Worker(settings, db, {channel.name: channel})
    total = 0
    while done := await worker.run_once():
        total += done
    return total


async def test_grade_reaches_consenting_parents_only(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    await deliver(db, settings, channel)

    [envelope] = channel.sent
    assert envelope.address == "anna@example.test"
    assert envelope.person_id == family.anna.id
    [item] = envelope.items
    assert item.kind is NotificationKind.GRADES
    assert item.title == "Оценка 5 по предмету «Математика»"
    assert item.child_name == "Алиса Смирнова"
    assert item.url is not None
    assert item.url.startswith(settings.public_url + "/children#grade-")  # that very grade
    # Pavel has no notification consent, Nina is not Alice's parent, Alice did not opt in.
    assert channel.to("pavel@example.test") == channel.to("nina@example.test") == []
    assert channel.to("alice@example.test") == []


async def test_same_grade_twice_notifies_once_and_a_correction_again(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    await post_grade(db, school.school_id, family.alice, 4, "j-1")
    await post_grade(db, school.school_id, family.alice, 4, "j-1")
    await deliver(db, settings, channel)
    assert [e.items[0].title for e in channel.sent] == ["Оценка 4 по предмету «Математика»"]

    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    await deliver(db, settings, channel)
    assert [e.items[0].title for e in channel.sent][1:] == [
        "Исправлена оценка: 4 → 5 по предмету «Математика»"
    ]


async def test_student_is_told_only_after_opting_in(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    async with db.transaction() as session:
        await set_mode(session, family.alice.id, NotificationKind.ATTENDANCE,
                       ChannelName.EMAIL, Mode.INSTANT)
    await post_grade(db, school.school_id, family.alice, 3, "j-1")
    await mark_absent(db, school.school_id, family.alice, "a-1")
    await deliver(db, settings, channel)
    to_alice = channel.to("alice@example.test")
    assert [e.items[0].kind for e in to_alice] == [NotificationKind.ATTENDANCE]
    assert to_alice[0].items[0].child_name is None  # it is about herself
    assert len(channel.to("anna@example.test")) == 2


async def test_channel_turned_off_sends_nothing_but_the_in_app_list_keeps_it(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    async with db.transaction() as session:
        await set_mode(session, family.anna.id, NotificationKind.GRADES, ChannelName.EMAIL,
                       Mode.OFF)
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    await deliver(db, settings, channel)
    assert channel.sent == []
    async with db.session() as session:
        titles = list(await session.scalars(
            select(Notification.title).where(Notification.person_id == family.anna.id)
        ))
    assert titles == ["Оценка 5 по предмету «Математика»"]


async def test_quiet_hours_hold_instant_messages_until_morning_but_not_urgent_ones(
    db: Database, school: SchoolBuilder, family: Family
) -> None:
    schedule.configure(MOSCOW)
    late = dt.datetime(2026, 3, 2, 22, 30, tzinfo=MOSCOW).astimezone(dt.UTC)
    message = Message(kind=NotificationKind.ANNOUNCEMENTS, title="Собрание", body="",
                      url=None, source_kind="announcement", source_id=1)
    async with db.transaction() as session:
        await enqueue(session, school.school_id, [(family.anna.id, None)], message, now=late)
        await enqueue(session, school.school_id, [(family.anna.id, None)],
                      Message(**{**message.__dict__, "urgent": True, "source_id": 2}), now=late)
    async with db.session() as session:
        due = dict((await session.execute(
            select(Notification.source_id, Delivery.due_at)
            .join(Delivery, Delivery.notification_id == Notification.id)
        )).all())
    assert due[1] == dt.datetime(2026, 3, 3, 7, 0, tzinfo=MOSCOW)
    assert due[2] == late


async def test_own_quiet_hours_and_digest_time_decide_when(
    db: Database, school: SchoolBuilder, family: Family
) -> None:
    schedule.configure(MOSCOW)
    async with db.transaction() as session:
        await set_schedule(session, family.anna.id, quiet=(dt.time(13, 0), dt.time(15, 0)),
                           digest_at=dt.time(20, 30))
        prefs = (await preferences_of(session, [family.anna.id]))[family.anna.id]
    at_two = dt.datetime(2026, 3, 2, 14, 0, tzinfo=MOSCOW)
    assert schedule.instant_due(prefs, at_two) == dt.datetime(2026, 3, 2, 15, 0, tzinfo=MOSCOW)
    at_ten = dt.datetime(2026, 3, 2, 22, 0, tzinfo=MOSCOW)
    assert schedule.instant_due(prefs, at_ten) == at_ten
    assert schedule.digest_slot(prefs, at_two) == dt.datetime(2026, 3, 2, 20, 30, tzinfo=MOSCOW)
    assert schedule.digest_slot(prefs, at_ten) == dt.datetime(2026, 3, 3, 20, 30, tzinfo=MOSCOW)


async def test_digest_gathers_everything_due_in_one_message_per_child(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    async with db.transaction() as session:
        for kind in (NotificationKind.GRADES, NotificationKind.ATTENDANCE):
            await set_mode(session, family.anna.id, kind, ChannelName.EMAIL, Mode.DIGEST)
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    await post_grade(db, school.school_id, family.boris, 3, "j-2")
    await mark_absent(db, school.school_id, family.boris, "a-1")
    await post_grade(db, school.school_id, family.vera, 4, "j-3")  # Nina's: instant
    assert await deliver(db, settings, channel) == 1  # the digest is not due yet
    assert [e.address for e in channel.sent] == ["nina@example.test"]

    async with db.transaction() as session:  # the digest time comes
        digest = await session.scalar(select(Delivery).where(Delivery.digest_key.is_not(None)))
        assert digest is not None and digest.status is DeliveryStatus.PENDING
        digest.due_at = digest.due_at - dt.timedelta(days=1)
    await deliver(db, settings, channel)
    [envelope] = channel.to("anna@example.test")
    assert envelope.digest
    assert sorted((i.child_name, i.title) for i in envelope.items) == [
        ("Алиса Смирнова", "Оценка 5 по предмету «Математика»"),
        ("Борис Смирнов", f"Отсутствовал на уроке «Математика» {YESTERDAY:%d.%m.%Y}"),
        ("Борис Смирнов", "Оценка 3 по предмету «Математика»"),
    ]


async def test_a_rolled_back_batch_leaves_no_notification_behind(
    db: Database, school: SchoolBuilder, family: Family
) -> None:
    class Refused(Exception):
        pass

    try:
        async with db.transaction() as session:
            await record_grades(session, school.school_id, [GradeInput(
                student=StudentRef(person_id=family.alice.id), subject="Математика",
                lesson_date=YESTERDAY, value=5, source_id="j-1",
            )], by=journal_token(school.school_id), source=Source.API)
            raise Refused  # something later in the same request fails
    except Refused:
        pass
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_moderation_decision_is_told_to_the_author(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    async with db.transaction() as session:
        await emit(session, ModerationDecided(
            school_id=school.school_id, review_item_id=7, author_id=family.anna.id,
            decision="rejected", reason="оскорбление"))
        await emit(session, ModerationDecided(  # no consent: not told
            school_id=school.school_id, review_item_id=8, author_id=family.pavel.id,
            decision="approved"))
    await deliver(db, settings, channel)
    [envelope] = channel.sent
    assert envelope.address == "anna@example.test"
    assert envelope.items[0].title == "Ваше сообщение отклонено модератором"
    assert envelope.items[0].body == "Причина: оскорбление"


async def test_erasing_a_person_removes_their_notifications(
    db: Database, school: SchoolBuilder, family: Family
) -> None:
    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    await post_grade(db, school.school_id, family.vera, 4, "j-2")
    async with db.session() as session:
        exported = await export_person(session, family.anna.id, privacy_sources())
    [note] = exported["sources"]["notifications"]["notifications"]
    assert note["title"] == "Оценка 5 по предмету «Математика»"
    assert [d["channel"] for d in exported["sources"]["notifications"]["deliveries"]] == [
        "email"]

    async with db.transaction() as session:
        await erase_person(session, family.anna.id, privacy_sources())
    async with db.session() as session:
        left = list(await session.scalars(select(Notification.person_id)))
        deliveries = list(await session.scalars(select(Delivery.person_id)))
    assert left == deliveries == [family.nina.id]


async def test_a_corrected_grade_replaces_the_original_in_the_digest(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    channel: RecordingChannel,
) -> None:
    async with db.transaction() as session:
        await set_mode(session, family.anna.id, NotificationKind.GRADES, ChannelName.EMAIL,
                       Mode.DIGEST)
    await post_grade(db, school.school_id, family.alice, 4, "j-1")
    await post_grade(db, school.school_id, family.alice, 5, "j-1")  # the journal corrects it
    async with db.transaction() as session:
        digest = await session.scalar(select(Delivery).where(Delivery.digest_key.is_not(None)))
        assert digest is not None
        digest.due_at = digest.due_at - dt.timedelta(days=1)
    await deliver(db, settings, channel)
    [envelope] = channel.to("anna@example.test")
    assert [item.title for item in envelope.items] == [
        "Исправлена оценка: 4 → 5 по предмету «Математика»"]
