"""The issue's "done when" in a real browser: a teacher enters attendance for 5А on the
journal page; the parents of the absent children find the message in the SMTP server's
mailbox, and a parent who chose the digest gets one letter with everything. The served
app runs its embedded worker with the real e-mail channel, aimed at an aiosmtpd sink."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import select, update

from hub import clock
from hub.config import Settings
from hub.db import Database
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.models import Delivery, DeliveryStatus
from hub.notify.preferences import Mode, set_mode, set_schedule
from hub.school import Person
from tests.browser.conftest import sign_in_page
from tests.support.school import PASSWORD, SchoolBuilder
from tests.support.smtp import SmtpSink, smtp_sink  # noqa: F401


@pytest.fixture
def settings(tmp_path: Path, smtp_sink: SmtpSink) -> Settings:  # noqa: F811
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-" + "x" * 32,
                    **smtp_sink.settings())


async def recorded(db: Database) -> set[DeliveryStatus]:
    """Delivery statuses once the worker has written down what the sink accepted."""
    async with asyncio.timeout(10):
        while True:
            async with db.session() as session:
                statuses = set(await session.scalars(select(Delivery.status)))
            if DeliveryStatus.SENDING not in statuses:
                return statuses
            await asyncio.sleep(0.05)


async def test_teacher_marks_5a_and_parents_get_mail(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder,
    smtp_sink: SmtpSink,  # noqa: F811
) -> None:
    await school.teacher_of("5А", login="teacher", last_name="Учителева", first_name="Мария")
    alice = await school.student("5А", last_name="Алексеева", first_name="Алиса")
    boris = await school.student("5А", last_name="Борисов", first_name="Борис")
    gleb = await school.student("5А", last_name="Глебов", first_name="Глеб")
    await school.parent_of(alice, login="alice.mother", email="alice.mother@example.test")
    father = await school.parent_of(boris, email="boris.father@example.test")
    await school.parent_of(gleb, email="gleb.mother@example.test")
    async with db.transaction() as session:
        for kind in (NotificationKind.GRADES, NotificationKind.ATTENDANCE):
            await set_mode(session, father.id, kind, ChannelName.EMAIL, Mode.DIGEST)
        # No quiet hours, so the test does not depend on the time of day it runs at.
        for person in await session.scalars(select(Person)):
            await set_schedule(session, person.id, quiet=None, digest_at=dt.time(19, 0))

    page = await (await chromium.new_context()).new_page()
    await sign_in_page(page, live_url, "teacher", PASSWORD)
    await page.get_by_role("link", name="Журнал").click()
    await page.get_by_label("Класс").select_option(label="5А")
    await page.get_by_role("button", name="Открыть урок").click()
    await expect(page.locator("form.lesson-grid h2")).to_contain_text("5А, Математика")

    await page.check(f"input[name=att_{alice.id}][value=absent]")
    await page.check(f"input[name=att_{boris.id}][value=sick]")
    await page.get_by_label("Оценка: Борисов Борис").select_option("2")
    await page.get_by_label("Вид работы: Борисов Борис").fill("самостоятельная")
    await page.get_by_role("button", name="Сохранить").click()
    await expect(page.get_by_role("status")).to_contain_text("Сохранено")

    [letter] = await smtp_sink.wait_for(1)
    assert letter.to == ["alice.mother@example.test"]
    assert "Отсутствовала" in letter.text and "Математика" in letter.text

    # Boris's father's digest time comes: one letter with the absence and the grade.
    async with db.transaction() as session:
        await session.execute(update(Delivery).where(Delivery.person_id == father.id)
                              .values(due_at=clock.now() - dt.timedelta(seconds=1)))
    await smtp_sink.wait_for(2, within=15)
    [digest] = smtp_sink.for_recipient("boris.father@example.test")
    assert "Болел" in digest.text and "Оценка 2" in digest.text
    assert "самостоятельная" in digest.text
    assert smtp_sink.for_recipient("gleb.mother@example.test") == []
    assert smtp_sink.duplicates() == {}
    assert await recorded(db) == {DeliveryStatus.SENT}

    # The teacher's grid now says the notifications were delivered.
    await page.reload()
    await expect(page.locator(f"tr[data-student='{alice.id}'] td.delivery")).to_contain_text(
        "доставлено 1")

    # Alice's mother sees the mark on her children's page too.
    parent = await (await chromium.new_context()).new_page()
    await sign_in_page(parent, live_url, "alice.mother", PASSWORD)
    await parent.goto(f"{live_url}/children")
    await expect(parent.locator("table.attendance")).to_contain_text("отсутствовала")
