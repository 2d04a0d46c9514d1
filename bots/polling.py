"""Long polling for `hub bot`: getUpdates in a loop, by whichever process holds the lease.

Several `hub bot` processes may run for one bot (for availability): the one holding the
PollLease polls, the others wait and take over when it stops renewing. The poll's timeout
is well under the lease, so the holder renews it between polls. Updates still pass the
dispatcher's UpdateGate, so an update redelivered after a takeover is handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bots.coordination import PollLease

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_polling(
    bot: Bot,
    dp: Dispatcher,
    lease: PollLease,
    stop: asyncio.Event,
    *,
    poll_timeout: int = 10,
    standby_interval: float = 5.0,
) -> None:
    """Poll until `stop` is set; hand the lease back on the way out."""
    offset: int | None = None
    holding = False
    failures = 0
    try:
        while not stop.is_set():
            if not await lease.acquire():
                if holding:
                    log.info("telegram poller %s lost the lease", lease.holder)
                holding = False
                await _pause(stop, standby_interval)
                continue
            if not holding:
                log.info("telegram poller %s holds the lease", lease.holder)
                holding = True
                offset = None  # start from what Telegram still keeps unconfirmed
                await bot.delete_webhook()  # getUpdates is refused while a webhook is set
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES,
                    request_timeout=poll_timeout + 10,
                )
                failures = 0
            except TelegramRetryAfter as error:
                await _pause(stop, error.retry_after)
                continue
            except TelegramConflictError:
                # A poller that lost its lease has not noticed yet; it will.
                await _pause(stop, 1.0)
                continue
            except (TelegramNetworkError, TelegramServerError) as error:
                failures += 1
                log.warning("telegram getUpdates failed: %s", type(error).__name__)
                await _pause(stop, min(2.0 ** failures, 30.0))
                continue
            for update in updates:
                try:
                    await dp.feed_update(bot, update)
                except Exception:  # one bad update must not stop the bot
                    log.exception("telegram update %s failed", update.update_id)
                offset = update.update_id + 1
    finally:
        with contextlib.suppress(Exception):
            await lease.release()
