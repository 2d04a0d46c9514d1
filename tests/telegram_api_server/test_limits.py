"""Flood limits (429 + retry_after, nothing delivered) and forced failures."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from tests.support.telegram_api import FakeBotAPI, RateLimit, SlidingWindowLimiter


def test_sliding_window_admits_count_per_window() -> None:
    limiter = SlidingWindowLimiter(RateLimit(2, 1.0))
    for now in (0.0, 0.3):
        assert limiter.wait_time("k", now) == 0.0
        limiter.record("k", now)

    assert limiter.wait_time("k", 0.5) == pytest.approx(0.5)  # until 0.0 leaves the window
    assert limiter.wait_time("other", 0.5) == 0.0
    assert limiter.wait_time("k", 1.0) == 0.0


async def test_second_message_to_a_chat_within_a_second_gets_429() -> None:
    async with FakeBotAPI() as api:
        api.chat(1001)
        bot = api.bot()
        await bot.send_message(1001, "первое")

        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(1001, "второе")

        assert caught.value.retry_after == 1
        assert "Too Many Requests: retry after 1" in caught.value.message
        assert [m.text for m in api.messages(1001)] == ["первое"]
        assert (api.stats.sent, api.stats.rejected_429) == (1, 1)
        assert api.stats.chat(1001).rejected_429 == 1


async def test_chat_window_frees_up_after_its_length() -> None:
    async with FakeBotAPI(chat_limit=RateLimit(1, 0.1)) as api:
        api.chat(1001)
        bot = api.bot()
        await bot.send_message(1001, "первое")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(1001, "второе")

        await asyncio.sleep(0.12)
        await bot.send_message(1001, "второе")

        assert len(api.messages(1001)) == 2
        assert api.stats.arrivals[1] - api.stats.arrivals[0] >= 0.1


async def test_bot_wide_limit_counts_every_chat() -> None:
    async with FakeBotAPI(bot_limit=RateLimit(3, 1.0)) as api:
        bot = api.bot()
        for chat_id in range(1, 5):
            api.chat(chat_id)

        for chat_id in range(1, 4):
            await bot.send_message(chat_id, "объявление")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(4, "объявление")

        assert api.messages(4) == []
        assert api.stats.sent == 3 and api.stats.chat(4).rejected_429 == 1


async def test_a_paced_sender_reaches_the_limit_rate() -> None:
    async with FakeBotAPI(bot_limit=RateLimit(5, 0.05), chat_limit=RateLimit(100, 1.0)) as api:
        bot = api.bot()
        api.chat(1001)
        sent = 0
        while sent < 20:
            try:
                await bot.send_message(1001, f"#{sent}")
                sent += 1
            except TelegramRetryAfter:
                await asyncio.sleep(0.01)  # a test-sized pause instead of retry_after seconds

        assert api.stats.sent == 20 and api.stats.rejected_429 > 0
        arrivals = api.stats.arrivals  # no 6 deliveries within any 0.05 s
        assert all(
            later - earlier >= 0.05 for earlier, later in zip(arrivals, arrivals[5:], strict=False)
        )
        assert api.stats.sustained_rate() > 0
        assert api.stats.last_arrival == api.stats.arrivals[-1]


async def test_forced_failures_then_success_with_backoff(api: FakeBotAPI) -> None:
    bot = api.bot()
    api.fail_next(2, status=502)
    api.fail_next(1, drop=True)
    errors: list[type[Exception]] = []
    delay = 0.005
    while True:
        try:
            message = await bot.send_message(1001, "оценка")
            break
        except (TelegramServerError, TelegramNetworkError) as error:
            errors.append(type(error))
            await asyncio.sleep(delay)
            delay *= 2

    assert errors == [TelegramServerError, TelegramServerError, TelegramNetworkError]
    assert message.text == "оценка" and api.stats.faults == 3
    assert len(api.messages(1001)) == 1


async def test_forced_failure_can_target_one_method(api: FakeBotAPI) -> None:
    bot = api.bot()
    api.fail_next(method="sendMessage", status=429, retry_after=7)

    await bot.get_me()
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1001, "оценка")

    assert caught.value.retry_after == 7
    assert api.stats.rejected_429 == 0  # forced answers are counted in stats.faults
