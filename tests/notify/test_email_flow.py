"""The done-when flows, end to end: a teacher's page in the browser, the embedded worker,
the real e-mail channel, a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypeVar

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from hub import clock
from hub.auth.access import TokenScope
from hub.auth.tokens import issue_token
from hub.config import Settings
from hub.db import Database
from hub.notify.channel import NotificationKind
from hub.notify.models import Delivery, DeliveryStatus
from hub.notify.outbox import wake_workers
from mail.tokens import read_token
from tests.notify.conftest import YESTERDAY, Family
from tests.notify.waiting import eventually
from tests.support.school import SchoolBuilder
from tests.support.smtp import SmtpSink
from tests.support.web import post_form, sign_in

T = TypeVar("T")


@pytest.fixture
def settings(tmp_path: Path, smtp_sink: SmtpSink) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                    **smtp_sink.settings())


def lesson(school: SchoolBuilder, **cells: str) -> dict[str, str]:
    return {"class": str(school.classes["5А"].id), "subject": "Математика",
            "date": YESTERDAY.isoformat(), **cells}


async def test_teacher_marks_absence_and_the_parents_find_the_mail(
    client: TestClient, settings: Settings, school: SchoolBuilder, family: Family,
    smtp_sink: SmtpSink,
) -> None:
    await sign_in(client, "teacher")
    response = await post_form(client, "/journal", lesson(
        school, **{f"att_{family.alice.id}": "absent", f"att_{family.boris.id}": "present"}))
    assert response.status == 303, await response.text()

    [message] = await smtp_sink.wait_for(1)
    assert message.to == ["anna@example.test"]  # Pavel gave no consent; Boris was there
    assert "Отсутствовала" in message.text and "Алиса" in message.text
    assert message.html and message.header("List-Unsubscribe-Post")
    # The e-mail channel's own one-click link: Anna, attendance only.
    link = (message.header("List-Unsubscribe") or "").split(",")[0].strip("<> ")
    unsubscribe = read_token(settings.secret, link.rsplit("/", 1)[1])
    assert (unsubscribe.person_id, unsubscribe.kinds) == (
        family.anna.id, (NotificationKind.ATTENDANCE,))
    assert smtp_sink.duplicates() == {}

    # The teacher's page shows it delivered (once the worker has recorded it).
    async def page() -> str:
        return await (await client.get("/journal", params=lesson(school))).text()

    assert await eventually(lambda: page(), lambda text: "доставлено 1, ждут 0" in text)


async def test_parent_who_chose_the_digest_gets_one_message_with_everything(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family,
    smtp_sink: SmtpSink,
) -> None:
    await sign_in(client, "anna")
    response = await post_form(client, "/notifications/settings", {
        "mode:grades:email": "digest", "mode:attendance:email": "digest",
        "digest_at": "19:00",
    })
    assert response.status == 200

    await sign_in(client, "teacher")
    response = await post_form(client, "/journal", lesson(school, **{
        f"att_{family.alice.id}": "absent", f"att_{family.boris.id}": "late",
        f"grade_{family.boris.id}": "4",
    }))
    assert response.status == 303, await response.text()
    assert smtp_sink.messages == []  # nothing until the digest time

    async with db.transaction() as session:  # it is 19:00
        await session.execute(update(Delivery).where(Delivery.digest_key.is_not(None))
                              .values(due_at=clock.now() - dt.timedelta(seconds=1)))
    await wake_workers()
    [message] = await smtp_sink.wait_for(1)
    assert message.to == ["anna@example.test"]
    text = message.text
    for expected in ("Алиса Смирнова", "Борис Смирнов", "Отсутствовала", "Опоздал",
                     "Оценка 4"):
        assert expected in text


async def test_unknown_mailbox_is_recorded_as_failed_and_not_retried(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family,
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.reject_recipient("anna@example.test")
    await sign_in(client, "teacher")
    await post_form(client, "/journal", lesson(school, **{f"att_{family.alice.id}": "absent"}))

    async def status() -> DeliveryStatus:
        async with db.session() as session:
            return (await session.get_one(Delivery, 1)).status

    assert await eventually(status, lambda value: value is DeliveryStatus.FAILED)
    assert smtp_sink.messages == [] and smtp_sink.data_commands == 0
    async with db.session() as session:
        delivery = await session.get_one(Delivery, 1)
    assert delivery.attempts == 1 and "550" in (delivery.last_error or "")


async def test_the_same_api_batch_twice_is_mailed_once_and_a_correction_again(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family,
    smtp_sink: SmtpSink,
) -> None:
    async with db.transaction() as session:
        token = (await issue_token(session, school.school_id, "journal",
                                   [TokenScope.JOURNAL])).secret
    headers = {"Authorization": f"Bearer {token}"}
    item = {"source_id": "j-77", "student_id": family.alice.id,
            "date": YESTERDAY.isoformat(), "subject": "Математика", "value": 4}
    for _ in range(2):
        response = await client.post("/api/v1/grades", json={"items": [item]},
                                     headers=headers)
        assert response.status == 200, await response.text()
    [message] = await smtp_sink.wait_for(1)
    assert "Оценка 4" in message.text

    response = await client.post("/api/v1/grades", json={"items": [{**item, "value": 5}]},
                                 headers=headers)
    assert response.status == 200
    messages = await smtp_sink.wait_for(2)
    assert "Исправлена оценка: 4 → 5" in messages[1].text
    assert [m.to for m in messages] == [["anna@example.test"]] * 2
    assert smtp_sink.duplicates() == {}


async def test_smtp_server_down_then_back_delivers_once(
    client: TestClient, db: Database, school: SchoolBuilder, family: Family,
    smtp_sink: SmtpSink,
) -> None:
    await smtp_sink.stop()
    await sign_in(client, "teacher")
    await post_form(client, "/journal", lesson(school, **{f"att_{family.alice.id}": "absent"}))

    async def delivery() -> Delivery:
        async with db.session() as session:
            return await session.get_one(Delivery, 1)

    assert await eventually(delivery, lambda d: d.status is DeliveryStatus.RETRY)
    assert "unreachable" in ((await delivery()).last_error or "")

    await smtp_sink.start()  # the server is back; the retry time comes
    async with db.transaction() as session:
        await session.execute(update(Delivery).values(due_at=clock.now()))
    await wake_workers()
    [message] = await smtp_sink.wait_for(1)
    assert message.to == ["anna@example.test"]
    assert await eventually(delivery, lambda d: d.status is DeliveryStatus.SENT)
    assert (await delivery()).attempts == 2 and len(smtp_sink.messages) == 1


async def test_a_worker_killed_after_the_servers_250_is_followed_by_one_copy_with_the_same_id(
    db: Database, settings: Settings, school: SchoolBuilder, family: Family,
    smtp_sink: SmtpSink,
) -> None:
    from hub.compose import worker as make_worker
    from hub.notify.worker import WorkerConfig
    from tests.notify.conftest import post_grade

    await post_grade(db, school.school_id, family.alice, 5, "j-1")
    killed = make_worker(settings, db, worker_id="killed", config=WorkerConfig(lease=30))
    taking_over = make_worker(settings, db, worker_id="taking-over")
    try:
        [claimed] = await killed.claim()
        assert await killed.claims.start(claimed.delivery_id)
        assert claimed.envelope is not None
        await killed.channels[claimed.channel].send(claimed.envelope)  # 250... then SIGKILL
        [taken] = await taking_over.claim(now=clock.now() + dt.timedelta(seconds=61))
        await taking_over._deliver(taken, set())
    finally:
        await killed.aclose()
        await taking_over.aclose()
    first, second = await smtp_sink.wait_for(2)
    assert first.message_id == second.message_id
    async with db.session() as session:
        delivery = await session.get_one(Delivery, taken.delivery_id)
    assert delivery.status is DeliveryStatus.SENT and delivery.possible_duplicates == 1
    assert delivery.attempts == 2


async def test_the_worker_holds_an_smtp_connection_for_each_send_in_flight(
    db: Database, settings: Settings,
) -> None:
    from hub.compose import worker as make_worker
    from hub.notify.channel import ChannelName
    from hub.notify.worker import WorkerConfig
    from mail.channel import SmtpChannel

    built = make_worker(settings, db, config=WorkerConfig(concurrency=3))
    try:
        smtp = built.channels[ChannelName.EMAIL]
        assert isinstance(smtp, SmtpChannel) and smtp._idle.qsize() == 3
    finally:
        await built.aclose()
