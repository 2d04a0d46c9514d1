"""The bot's wiring hook: registers the Telegram channel with the delivery pipeline."""

from __future__ import annotations

from hub.config import Settings
from hub.db import Database
from hub.notify.channel import Channel, ChannelName
from hub.notify.registry import register_channel


def _telegram_channel(settings: Settings, db: Database) -> Channel | None:
    if settings.telegram_bot_token is None:
        return None  # no bot: leave aiogram (slow to import) unloaded
    from bots.channel import TelegramChannel

    return TelegramChannel.from_settings(settings, db)


def subscribe_handlers() -> None:
    register_channel(ChannelName.TELEGRAM, _telegram_channel)
