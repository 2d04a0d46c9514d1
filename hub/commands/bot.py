"""`hub bot`: the Telegram bot by long polling (when no public HTTPS address takes a
webhook). Several may run for one bot: one polls, the others stand by."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from hub.compose import open_database
from hub.config import Settings


def add_commands(subparsers: Any) -> None:
    bot = subparsers.add_parser("bot", help="run the Telegram bot by long polling")
    bot.set_defaults(func=cmd_bot)


async def cmd_bot(settings: Settings, args: argparse.Namespace) -> int:
    from redis.asyncio import Redis

    from bots.client import bot_id_of, make_bot
    from bots.coordination import (
        DatabasePollLease,
        DatabaseUpdateGate,
        PollLease,
        RedisPollLease,
        RedisUpdateGate,
        UpdateGate,
    )
    from bots.limits import limiter_for, throttle
    from bots.polling import run_polling
    from bots.router import build_dispatcher, setup_bot_menu

    if settings.telegram_bot_token is None:
        print("hub: set HUB_TELEGRAM_BOT_TOKEN to run the bot", file=sys.stderr)
        return 2
    if settings.telegram_mode == "webhook":
        print("hub: HUB_TELEGRAM_MODE is webhook: the web server receives updates; "
              "set it to polling to run `hub bot`", file=sys.stderr)
        return 2
    db = await open_database(settings)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    bot_id = bot_id_of(settings)
    gate: UpdateGate = RedisUpdateGate(redis, bot_id) if redis else DatabaseUpdateGate(db, bot_id)
    lease: PollLease = RedisPollLease(redis, bot_id) if redis else DatabasePollLease(db, bot_id)
    bot = throttle(make_bot(settings), limiter_for(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        with contextlib.suppress(Exception):  # the menu is a nicety; polling is the point
            await setup_bot_menu(bot)
        print(f"hub: Telegram bot polling (standby until it holds the lease {lease.holder})",
              flush=True)
        await run_polling(bot, build_dispatcher(db, settings, gate), lease, stop)
    finally:
        await bot.session.close()
        if redis is not None:
            await redis.aclose()
        await db.dispose()
    return 0
