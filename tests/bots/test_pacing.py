"""Telegram pacing (bots.limits): the bot's shared bucket hands out about 29 slots a
second, one chat gets one a second, a group twenty a minute."""

from __future__ import annotations

from bots.limits import BOT_RATE, CHAT_RATE, GROUP_RATE, buckets, group_key
from hub.ratelimit import InProcessLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _granted_within(limiter: InProcessLimiter, chats: list[int], seconds: float) -> int:
    """How many sends the limiter lets start within `seconds`, round robin over chats."""
    granted = 0
    for n in range(10_000):
        reservation = await limiter.reserve(buckets(1, chats[n % len(chats)]), max_wait=100)
        if not reservation.granted or reservation.wait >= seconds:
            break
        granted += 1
    return granted


async def test_the_bot_is_paced_just_under_thirty_a_second() -> None:
    assert 28.5 <= BOT_RATE.count / BOT_RATE.per < 30.0
    limiter = InProcessLimiter(Clock())
    granted = await _granted_within(limiter, list(range(1, 1001)), 10.0)
    assert 285 <= granted <= 296


async def test_a_chat_gets_one_a_second() -> None:
    assert CHAT_RATE.per / CHAT_RATE.count >= 1.0
    limiter = InProcessLimiter(Clock())
    assert (await limiter.reserve(buckets(1, 42), max_wait=10)).granted
    refused = await limiter.reserve(buckets(1, 42), max_wait=10)
    assert not refused.granted and 1.0 <= refused.wait <= 1.1


async def test_a_group_gets_twenty_a_minute() -> None:
    assert GROUP_RATE.count == 20 and GROUP_RATE.per >= 60.0
    assert (group_key(1, -100), GROUP_RATE) in buckets(1, -100)
    assert all("group" not in key for key, _ in buckets(1, 100))
    clock = Clock()
    limiter = InProcessLimiter(clock)
    sent = 0
    while clock.now < 60.0:
        reservation = await limiter.reserve(buckets(1, -100), max_wait=0)
        if reservation.granted:
            sent += 1
        clock.now += 0.25
    assert 19 <= sent <= 20
