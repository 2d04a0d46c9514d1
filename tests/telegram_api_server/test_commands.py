"""setMyCommands, getMyCommands, deleteMyCommands by scope and language."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats


def pairs(commands: list[BotCommand]) -> list[tuple[str, str]]:
    return [(c.command, c.description) for c in commands]


async def test_commands_round_trip_by_scope_and_language(bot: Bot) -> None:
    ru = [BotCommand(command="start", description="Начать"),
          BotCommand(command="grades", description="Оценки")]  # fmt: skip
    private = BotCommandScopeAllPrivateChats()

    assert await bot.set_my_commands(ru, language_code="ru")
    assert await bot.set_my_commands(ru[:1], scope=private)

    assert pairs(await bot.get_my_commands(language_code="ru")) == pairs(ru)
    assert pairs(await bot.get_my_commands(scope=private)) == pairs(ru[:1])
    assert await bot.get_my_commands() == []

    assert await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == []


async def test_invalid_command_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Оценки", description="x")])
