"""Webhook delivery: the update JSON with the secret header, aiogram's webhook handler."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.support.telegram_api import FakeBotAPI

from .conftest import http_server


async def test_update_is_posted_with_the_secret_header(api: FakeBotAPI, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        header = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((header, await request.json()))
        return web.json_response({})

    def setup(app: web.Application) -> None:
        app.router.add_post("/hook", hook)

    async with http_server(setup) as base:
        assert await bot.set_webhook(f"{base}/hook", secret_token="s3cr3t-_")
        info = await bot.get_webhook_info()
        update = await api.send_user_message(1001, "/start abc")

    assert info.url == f"{base}/hook" and info.pending_update_count == 0
    assert received == [("s3cr3t-_", update)]
    assert update["message"]["text"] == "/start abc"
    assert api.pending_updates == []


async def test_aiogram_webhook_handler_answers_and_rejects_a_wrong_secret(
    api: FakeBotAPI, bot: Bot
) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        return message.answer("Привязка выполнена")  # answered in the webhook response

    def setup(app: web.Application) -> None:
        SimpleRequestHandler(dp, bot, secret_token="right", handle_in_background=False).register(
            app, path="/tg"
        )

    async with http_server(setup) as base:
        await bot.set_webhook(f"{base}/tg", secret_token="wrong")
        await api.send_user_message(1001, "/start")
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"

        await bot.set_webhook(f"{base}/tg", secret_token="right")
        deliveries = await api.flush_webhook()

    assert [d.status for d in deliveries] == [200]
    assert deliveries[0].reply_method == "sendMessage"
    assert [m.text for m in api.messages(1001)] == ["Привязка выполнена"]
    assert (await bot.get_webhook_info()).last_error_message is None


async def test_drop_pending_updates(api: FakeBotAPI, bot: Bot) -> None:
    await api.send_user_message(1001, "привет")

    await bot.set_webhook("http://127.0.0.1:9/hook", drop_pending_updates=True)

    assert (await bot.get_webhook_info()).pending_update_count == 0
