"""Grades and marks as notifications (hub.journal.notifications), over HTTP: a teacher
enters attendance for 5А on the page; the parents of the absent children find the message in
the SMTP server's mailbox, and a parent who chose the digest gets one message with
everything; the teacher sees how each notification fared. The app runs its embedded worker
with the real e-mail channel, pointed at an aiosmtpd sink on 127.0.0.1. And the texts."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from hub import clock
from hub.config import Settings
from hub.db import Database
from hub.journal.models import Attendance, AttendanceStatus, Grade
from hub.journal.notifications import attendance_body, attendance_title, grade_title
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, DeliveryStatus
from hub.notify.outbox import wake_workers
from hub.notify.preferences import Mode, set_mode, set_schedule
from hub.school import Person
from tests.support.clock import TODAY
from tests.support.school import SchoolBuilder
from tests.support.smtp import SmtpSink
from tests.support.web import post_form, sign_in

DAY = TODAY


async def delivery_statuses(db: Database) -> set[DeliveryStatus]:
    """The deliveries' statuses once the worker has recorded what the sink accepted (the
    sink answers before the worker writes "sent")."""
    async with asyncio.timeout(10):
        while True:
            async with db.session() as session:
                statuses = set(await session.scalars(select(Delivery.status)))
            if DeliveryStatus.SENDING not in statuses:
                return statuses
            await asyncio.sleep(0.05)


@pytest.fixture
def settings(tmp_path: Path, smtp_sink: SmtpSink) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                    **smtp_sink.settings())


async def test_absent_childrens_parents_get_mail_and_digest_parent_one_letter(
    client: TestClient, db: Database, school: SchoolBuilder, smtp_sink: SmtpSink
) -> None:
    await school.teacher_of("5А", login="teacher", subject="Математика")
    alice = await school.student("5А", last_name="Алексеева", first_name="Алиса")
    boris = await school.student("5А", last_name="Борисов", first_name="Борис")
    gleb = await school.student("5А", last_name="Глебов", first_name="Глеб")
    await school.parent_of(alice, email="alice.mother@example.test")
    digest_father = await school.parent_of(boris, email="boris.father@example.test")
    await school.parent_of(gleb, email="gleb.mother@example.test")
    async with db.transaction() as session:
        # Boris's father reads everything once a day; nobody has quiet hours in this test,
        # so the result does not depend on the time of day it runs at.
        for kind in (NotificationKind.GRADES, NotificationKind.ATTENDANCE):
            await set_mode(session, digest_father.id, kind, ChannelName.EMAIL, Mode.DIGEST)
    async with db.transaction() as session:
        for person in await session.scalars(select(Person)):
            await set_schedule(session, person.id, quiet=None, digest_at=dt.time(19, 0))

    await sign_in(client, "teacher")
    class_id = school.classes["5А"].id
    saved = await post_form(client, "/journal", {
        "class": str(class_id), "subject": "Математика", "date": DAY.isoformat(),
        f"att_{alice.id}": "absent", f"att_{boris.id}": "sick", f"att_{gleb.id}": "present",
        f"grade_{boris.id}": "2", f"work_{boris.id}": "самостоятельная",
    })
    assert saved.status == 303

    [letter] = await smtp_sink.wait_for(1)
    assert letter.to == ["alice.mother@example.test"]
    assert "Отсутствовала" in letter.text and "Математика" in letter.text

    # Boris's father's letter waits for his digest time; let the clock reach it.
    async with db.transaction() as session:
        await session.execute(
            update(Delivery).where(Delivery.person_id == digest_father.id)
            .values(due_at=clock.now() - dt.timedelta(seconds=1))
        )
    await wake_workers()
    messages = await smtp_sink.wait_for(2)
    digest = smtp_sink.for_recipient("boris.father@example.test")
    assert len(digest) == 1
    assert "Болел" in digest[0].text and "Оценка 2" in digest[0].text
    assert "самостоятельная" in digest[0].text
    assert smtp_sink.for_recipient("gleb.mother@example.test") == []
    assert smtp_sink.duplicates() == {} and len(messages) == 2
    assert await delivery_statuses(db) == {DeliveryStatus.SENT}

    # The teacher's grid shows the delivery per row.
    grid = await client.get("/journal", params={"class": str(class_id),
                                                "subject": "Математика",
                                                "date": DAY.isoformat()})
    assert "доставлено 1" in await grid.text()
    entered = await (await client.get("/journal/entered")).text()
    assert entered.count("доставлено 1, ждут 0") == 3  # two absences and a grade


async def test_teacher_sees_a_notification_that_failed_for_good(
    client: TestClient, db: Database, school: SchoolBuilder, smtp_sink: SmtpSink
) -> None:
    await school.teacher_of("5А", login="teacher", subject="Математика")
    alice = await school.student("5А", last_name="Алексеева", first_name="Алиса")
    await school.parent_of(alice, email="no.such.mailbox@example.test")
    await school.parent_of(alice, email="alice.father@example.test")
    async with db.transaction() as session:
        for person in await session.scalars(select(Person)):
            await set_schedule(session, person.id, quiet=None, digest_at=dt.time(19, 0))
    smtp_sink.reject_recipient("no.such.mailbox@example.test")

    await sign_in(client, "teacher")
    saved = await post_form(client, "/journal", {
        "class": str(school.classes["5А"].id), "subject": "Математика",
        "date": DAY.isoformat(), f"grade_{alice.id}": "5",
    })
    assert saved.status == 303
    await smtp_sink.wait_for(1)
    assert await delivery_statuses(db) == {DeliveryStatus.SENT, DeliveryStatus.FAILED}
    entered = await (await client.get("/journal/entered")).text()
    assert "доставлено 1, ждут 0, " in entered and "не доставлено 1" in entered


def test_texts_say_what_was_posted_and_what_was_corrected() -> None:
    grade = Grade(subject="Математика", lesson_date=DAY, value=5, previous_value=4)
    assert grade_title(grade) == "Оценка 5 по предмету «Математика»"
    assert grade_title(grade, corrected=True) == (
        "Исправлена оценка: 4 → 5 по предмету «Математика»")
    mark = Attendance(lesson_date=DAY, status=AttendanceStatus.PRESENT, subject="Математика",
                      lesson_number=3)
    assert attendance_title(mark, corrected=True) == (
        f"Исправлена отметка: присутствие на уроке «Математика» {DAY:%d.%m.%Y}")
    assert "Урок № 3" in attendance_body(mark)
