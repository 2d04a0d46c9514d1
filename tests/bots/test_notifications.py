"""The issue's "done when": a grade a teacher enters on the journal page reaches the linked
parent's Telegram chat through the hub's embedded worker and the real aiogram client; a
parent who blocked the bot gets it by e-mail instead, and the chat is unlinked."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hub.db import Database
from hub.notify.addresses import addresses_of
from hub.notify.channel import ChannelName
from hub.notify.models import Delivery, DeliveryStatus
from hub.notify.preferences import set_schedule
from hub.school import Person
from tests.support.clock import TODAY
from tests.support.school import SchoolBuilder
from tests.support.telegram_api import FakeBotAPI
from tests.support.web import post_form, sign_in

from .conftest import Family, link_chat

DAY = TODAY
CHAT = 6001


@pytest.fixture
async def teacher_grade(db: Database, school: SchoolBuilder, family: Family):  # type: ignore[no-untyped-def]
    await school.teacher_of("5А", login="teacher", subject="Математика")
    async with db.transaction() as session:  # no quiet hours: the result must not depend
        for person in await session.scalars(select(Person)):  # on the time of day
            await set_schedule(session, person.id, quiet=None, digest_at=dt.time(19, 0))

    async def post(hub: TestClient) -> None:
        await sign_in(hub, "teacher")
        saved = await post_form(hub, "/journal", {
            "class": str(school.classes["5А"].id), "subject": "Математика",
            "date": DAY.isoformat(), f"grade_{family.child.id}": "5",
            f"work_{family.child.id}": "<контрольная> & тест",
        })
        assert saved.status == 303, await saved.text()

    return post


async def test_a_teachers_grade_reaches_the_linked_parents_chat(
    hub: TestClient, api: FakeBotAPI, family: Family, teacher_grade  # type: ignore[no-untyped-def]
) -> None:
    await link_chat(hub, api, "parent", CHAT)
    await teacher_grade(hub)
    messages = await api.wait_for_messages(CHAT, count=2, timeout=15)
    grade = messages[-1]
    assert "Оценка 5" in grade.text and "Математика" in grade.text
    assert "<контрольная> & тест" in grade.text  # escaped going out, shown as typed
    assert "Маша" in grade.text
    assert grade.parse_mode == "HTML"
    assert any(e["type"] == "bold" for e in grade.entities)


async def test_a_blocked_bot_unlinks_the_chat_and_the_grade_goes_by_email(
    hub: TestClient, api: FakeBotAPI, db: Database, family: Family,
    teacher_grade,  # type: ignore[no-untyped-def]
) -> None:
    await link_chat(hub, api, "parent", CHAT)
    api.block(CHAT)
    await teacher_grade(hub)

    async def parent_deliveries() -> dict[ChannelName, DeliveryStatus]:
        async with db.session() as session:
            rows = await session.scalars(
                select(Delivery).where(Delivery.person_id == family.parent.id)
            )
            return {row.channel: row.status for row in rows}

    async with asyncio.timeout(15):  # the worker records the failure and the fallback
        while True:
            found = await parent_deliveries()
            if found.get(ChannelName.TELEGRAM) == DeliveryStatus.FAILED and (
                ChannelName.EMAIL in found
            ):
                break
            await asyncio.sleep(0.05)
    assert found[ChannelName.TELEGRAM] == DeliveryStatus.FAILED
    assert ChannelName.EMAIL in found
    assert len(api.messages(CHAT)) == 1  # only the linking answer, from before the block
    async with db.session() as session:
        addresses = (await addresses_of(session, [family.parent.id]))[family.parent.id]
    assert ChannelName.TELEGRAM not in addresses
    page = await (await _signed_in_as(hub, "parent")).get("/profile/telegram")
    assert "Telegram отвязан" in await page.text()


async def _signed_in_as(hub: TestClient, login: str) -> TestClient:
    await sign_in(hub, login)
    return hub
