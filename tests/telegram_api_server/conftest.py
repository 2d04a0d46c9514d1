"""Fixtures: a fake Bot API server, a real aiogram Bot on it, helpers to run aiogram."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot, Dispatcher
from aiohttp import web

from tests.support.telegram_api import FakeBotAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token="123456:TEST", username="school_hub_bot") as server:
        server.chat(1001, first_name="Анна", username="anna_parent")
        yield server


@pytest.fixture
def bot(api: FakeBotAPI) -> Bot:
    return api.bot()


@contextlib.asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[asyncio.Task[None]]:
    """aiogram's own long polling in a task, stopped on exit the way aiogram stops it."""
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        yield task
    finally:
        if not task.done():
            with contextlib.suppress(RuntimeError):  # polling had not started yet
                await dp.stop_polling()
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def http_server(
    setup: Callable[[web.Application], Awaitable[None] | None],
) -> AsyncIterator[str]:
    """A small aiohttp app on 127.0.0.1 (a webhook receiver); yields its base URL."""
    app = web.Application()
    if (result := setup(app)) is not None:
        await result
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
