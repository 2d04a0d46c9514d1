"""hub.ratelimit's in-process buckets, on a clock the test moves: slots handed out first
come first served, a busy chat reserving nothing, refusals past max_wait, holds."""

from __future__ import annotations

import pytest

from hub.ratelimit import InProcessLimiter, Rate, RateLimitExceeded, take

BOT = ("bot", Rate(30, 1.0))


def chat(n: int) -> tuple[str, Rate]:
    return (f"chat:{n}", Rate(1, 1.0))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_slots_are_handed_out_in_order_at_the_rate() -> None:
    limiter = InProcessLimiter(Clock())
    waits = [(await limiter.reserve([BOT, chat(n)], 10)).wait for n in range(60)]
    assert waits == pytest.approx([n / 30 for n in range(60)])


async def test_a_busy_chat_takes_no_slot_of_the_bot() -> None:
    clock = Clock()
    limiter = InProcessLimiter(clock)
    assert (await limiter.reserve([BOT, chat(1)], 10)).granted
    again = await limiter.reserve([BOT, chat(1)], 10)
    assert not again.granted and again.wait == pytest.approx(1.0)
    other = await limiter.reserve([BOT, chat(2)], 10)
    assert other.granted and other.wait == pytest.approx(1 / 30)  # the very next slot
    clock.now += 1.0
    assert (await limiter.reserve([BOT, chat(1)], 10)).granted


async def test_a_slot_further_than_max_wait_is_refused_and_not_reserved() -> None:
    limiter = InProcessLimiter(Clock())
    slow = ("slow", Rate(1, 60.0))
    assert (await limiter.reserve([slow], 5)).granted
    refused = await limiter.reserve([slow], 5)
    assert not refused.granted and refused.wait == pytest.approx(60.0)
    with pytest.raises(RateLimitExceeded) as exceeded:
        await take(limiter, [slow], max_wait=5)
    assert exceeded.value.wait == pytest.approx(60.0, abs=0.5)


async def test_a_burst_allows_that_many_at_once() -> None:
    limiter = InProcessLimiter(Clock())
    bursty = ("b", Rate(10, 1.0, burst=3))
    waits = [(await limiter.reserve([bursty], 10)).wait for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2])


async def test_hold_keeps_a_bucket_closed() -> None:
    clock = Clock()
    limiter = InProcessLimiter(clock)
    await limiter.hold("chat:1", Rate(1, 1.0), 7)
    held = await limiter.reserve([BOT, chat(1)], 30)
    assert not held.granted and held.wait == pytest.approx(7)
    clock.now += 7
    assert (await limiter.reserve([BOT, chat(1)], 30)).granted
