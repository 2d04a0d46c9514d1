"""Two hub instances with one bot token: an update is answered once, whether it reaches both
by webhook or both poll; with the database or with Redis coordinating them."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bots.coordination import (
    DatabasePollLease,
    DatabaseUpdateGate,
    RedisPollLease,
    RedisUpdateGate,
)
from bots.polling import run_polling
from bots.router import build_dispatcher
from hub.config import Settings
from hub.db import Database
from hub.ratelimit import Rate, RedisLimiter
from tests.support.services import need_redis
from tests.support.telegram_api import FakeBotAPI

from .conftest import SECRET, start_hub


def start_update(update_id: int, chat_id: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id, "date": 0, "text": "/start",
            "chat": {"id": chat_id, "type": "private", "first_name": "Аня"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Аня"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_a_duplicate_update_to_two_instances_is_handled_once(
    tg_settings: Settings, db: Database, api: FakeBotAPI
) -> None:
    first = await start_hub(tg_settings, db, api)
    second = await start_hub(tg_settings, db, api)
    try:
        api.chat(9001)
        api.chat(9002)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        answers = await asyncio.gather(
            first.post("/telegram/webhook", json=start_update(501, 9001), headers=headers),
            second.post("/telegram/webhook", json=start_update(501, 9001), headers=headers),
        )
        assert [a.status for a in answers] == [200, 200]
        # A redelivery later, to either instance, is skipped too.
        again = await second.post("/telegram/webhook", json=start_update(501, 9001),
                                  headers=headers)
        assert again.status == 200
        other = await first.post("/telegram/webhook", json=start_update(502, 9002),
                                 headers=headers)
        assert other.status == 200
        assert len(api.messages(9001)) == 1
        assert len(api.messages(9002)) == 1
    finally:
        await first.close()
        await second.close()


@contextlib.asynccontextmanager
async def poller(
    api: FakeBotAPI, db: Database, settings: Settings, lease: object, gate: object
) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    dp = build_dispatcher(db, settings, gate)  # type: ignore[arg-type]
    task = asyncio.create_task(run_polling(
        api.bot(), dp, lease, stop, poll_timeout=1, standby_interval=0.2  # type: ignore[arg-type]
    ))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_two_pollers_one_answers_and_the_other_takes_over(
    tg_settings: Settings, db: Database, api: FakeBotAPI
) -> None:
    settings = tg_settings.model_copy(update={"telegram_mode": "polling"})
    gate = DatabaseUpdateGate(db, 123456)
    one = DatabasePollLease(db, 123456, ttl=1.5)
    two = DatabasePollLease(db, 123456, ttl=1.5)
    for chat_id in (9101, 9102, 9103):
        api.chat(chat_id)
    async with poller(api, db, settings, two, gate):
        async with poller(api, db, settings, one, gate):
            await api.send_user_message(9101, "/start")
            await api.send_user_message(9102, "/help")
            await api.wait_for_messages(9101)
            await api.wait_for_messages(9102)
        # The first poller stopped (its lease released); the second takes over.
        await api.send_user_message(9103, "/start")
        await api.wait_for_messages(9103, timeout=10)
    assert [len(api.messages(c)) for c in (9101, 9102, 9103)] == [1, 1, 1]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(need_redis())
    yield client
    await client.aclose()


async def test_redis_gate_lets_one_instance_take_an_update(redis: Redis) -> None:
    bot_id = secrets.randbelow(10**9)
    gates = [RedisUpdateGate(redis, bot_id) for _ in range(2)]
    claims = await asyncio.gather(*(gate.claim(77) for gate in gates * 5))
    assert sum(claims) == 1
    await gates[0].release(77)
    assert await gates[1].claim(77)


async def test_redis_poll_lease_is_exclusive_until_released(redis: Redis) -> None:
    bot_id = secrets.randbelow(10**9)
    one, two = RedisPollLease(redis, bot_id, ttl=5), RedisPollLease(redis, bot_id, ttl=5)
    assert await one.acquire()
    assert not await two.acquire()
    assert await one.acquire()  # renewing
    await one.release()
    assert await two.acquire()
    await two.release()


async def test_redis_token_buckets_are_shared_between_limiters(redis: Redis) -> None:
    """Two limiters (two workers) on one Redis keep one schedule: their reservations of the
    bot's slots follow each other, a busy chat blocks both, and a refusal reserves nothing."""
    bot = f"test:{secrets.token_hex(4)}"
    chat = f"test:{secrets.token_hex(4)}"
    one, two = (RedisLimiter(redis, prefix="hub:test-rate:") for _ in range(2))
    per_second = Rate(10, 1.0)
    first = await one.reserve([(bot, per_second), (chat, Rate(1, 60.0))], 5)
    second = await two.reserve([(bot, per_second)], 5)
    assert first.granted and second.granted
    assert first.wait == 0 and 0.05 < second.wait <= 0.1  # the next slot, not the same one
    busy = await two.reserve([(bot, per_second), (chat, Rate(1, 60.0))], 5)
    assert not busy.granted and busy.wait > 50  # the chat's next slot is a minute away
    third = await one.reserve([(bot, per_second)], 5)
    assert third.granted and 0.1 < third.wait <= 0.2  # the refusal took no slot
    assert (await one.reserve([(bot + "z", Rate(1, 60.0))], 5)).granted
    far = await two.reserve([(bot + "z", Rate(1, 60.0))], 5)
    assert not far.granted and far.wait > 50
    await two.hold(chat + "x", Rate(1, 1.0), 30)
    held = await one.reserve([(bot + "y", per_second), (chat + "x", Rate(1, 1.0))], 5)
    assert not held.granted and held.wait > 25
