"""The whole path through the forum's real pages: a parent's abusive reply is held, a
moderator rejects it with a reason in the queue, the author sees the reason."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from forum.models import Section
from hub.db import Database
from moderation import audit
from tests.moderation.conftest import Cast
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


async def _topic(client: TestClient, db: Database) -> int:
    await client.get("/forum")  # the forum creates its sections on first visit
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(Section.key == "school"))
    assert section is not None
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": "Экскурсия в музей", "body": "Кто поедет в пятницу?"})
    assert response.status == 303, await response.text()
    return int(response.headers["Location"].rsplit("/", 1)[1])


async def test_held_reply_rejected_in_the_queue_author_sees_reason(
    client: TestClient, db: Database, school: SchoolBuilder, cast: Cast
) -> None:
    await sign_in(client, "parent1")
    topic = await _topic(client, db)
    response = await post_form(client, f"/forum/topics/{topic}/reply",
                               {"body": "Ты **тупой** идиот, всё перепутал"})
    assert response.status == 303

    await sign_in(client, "mod")
    queue_page = await (await client.get("/moderation/queue")).text()
    assert re.search(r'<mark class="flag"[^>]*>тупой</mark>', queue_page)
    assert "Экскурсия в музей" in queue_page
    item_id = int(re.search(r'data-item="(\d+)"', queue_page).group(1))  # type: ignore[union-attr]
    response = await post_form(client, f"/moderation/items/{item_id}/reject", {
        "canned": "Оскорбление участников", "reason": "Перепишите без оскорблений."})
    assert response.status == 303

    await sign_in(client, "parent1")
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert "Оскорбление участников. Перепишите без оскорблений." in page
    await sign_in(client, "parent2")
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert "всё перепутал" not in page
    async with db.session() as session:
        (entry,) = await audit.entries(session, school.school_id, item_id=item_id)
    assert "тупой" in (entry.text_before or "")
