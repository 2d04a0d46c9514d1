"""The parents' bot: aiogram handlers for linking, the commands and the settings buttons.

The dispatcher carries the Database and Settings as workflow data (`build_dispatcher`).
A chat that is not linked gets only linking help: every handler that shows school data
first finds the person the chat is linked to, and reads through bots.reading, which asks
hub.auth.access.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    TelegramObject,
    Update,
)

from bots import texts
from bots.coordination import UpdateGate
from bots.linking import LinkRefused, person_for_chat, redeem_link_code, unlink_chat
from bots.reading import attendance_in_view, grades_in_view, latest_notices, principal_of
from bots.splitting import split_html
from hub.config import Settings
from hub.db import Database
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.preferences import Mode, preferences_for, set_mode, set_schedule
from hub.school import Person

log = logging.getLogger(__name__)

# The kinds a person may switch in /settings, in menu order.
SETTING_KINDS = (
    NotificationKind.GRADES,
    NotificationKind.ATTENDANCE,
    NotificationKind.ANNOUNCEMENTS,
    NotificationKind.FORUM_REPLIES,
    NotificationKind.MODERATION,
)
NEXT_MODE = {Mode.OFF: Mode.INSTANT, Mode.INSTANT: Mode.DIGEST, Mode.DIGEST: Mode.OFF}
# Quiet-hour choices offered by the button, in the order it cycles through them.
QUIET_CHOICES: tuple[tuple[dt.time, dt.time] | None, ...] = (
    (dt.time(21, 0), dt.time(7, 0)),
    (dt.time(22, 0), dt.time(8, 0)),
    (dt.time(20, 0), dt.time(8, 0)),
    None,
)
KIND_PREFIX = "set:kind:"
QUIET_DATA = "set:quiet"


def build_dispatcher(
    db: Database, settings: Settings, gate: UpdateGate | None = None
) -> Dispatcher:
    """A dispatcher with the bot's router; with a gate, each update is handled once across
    every instance that shares it."""
    dp = Dispatcher(db=db, settings=settings)
    if gate is not None:
        dp.update.outer_middleware(HandledOnce(gate))
    dp.include_router(create_router())
    return dp


def create_router() -> Router:
    """The bot's handlers; a new router per dispatcher (aiogram attaches a router once)."""
    router = Router(name="school_hub")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.message.register(start_with_code, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.message.register(stop, Command("stop"))
    router.message.register(help_, Command("help"))
    router.message.register(grades, Command("grades"))
    router.message.register(attendance, Command("attendance"))
    router.message.register(board, Command("board"))
    router.message.register(settings_menu, Command("settings"))
    router.callback_query.register(settings_button, F.data.startswith("set:"))
    router.message.register(anything_else)
    return router


class HandledOnce(BaseMiddleware):
    """Each update is handled by one instance only: the gate (a database row, or Redis SET
    NX) is claimed before the handlers run, and given back when they fail, so that
    Telegram's redelivery is handled."""

    def __init__(self, gate: UpdateGate) -> None:
        self.gate = gate

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        if not await self.gate.claim(event.update_id):
            log.info("telegram update %s already taken by another instance", event.update_id)
            return None
        try:
            return await handler(event, data)
        except Exception:
            await self.gate.release(event.update_id)
            raise


async def setup_bot_menu(bot: Bot) -> None:
    await bot.set_my_commands(list(texts.COMMANDS))


async def reply(message: Message, html: str) -> None:
    for piece in split_html(html):
        await message.answer(
            piece, parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )


async def _person(db: Database, chat_id: int) -> Person | None:
    async with db.session() as session:
        return await person_for_chat(session, chat_id)


# ------------------------------------------------------------------ linking


async def start_with_code(message: Message, command: CommandObject, db: Database) -> None:
    try:
        async with db.transaction() as session:
            person = await redeem_link_code(session, command.args or "", message.chat.id)
    except LinkRefused as refused:
        log.info("telegram link refused: %s", refused.reason.value)
        await reply(message, texts.LINK_REFUSED[refused.reason])
        return
    log.info("telegram chat linked to person %s", person.id)
    await reply(message, texts.linked(person.first_name))


async def start(message: Message, db: Database) -> None:
    person = await _person(db, message.chat.id)
    await reply(message, texts.welcome(person.first_name) if person else texts.NOT_LINKED)


async def stop(message: Message, db: Database) -> None:
    async with db.transaction() as session:
        was_linked = await unlink_chat(session, message.chat.id)
    await reply(message, texts.STOPPED if was_linked else texts.STOP_NOT_LINKED)


async def help_(message: Message, db: Database) -> None:
    person = await _person(db, message.chat.id)
    await reply(message, texts.HELP if person else texts.NOT_LINKED)


# ------------------------------------------------------------------ school data


async def grades(message: Message, db: Database) -> None:
    async with db.session() as session:
        person = await person_for_chat(session, message.chat.id)
        if person is None:
            html = texts.NOT_LINKED
        else:
            html = texts.grades(await grades_in_view(session, await principal_of(session, person)))
    await reply(message, html)


async def attendance(message: Message, db: Database) -> None:
    async with db.session() as session:
        person = await person_for_chat(session, message.chat.id)
        if person is None:
            html = texts.NOT_LINKED
        else:
            principal = await principal_of(session, person)
            html = texts.attendance(await attendance_in_view(session, principal))
    await reply(message, html)


async def board(message: Message, db: Database, settings: Settings) -> None:
    async with db.session() as session:
        person = await person_for_chat(session, message.chat.id)
        if person is None:
            html = texts.NOT_LINKED
        else:
            notices = await latest_notices(session, await principal_of(session, person))
            html = texts.board(notices, settings.public_url, settings.tz)
    await reply(message, html)


# ------------------------------------------------------------------ settings


async def _settings_view(db: Database, person_id: int) -> tuple[str, InlineKeyboardMarkup]:
    async with db.session() as session:
        prefs = await preferences_for(session, person_id)
    rows = [
        [InlineKeyboardButton(
            text=texts.kind_button(kind, prefs.mode(kind, ChannelName.TELEGRAM)),
            callback_data=KIND_PREFIX + kind.value,
        )]
        for kind in SETTING_KINDS
    ]
    custom = prefs.quiet not in QUIET_CHOICES
    rows.append([InlineKeyboardButton(text=texts.quiet_button(prefs.quiet, custom),
                                      callback_data=QUIET_DATA)])
    return texts.settings_header(prefs.quiet), InlineKeyboardMarkup(inline_keyboard=rows)


async def settings_menu(message: Message, db: Database) -> None:
    person = await _person(db, message.chat.id)
    if person is None:
        await reply(message, texts.NOT_LINKED)
        return
    html, keyboard = await _settings_view(db, person.id)
    await message.answer(html, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def settings_button(query: CallbackQuery, db: Database) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    async with db.transaction() as session:
        person = await person_for_chat(session, chat_id)
        if person is None:
            await query.answer("Чат не привязан к аккаунту.", show_alert=True)
            return
        prefs = await preferences_for(session, person.id)
        data = query.data or ""
        if data == QUIET_DATA and prefs.quiet is not None and prefs.quiet not in QUIET_CHOICES:
            # Hours the person set on the portal are theirs: the button does not drop them.
            await query.answer(texts.custom_quiet(prefs.quiet), show_alert=True)
            return
        if data == QUIET_DATA:
            index = QUIET_CHOICES.index(prefs.quiet) if prefs.quiet in QUIET_CHOICES else -1
            quiet = QUIET_CHOICES[(index + 1) % len(QUIET_CHOICES)]
            await set_schedule(session, person.id, quiet=quiet, digest_at=prefs.digest_at)
        elif data.removeprefix(KIND_PREFIX) in {k.value for k in SETTING_KINDS}:
            kind = NotificationKind(data.removeprefix(KIND_PREFIX))
            mode = NEXT_MODE[prefs.mode(kind, ChannelName.TELEGRAM)]
            await set_mode(session, person.id, kind, ChannelName.TELEGRAM, mode)
        else:
            await query.answer("Неизвестная кнопка.")
            return
    html, keyboard = await _settings_view(db, person.id)
    if isinstance(query.message, Message):
        await query.message.edit_text(html, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    await query.answer(texts.SAVED)


# ------------------------------------------------------------------ anything else


async def anything_else(message: Message, db: Database, settings: Settings) -> None:
    person = await _person(db, message.chat.id)
    if person is None:
        await reply(message, texts.NOT_LINKED)
    elif (message.text or "").startswith("/"):
        await reply(message, texts.UNKNOWN_COMMAND)
    else:
        await reply(message, texts.free_text(settings.public_url))
