"""What the board and the forum put in the notification outbox: an announcement reaches
its audience only, a reply reaches the topic's subscribers, a reminder those who have not
confirmed."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from forum.models import Section
from hub.db import Database
from hub.notify.models import Notification
from tests.forum.conftest import Cast
from tests.support.web import post_form, sign_in


async def notified(db: Database, source_kind: str) -> set[int]:
    async with db.session() as session:
        return set(await session.scalars(
            select(Notification.person_id).where(Notification.source_kind == source_kind)))


async def test_announcement_reaches_its_audience_only(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "teacher5a")
    response = await post_form(client, "/board/new", {
        "title": "Собрание", "body": "В четверг", "audience": "classes",
        "class_target": "parents", "class_ids": str(cast.school.classes["5А"].id)})
    assert response.status == 303
    assert await notified(db, "announcement") == {cast.parent_5a.id}

    await sign_in(client, "coord")
    response = await post_form(client, "/board/new", {
        "title": "Педсовет", "body": "В пятницу", "audience": "staff"})
    assert response.status == 303
    async with db.session() as session:
        staff = set(await session.scalars(select(Notification.person_id).where(
            Notification.title == "Педсовет")))
    assert staff == {cast.teacher_5a.id, cast.teacher_5b.id, cast.moderator.id}


async def test_reply_reaches_subscribers_who_still_read_the_section(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5a")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(
            Section.key == f"class:{cast.school.classes['5А'].id}"))
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": "Вопрос", "body": "Когда экскурсия?"})
    topic = response.headers["Location"]
    await sign_in(client, "teacher5a")
    await post_form(client, f"{topic}/subscription", {"subscribed": "1"})
    assert (await post_form(client, f"{topic}/reply", {"body": "В пятницу"})).status == 303
    assert await notified(db, "post") == {cast.parent_5a.id}  # not the replying teacher


async def test_reminder_reaches_those_who_have_not_confirmed(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "coord")
    response = await post_form(client, "/board/new", {
        "title": "Прививки", "body": "Согласие до пятницы", "audience": "classes",
        "class_target": "parents",
        "class_ids": [str(cast.school.classes["5А"].id), str(cast.school.classes["5Б"].id)]})
    announcement = response.headers["Location"]
    await sign_in(client, "parent5a")
    await post_form(client, f"{announcement}/ack")
    await sign_in(client, "coord")
    assert (await post_form(client, f"{announcement}/remind")).status == 303
    assert await notified(db, "announcement_reminder") == {cast.parent_5b.id}
