"""Live notes across two hub instances through Redis: a reply posted on one reaches a
topic page open on the other."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy import select

from forum.models import Section
from hub import events
from hub.compose import web_app
from hub.config import Settings
from hub.db import Database
from tests.support.services import need_redis
from tests.support.web import post_form, sign_in


async def test_reply_on_one_instance_reaches_a_page_on_another(
    sqlite_db: Database, tmp_path: object
) -> None:
    from tests.support.school import SchoolBuilder

    redis_url = need_redis()
    school = await SchoolBuilder(sqlite_db).start()
    child = await school.student("5А")
    await school.parent_of(child, login="parent")
    settings = Settings(data_dir=tmp_path / "var", secret_key="k" * 40,  # type: ignore[operator]
                        redis_url=redis_url)
    first = TestClient(TestServer(web_app(settings, db=sqlite_db)))
    second = TestClient(TestServer(web_app(settings, db=sqlite_db)))
    async with first, second:
        await sign_in(first, "parent")
        await sign_in(second, "parent")
        assert (await first.get("/forum")).status == 200
        async with sqlite_db.session() as session:
            section = await session.scalar(select(Section.id).where(Section.key == "school"))
        response = await post_form(first, f"/forum/sections/{section}/topics",
                                   {"title": "Тема", "body": "Начало"})
        topic_id = int(response.headers["Location"].rsplit("/", 1)[1])

        stream = await second.get(f"/live?c=topic:{topic_id}")
        assert stream.status == 200
        # A listener of our own on Redis: the note really travels through Redis pub/sub.
        redis = Redis.from_url(redis_url)
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(f"hub:live:topic:{topic_id}")
        await asyncio.sleep(0.3)  # let the subscriptions reach Redis
        response = await post_form(first, f"/forum/topics/{topic_id}/reply",
                                   {"body": "Через Redis"})
        post_id = int(response.headers["Location"].rsplit("-", 1)[1])
        note = None
        async with asyncio.timeout(10):
            while note is None:
                line = (await stream.content.readline()).decode()
                if line.startswith("data:"):
                    note = json.loads(line[5:])
        stream.close()
        assert note == {"channel": f"topic:{topic_id}", "post": post_id}
        raw = None
        async with asyncio.timeout(10):
            while raw is None:
                raw = await pubsub.get_message(timeout=1)
        assert json.loads(raw["data"]) == {"post": post_id}
        await pubsub.aclose()
        await redis.aclose()
    await events.settle()
