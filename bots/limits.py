"""Telegram's sending limits as shared token buckets (hub.ratelimit): one for the bot, one
per chat. The channel's notifications and the bot's replies draw from the same buckets, in
every process that shares the Redis (or, without Redis, in this process)."""

from __future__ import annotations

import asyncio
import contextlib

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from redis.asyncio import Redis

from hub.config import Settings
from hub.ratelimit import (
    Bucket,
    InProcessLimiter,
    Rate,
    RateLimiter,
    RateLimitExceeded,
    RedisLimiter,
    take,
)

# A little under Telegram's 30/s, 1/s per chat and 20/min per group: requests leave evenly
# spaced but arrive with some jitter, and Telegram counts arrivals in any one second. At
# 29/s thirty slots span 1.034 s, so a send may arrive up to 34 ms late before 31 fall in
# one second; a sender that wakes more than LATE_LIMIT after its slot gives it up.
BOT_RATE = Rate(29, 1.0)
LATE_LIMIT = 0.025
CHAT_RATE = Rate(1, 1.05)
GROUP_RATE = Rate(20, 63.0)

# One limiter per process when there is no Redis: the web handlers and every worker task
# share it.
_process_limiter = InProcessLimiter()


def limiter_for(settings: Settings) -> RateLimiter:
    """Redis buckets shared by every process when Redis is configured, else this process's."""
    if not settings.redis_url:
        return _process_limiter
    return RedisLimiter(Redis.from_url(settings.redis_url))


def bot_key(bot_id: int) -> str:
    return f"telegram:{bot_id}"


def chat_key(bot_id: int, chat_id: int) -> str:
    return f"telegram:{bot_id}:chat:{chat_id}"


def group_key(bot_id: int, chat_id: int) -> str:
    return f"telegram:{bot_id}:group:{chat_id}"


def buckets(
    bot_id: int, chat_id: int, *, bot_rate: Rate = BOT_RATE, chat_rate: Rate = CHAT_RATE
) -> list[Bucket]:
    """The bot's bucket first (its slots are handed out in order), then the chat's, and a
    group's minute limit for a group or channel (their chat ids are negative)."""
    found = [(bot_key(bot_id), bot_rate), (chat_key(bot_id, chat_id), chat_rate)]
    if chat_id < 0:
        found.append((group_key(bot_id, chat_id), GROUP_RATE))
    return found


class ThrottledSends(BaseRequestMiddleware):
    """The bot's own replies (sendMessage) wait for a slot of the shared buckets, and wait
    out a 429 once, so that a chatty user cannot push notifications over the limits."""

    def __init__(self, limiter: RateLimiter, *, max_wait: float = 30.0) -> None:
        self.limiter = limiter
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        request = method  # the call as it came, whatever the checks below narrow it to
        if not isinstance(method, SendMessage) or not isinstance(method.chat_id, int):
            return await make_request(bot, request)
        with contextlib.suppress(RateLimitExceeded):  # late is better than never
            await take(self.limiter, buckets(bot.id, method.chat_id), max_wait=self.max_wait)
        try:
            return await make_request(bot, request)
        except TelegramRetryAfter as error:
            await self.limiter.hold(chat_key(bot.id, method.chat_id), CHAT_RATE,
                                    error.retry_after)
            await asyncio.sleep(error.retry_after)
            return await make_request(bot, request)


def throttle(bot: Bot, limiter: RateLimiter) -> Bot:
    bot.session.middleware(ThrottledSends(limiter))
    return bot
