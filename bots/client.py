"""The aiogram Bot for the configured token, on Telegram or on another Bot API server."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from hub.config import Settings


def make_bot(settings: Settings) -> Bot:
    """A Bot on Telegram, or on `telegram_api_base` (a local Bot API server, tests)."""
    assert settings.telegram_bot_token is not None
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    else:
        session = AiohttpSession()
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def bot_id_of(settings: Settings) -> int:
    """The bot's numeric id: the part of the token before the colon."""
    assert settings.telegram_bot_token is not None
    return int(settings.telegram_bot_token.get_secret_value().split(":", 1)[0])
