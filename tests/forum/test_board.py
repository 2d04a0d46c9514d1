"""The notice board over HTTP: audiences, acknowledgements, edits, deletion, scheduling."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from forum import board
from forum.models import Acknowledgement, Announcement, AnnouncementRevision
from hub import clock, events
from hub.clock import SetClock
from hub.config import Settings
from hub.db import Database
from tests.forum.conftest import Capture, Cast
from tests.support.web import post_form, sign_in


async def announce(client: TestClient, **fields: object) -> int:
    data = {"title": "Собрание", "body": "Родительское собрание в **четверг**.",
            "audience": "classes", "class_target": "both", **fields}
    response = await post_form(client, "/board/new", data)
    assert response.status == 303, await response.text()
    return int(response.headers["Location"].rsplit("/", 1)[1])


async def test_teacher_posts_to_own_class_parent_sees_other_class_does_not(
    client: TestClient, cast: Cast
) -> None:
    class_5a = cast.school.classes["5А"]
    await sign_in(client, "teacher5a")
    announcement_id = await announce(client, class_ids=str(class_5a.id))

    await sign_in(client, "parent5a")
    page = await (await client.get("/board")).text()
    assert "Собрание" in page and "<strong>четверг</strong>" in page
    assert (await client.get(f"/board/{announcement_id}")).status == 200

    await sign_in(client, "parent5b")
    assert "Собрание" not in await (await client.get("/board")).text()
    assert (await client.get(f"/board/{announcement_id}")).status == 404


async def test_teacher_cannot_post_to_a_class_they_do_not_teach(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "teacher5a")
    response = await post_form(client, "/board/new", {
        "title": "Чужой класс", "body": "текст", "audience": "classes",
        "class_ids": str(cast.school.classes["5Б"].id),
    })
    assert response.status == 403
    school_wide = await post_form(client, "/board/new", {
        "title": "Всем", "body": "текст", "audience": "school",
    })
    assert school_wide.status == 403
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 0


async def test_audiences_staff_parents_students(client: TestClient, cast: Cast) -> None:
    await sign_in(client, "coord")
    await announce(client, title="Педсовет", audience="staff")
    await announce(client, title="Для родителей", audience="parents")
    await announce(client, title="Ученикам 5А", audience="classes", class_target="students",
                   class_ids=str(cast.school.classes["5А"].id))

    def titles(page: str) -> set[str]:
        return {t for t in ("Педсовет", "Для родителей", "Ученикам 5А") if t in page}

    await sign_in(client, "teacher5b")
    assert titles(await (await client.get("/board")).text()) == {"Педсовет"}
    await sign_in(client, "parent5a")
    assert titles(await (await client.get("/board")).text()) == {"Для родителей"}
    await sign_in(client, "student5a")
    assert titles(await (await client.get("/board")).text()) == {"Ученикам 5А"}
    await sign_in(client, "student5b")
    assert titles(await (await client.get("/board")).text()) == set()
    await sign_in(client, "teacher5a")  # teaches 5А: reads what goes to its students
    assert titles(await (await client.get("/board")).text()) == {"Педсовет", "Ученикам 5А"}


async def test_acknowledgement_report_and_reminder(
    client: TestClient, cast: Cast, db: Database, captured: Capture
) -> None:
    reminded = captured(events.AcknowledgementReminded)
    await sign_in(client, "teacher5a")
    announcement_id = await announce(client, class_ids=str(cast.school.classes["5А"].id),
                                     class_target="parents")

    await sign_in(client, "parent5a")
    assert (await post_form(client, f"/board/{announcement_id}/ack")).status == 303
    assert (await post_form(client, f"/board/{announcement_id}/ack")).status == 303  # twice
    assert "Вы ознакомились" in await (await client.get("/board")).text()
    assert (await client.get(f"/board/{announcement_id}/acks")).status == 403

    await sign_in(client, "parent5b")
    assert (await post_form(client, f"/board/{announcement_id}/ack")).status == 404

    await sign_in(client, "teacher5a")
    report = await (await client.get(f"/board/{announcement_id}/acks")).text()
    assert "5А: 1 из 1" in report and "Петрова Мария" in report
    # The author sees how the notifications fared: the one parent's e-mail is delivered by
    # the embedded worker or still waiting, and nothing failed.
    counts = re.search(r"доставлено (\d+),\s+ожидают (\d+), не доставлено (\d+)", report)
    assert counts is not None
    delivered, waiting, failed = map(int, counts.groups())
    assert (delivered + waiting, failed) == (1, 0)

    # A second parent of 5А has not read it: the reminder reaches only them.
    second = await cast.school.parent_of(cast.student_5a, last_name="Петров",
                                         first_name="Павел")
    response = await post_form(client, f"/board/{announcement_id}/remind")
    assert response.status == 303 and response.headers["Location"].endswith("reminded=1")
    assert [e.person_ids for e in reminded] == [(second.id,)]
    async with db.session() as session:
        _, groups = await board.ack_report(
            session, await cast.school.principal(cast.teacher_5a), announcement_id
        )
    assert [(g.label, g.done, len(g.readers)) for g in groups] == [("5А", 1, 2)]


async def test_edit_keeps_history_and_delete_hides(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "teacher5a")
    announcement_id = await announce(client, class_ids=str(cast.school.classes["5А"].id))
    response = await post_form(client, f"/board/{announcement_id}/edit", {
        "title": "Собрание перенесено", "body": "В пятницу."})
    assert response.status == 303
    history = await (await client.get(f"/board/{announcement_id}/history")).text()
    assert "Родительское собрание" in history

    await sign_in(client, "parent5a")
    page = await (await client.get(f"/board/{announcement_id}")).text()
    assert "Собрание перенесено" in page and "В пятницу." in page
    assert (await post_form(client, f"/board/{announcement_id}/edit", {
        "title": "Взлом", "body": "x"})).status in (403, 404)

    await sign_in(client, "teacher5a")
    assert (await post_form(client, f"/board/{announcement_id}/delete")).status == 303
    await sign_in(client, "parent5a")
    assert (await client.get(f"/board/{announcement_id}")).status == 404
    async with db.session() as session:  # kept for the record
        kept = await session.get_one(Announcement, announcement_id)
        assert kept.deleted_at is not None
        assert await session.scalar(
            select(func.count()).select_from(AnnouncementRevision)) == 1


async def test_scheduled_and_expiring(
    client: TestClient, cast: Cast, db: Database, captured: Capture
) -> None:
    published = captured(events.AnnouncementPublished)
    await sign_in(client, "coord")
    await announce(client, title="Скоро", audience="school", publish_at="2099-01-01T09:00")
    await announce(client, title="Сейчас", audience="school",
                   expires_at="2099-01-01T09:00")
    assert len(published) == 1

    await sign_in(client, "parent5a")
    page = await (await client.get("/board")).text()
    assert "Сейчас" in page and "Скоро" not in page

    async with db.transaction() as session:
        due = await board.publish_due(session, dt.datetime(2099, 1, 2, tzinfo=dt.UTC))
    assert len(due) == 1 and len(published) == 2
    async with db.transaction() as session:  # once only
        assert await board.publish_due(session, dt.datetime(2099, 1, 3, tzinfo=dt.UTC)) == []


async def test_bad_input_changes_nothing(client: TestClient, cast: Cast, db: Database) -> None:
    await sign_in(client, "coord")
    cases = [
        ({"title": "   ", "body": "текст", "audience": "school"}, 422, "Укажите заголовок"),
        ({"title": "Т", "body": "x" * 20_001, "audience": "school"}, 422, "длиннее"),
        ({"title": "Т", "body": "текст", "audience": "planet"}, 422, "кому адресовано"),
        ({"title": "Т", "body": "текст", "audience": "classes"}, 422, "хотя бы один класс"),
        ({"title": "Т", "body": "текст", "audience": "classes", "class_ids": "999999"}, 422,
         "нет в школе"),
        ({"title": "Т", "body": "текст", "audience": "school", "publish_at": "завтра"}, 422,
         "неверная дата"),
    ]
    for data, status, message in cases:
        response = await post_form(client, "/board/new", data)
        text = await response.text()
        assert response.status == status, (data, text[:300])
        assert message in text
    # The author's text is kept in the form.
    response = await post_form(client, "/board/new",
                               {"title": "", "body": "Мой длинный текст", "audience": "school"})
    assert "Мой длинный текст" in await response.text()
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 0


async def test_double_submission_makes_one(client: TestClient, cast: Cast, db: Database) -> None:
    await sign_in(client, "coord")
    form = await (await client.get("/board/new")).text()
    token = re.search(r'name="form_token" value="([^"]+)"', form)
    assert token
    data = {"title": "Один раз", "body": "текст", "audience": "school",
            "form_token": token.group(1)}
    first = await post_form(client, "/board/new", data)
    second = await post_form(client, "/board/new", data)
    assert first.status == second.status == 303
    assert first.headers["Location"] == second.headers["Location"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 1


async def test_simultaneous_acknowledgements_count_once_and_expired_hide(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "coord")
    announcement_id = await announce(client, title="Каникулы", audience="parents")
    await sign_in(client, "parent5a")
    responses = await asyncio.gather(*(
        post_form(client, f"/board/{announcement_id}/ack") for _ in range(3)))
    assert [r.status for r in responses] == [303, 303, 303]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Acknowledgement)) == 1
    async with db.transaction() as session:
        await session.execute(update(Announcement).values(
            expires_at=clock.now() - dt.timedelta(minutes=1)))
    assert "Каникулы" not in await (await client.get("/board")).text()
    assert (await client.get(f"/board/{announcement_id}")).status == 404


async def test_a_withdrawn_announcement_cancels_its_waiting_notices_and_an_edit_is_sent(
    client: TestClient, cast: Cast, db: Database, clock: SetClock
) -> None:
    from hub.notify.inbox import notifications_of
    from hub.notify.models import Delivery, DeliveryStatus, Notification

    clock.set(dt.datetime(2026, 3, 10, 22, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    await sign_in(client, "teacher5a")  # at night: the e-mails wait for the morning
    edited = await announce(client, class_ids=str(cast.school.classes["5А"].id))
    deleted = await announce(client, class_ids=str(cast.school.classes["5А"].id),
                             title="Экскурсия")  # another text: not a resubmitted form
    response = await post_form(client, f"/board/{edited}/edit", {
        "title": "Собрание перенесено", "body": "В пятницу."})
    assert response.status == 303
    assert (await post_form(client, f"/board/{deleted}/delete")).status == 303

    async with db.session() as session:
        rows = (await session.execute(
            select(Notification.source_id, Notification.title, Delivery.status)
            .join(Delivery, Delivery.notification_id == Notification.id)
            .where(Notification.source_kind == "announcement"))).all()
        assert rows and {(s, st) for s, _, st in rows} == {
            (edited, DeliveryStatus.PENDING), (deleted, DeliveryStatus.CANCELLED)}
        assert {t for s, t, _ in rows if s == edited} == {"Собрание перенесено"}
        inbox, _ = await notifications_of(session, cast.school.school_id, cast.parent_5a.id)
    assert [n.source_id for n, _ in inbox] == [edited]


async def test_an_announcement_hidden_or_rejected_by_moderators_withdraws_its_waiting_notices(
    client: TestClient, cast: Cast, db: Database, clock: SetClock
) -> None:
    from hub.notify.inbox import notifications_of
    from hub.notify.models import Delivery, DeliveryStatus, Notification
    from moderation import queue

    clock.set(dt.datetime(2026, 3, 10, 22, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    await sign_in(client, "teacher5a")  # at night: the e-mails wait for the morning
    class_5a = str(cast.school.classes["5А"].id)
    hidden = await announce(client, class_ids=class_5a)
    rejected = await announce(client, class_ids=class_5a, title="Экскурсия")
    kept = await announce(client, class_ids=class_5a, title="Каникулы")
    school_id = cast.school.school_id
    async with db.transaction() as session:
        for reporter in (cast.parent_5a, cast.parent_5b, cast.student_5a):  # enough to hide
            await queue.report(session, school_id=school_id, kind="announcement",
                               target_id=hidden, reporter_id=reporter.id, reason="Спам")
        item = await queue.report(session, school_id=school_id, kind="announcement",
                                  target_id=rejected, reporter_id=cast.parent_5a.id,
                                  reason="Спам")
    async with db.transaction() as session:
        await queue.reject(session, school_id=school_id, item_id=item.id,
                           moderator_id=cast.moderator.id, reason="Реклама")

    async with db.session() as session:
        rows = (await session.execute(
            select(Notification.source_id, Delivery.status)
            .join(Delivery, Delivery.notification_id == Notification.id)
            .where(Notification.source_kind == "announcement"))).all()
        inbox, _ = await notifications_of(session, school_id, cast.parent_5a.id)
    assert {(s, st) for s, st in rows} == {
        (hidden, DeliveryStatus.CANCELLED), (rejected, DeliveryStatus.CANCELLED),
        (kept, DeliveryStatus.PENDING)}
    assert [n.source_id for n, _ in inbox] == [kept]


async def test_an_announcement_edited_before_its_notices_went_out_is_sent_as_edited(
    client: TestClient, cast: Cast, db: Database, clock: SetClock, settings: Settings,
) -> None:
    from hub.notify.channel import ChannelName
    from hub.notify.worker import Worker
    from tests.notify.doubles import RecordingChannel

    clock.set(dt.datetime(2026, 3, 10, 22, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    await sign_in(client, "teacher5a")
    edited = await announce(client, class_ids=str(cast.school.classes["5А"].id))
    response = await post_form(client, f"/board/{edited}/edit", {
        "title": "Собрание перенесено", "body": "В пятницу, в 18:00."})
    assert response.status == 303
    clock.set(dt.datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo("Europe/Moscow")))
    channel = RecordingChannel()
    assert await Worker(settings, db, {ChannelName.EMAIL: channel}).run_once() >= 1
    [letter] = [e for e in channel.sent if e.person_id == cast.parent_5a.id]
    [item] = letter.items
    assert item.title == "Собрание перенесено" and "В пятницу, в 18:00." in item.body
