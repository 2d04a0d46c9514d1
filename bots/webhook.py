"""The webhook: Telegram POSTs updates here (webhook mode only). Imports aiogram, so the
web component loads it only when the mode is on."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bots.client import bot_id_of, make_bot
from bots.coordination import DatabaseUpdateGate, RedisUpdateGate, UpdateGate
from bots.limits import limiter_for, throttle
from bots.router import build_dispatcher, setup_bot_menu
from hub.http.keys import DB, REDIS, SETTINGS
from hub.http.middlewares import csrf_exempt
from hub.ratelimit import RedisLimiter

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]


@dataclass
class WebhookRuntime:
    bot: Bot
    dispatcher: Dispatcher
    secret: str


WEBHOOK: web.AppKey[WebhookRuntime | None] = web.AppKey("telegram_webhook")


def setup_webhook(app: web.Application) -> None:
    app.router.add_post(WEBHOOK_PATH, webhook)
    app.cleanup_ctx.append(_webhook_runtime)


async def _webhook_runtime(app: web.Application) -> AsyncIterator[None]:
    """In webhook mode: the bot, its dispatcher and the gate that lets one instance take
    each update; the webhook and the command menu are (re)registered at start."""
    settings = app[SETTINGS]
    secret = settings.telegram_webhook_secret
    if settings.telegram_mode != "webhook" or settings.telegram_bot_token is None or not secret:
        app[WEBHOOK] = None
        yield
        return
    redis = app[REDIS]
    limiter = RedisLimiter(redis) if redis is not None else limiter_for(settings)
    bot = throttle(make_bot(settings), limiter)
    gate: UpdateGate = (
        RedisUpdateGate(redis, bot_id_of(settings)) if redis is not None
        else DatabaseUpdateGate(app[DB], bot_id_of(settings))
    )
    app[WEBHOOK] = WebhookRuntime(
        bot, build_dispatcher(app[DB], settings, gate), secret.get_secret_value()
    )
    try:
        await setup_bot_menu(bot)
        await bot.set_webhook(
            settings.public_url + WEBHOOK_PATH,
            secret_token=secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
    except Exception as exc:  # Telegram out of reach must not keep the hub from starting
        log.warning("telegram webhook registration failed: %s", type(exc).__name__)
    try:
        yield
    finally:
        await bot.session.close()


@csrf_exempt
async def webhook(request: web.Request) -> web.Response:
    runtime = request.app.get(WEBHOOK)
    if runtime is None:
        raise web.HTTPNotFound()
    sent = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(sent.encode(), runtime.secret.encode()):
        log.warning("telegram webhook call with a wrong secret refused")
        return web.json_response({"error": "wrong secret token"}, status=401)
    try:
        payload = await request.json()
        update = Update.model_validate(payload, context={"bot": runtime.bot})
    except (json.JSONDecodeError, ValidationError, UnicodeDecodeError):
        return web.json_response({"error": "not a Telegram update"}, status=400)
    await runtime.dispatcher.feed_update(runtime.bot, update)
    return web.json_response({})
