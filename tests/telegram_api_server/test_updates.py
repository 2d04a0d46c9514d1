"""getUpdates long polling and aiogram's Dispatcher on top of it."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramConflictError
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tests.support.telegram_api import FakeBotAPI

from .conftest import polling


async def test_get_updates_returns_fed_updates_until_confirmed(api: FakeBotAPI, bot: Bot) -> None:
    await api.send_user_message(1001, "/start abc")
    await api.send_user_message(1001, "привет")

    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["/start abc", "привет"]
    first = updates[0].message
    assert first is not None and first.from_user is not None
    assert (first.chat.id, first.from_user.id, first.from_user.username) == (
        1001, 1001, "anna_parent"
    )  # fmt: skip
    assert first.entities is not None and first.entities[0].type == "bot_command"

    again = await bot.get_updates(offset=updates[0].update_id + 1)
    assert [u.update_id for u in again] == [updates[1].update_id]
    assert await bot.get_updates(offset=updates[1].update_id + 1) == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(api: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await api.send_user_message(1001, "привет")

    updates = await poll

    assert len(updates) == 1 and time.monotonic() - started < 1


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_second_poll_terminates_the_first(api: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(api.bot().get_updates(timeout=5))

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    await api.send_user_message(1001, "привет")
    assert len(await second) == 1


async def test_get_updates_conflicts_with_a_webhook(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")

    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()

    await bot.delete_webhook()
    assert await bot.get_updates() == []


async def test_dispatcher_polling_answers_start(api: FakeBotAPI, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Здравствуйте! Код: <b>{command.args}</b>", parse_mode="HTML")

    async with polling(dp, bot):
        await api.send_user_message(1001, "/start abc")
        [reply] = await api.wait_for_messages(1001, timeout=3)

    assert reply.text == "Здравствуйте! Код: abc"
    assert reply.entities == [{"type": "bold", "offset": 19, "length": 3}]
    assert api.stats.requests["getMe"] == 1


async def test_button_press_reaches_a_callback_handler(api: FakeBotAPI, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.callback_query(F.data == "ack")
    async def ack(query: CallbackQuery) -> None:
        await query.answer("Спасибо")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Прочитано ✓")

    keyboard = InlineKeyboardBuilder()
    keyboard.button(text="Прочитано", callback_data="ack")
    sent = await bot.send_message(1001, "Собрание в пятницу", reply_markup=keyboard.as_markup())

    async with polling(dp, bot):
        await api.press_button(1001, sent.message_id, data="ack")
        await api.wait_until(lambda: api.messages(1001)[0].edits == 1, timeout=3)

    assert api.callback_answers[0]["text"] == "Спасибо"
    assert api.messages(1001)[0].text == "Прочитано ✓"
    with pytest.raises(ValueError, match="no button"):
        await api.press_button(1001, sent.message_id, data="ack")  # the keyboard is gone


async def test_updates_outside_allowed_updates_are_dropped(api: FakeBotAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text="x", callback_data="x")
    sent = await bot.send_message(1001, "x", reply_markup=keyboard.as_markup())
    await bot.get_updates(allowed_updates=["message"])

    await api.press_button(1001, sent.message_id, data="x")

    assert await bot.get_updates() == [] and len(api.dropped_updates) == 1
