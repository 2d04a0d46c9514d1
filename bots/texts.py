"""What the bot says, in Russian, as Telegram HTML. Everything that comes from people or the
journal is escaped here; nothing else builds message text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from zoneinfo import ZoneInfo

from aiogram.types import BotCommand

from bots.linking import LinkRefusal
from bots.reading import StudentRecords
from forum.models import Announcement
from hub.journal.models import Attendance, Grade, status_title
from hub.names import person_gender
from hub.notify.channel import KIND_TITLES, NotificationKind
from hub.notify.preferences import Mode

COMMANDS: tuple[BotCommand, ...] = (
    BotCommand(command="start", description="Начало работы и привязка аккаунта"),
    BotCommand(command="grades", description="Последние оценки детей"),
    BotCommand(command="attendance", description="Пропуски и опоздания"),
    BotCommand(command="board", description="Последние объявления для меня"),
    BotCommand(command="settings", description="Какие уведомления присылать и когда"),
    BotCommand(command="help", description="Что умеет бот"),
    BotCommand(command="stop", description="Отвязать этот чат от аккаунта"),
)

NOT_LINKED = (
    "Этот чат не привязан к аккаунту школьного портала.\n\n"
    "Чтобы получать оценки, пропуски и объявления здесь, войдите на портал, откройте "
    "<b>Профиль → Telegram</b> и нажмите «Получить ссылку». Ссылка действует 15 минут "
    "и открывает этот бот уже с кодом привязки."
)

HELP = (
    "Команды:\n"
    "/grades — последние оценки\n"
    "/attendance — пропуски и опоздания\n"
    "/board — последние объявления для вас\n"
    "/settings — какие уведомления присылать сюда, сразу или сводкой, тихие часы\n"
    "/stop — отвязать этот чат"
)

UNKNOWN_COMMAND = "Такой команды нет.\n\n" + HELP


def free_text(public_url: str) -> str:
    """The answer to a message that is not a command: the bot only sends notifications;
    questions go to the class forum or to the teacher."""
    forum = escape(f"{public_url}/forum")
    return (
        "Этот бот только присылает уведомления: сообщения здесь никто не читает.\n\n"
        f"Вопрос классу или учителю задайте на <a href=\"{forum}\">форуме класса</a> "
        "школьного портала — учитель увидит его и ответит там. Срочное лучше сказать "
        "учителю или классному руководителю напрямую.\n\n" + HELP
    )


def custom_quiet(quiet: tuple[dt.time, dt.time]) -> str:
    return (f"Свои тихие часы {quiet[0]:%H:%M}–{quiet[1]:%H:%M} заданы на портале; чтобы "
            "их изменить, откройте «Уведомления → Настроить» на портале.")

LINK_REFUSED: dict[LinkRefusal, str] = {
    LinkRefusal.EXPIRED: (
        "Срок действия ссылки истёк (она действует 15 минут). Получите новую ссылку на "
        "портале: <b>Профиль → Telegram</b>."
    ),
    LinkRefusal.USED: (
        "Эта ссылка уже использована. Получите новую ссылку на портале: "
        "<b>Профиль → Telegram</b>."
    ),
    LinkRefusal.UNKNOWN: (
        "Ссылка недействительна. Получите новую ссылку на портале: "
        "<b>Профиль → Telegram</b>."
    ),
}

STOPPED = (
    "Чат отвязан: уведомления сюда больше не придут. Привязать снова можно на портале: "
    "<b>Профиль → Telegram</b>."
)
STOP_NOT_LINKED = "Этот чат и так не привязан к аккаунту."
NO_STUDENTS = "В вашем аккаунте нет детей (или вашего класса), чьи оценки можно показать."
SAVED = "Сохранено"

MODE_TITLES: dict[Mode, str] = {
    Mode.OFF: "выкл.",
    Mode.INSTANT: "сразу",
    Mode.DIGEST: "сводкой",
}


def linked(first_name: str) -> str:
    return (
        f"Готово, {escape(first_name)}! Этот чат привязан к вашему аккаунту школьного "
        "портала. Сюда будут приходить уведомления.\n\n" + HELP
    )


def welcome(first_name: str) -> str:
    return f"Здравствуйте, {escape(first_name)}! Этот чат привязан к вашему аккаунту.\n\n" + HELP


def grades(groups: Sequence[StudentRecords[Grade]]) -> str:
    if not groups:
        return NO_STUDENTS
    blocks = []
    for group in groups:
        lines = [f"<b>{escape(group.student.full_name)}</b>"]
        if not group.records:
            lines.append("Оценок пока нет.")
        for grade in group.records:
            line = f"{grade.lesson_date:%d.%m} {escape(grade.subject)}: <b>{grade.value}</b>"
            if grade.work_type:
                line += f" ({escape(grade.work_type)})"
            lines.append(line)
        blocks.append("\n".join(lines))
    return "Последние оценки\n\n" + "\n\n".join(blocks)


def attendance(groups: Sequence[StudentRecords[Attendance]]) -> str:
    if not groups:
        return NO_STUDENTS
    blocks = []
    for group in groups:
        lines = [f"<b>{escape(group.student.full_name)}</b>"]
        gender = person_gender(group.student)
        if not group.records:
            lines.append("Пропусков и опозданий нет.")
        for mark in group.records:
            line = f"{mark.lesson_date:%d.%m} {status_title(mark.status, gender)}"
            if mark.subject:
                line += f", {escape(mark.subject)}"
            lines.append(line)
        blocks.append("\n".join(lines))
    return "Пропуски и опоздания\n\n" + "\n\n".join(blocks)


def board(notices: Sequence[Announcement], public_url: str, tz: ZoneInfo) -> str:
    if not notices:
        return "Объявлений для вас пока нет."
    lines = ["Последние объявления"]
    for notice in notices:
        when = notice.publish_at.astimezone(tz).strftime("%d.%m %H:%M")
        mark = "❗ " if notice.urgent else ""
        url = f"{public_url}/board/{notice.id}"
        lines.append(
            f"{mark}{when} <a href=\"{escape(url)}\">{escape(notice.title)}</a>"
        )
    return "\n\n".join(lines)


def settings_header(quiet: tuple[dt.time, dt.time] | None) -> str:
    hours = f"{quiet[0]:%H:%M}–{quiet[1]:%H:%M}" if quiet else "нет"
    return (
        "Уведомления в Telegram. Нажмите на строку, чтобы переключить: выкл. → сразу → "
        f"сводкой.\nТихие часы: {hours} (в это время сообщения ждут утра — и в Telegram, "
        "и на e-mail; срочные объявления приходят всегда)."
    )


def kind_button(kind: NotificationKind, mode: Mode) -> str:
    return f"{KIND_TITLES[kind].capitalize()}: {MODE_TITLES[mode]}"


def quiet_button(quiet: tuple[dt.time, dt.time] | None, custom: bool = False) -> str:
    if quiet is None:
        return "Тихие часы: нет"
    mine = " (свои)" if custom else ""
    return f"Тихие часы: {quiet[0]:%H:%M}–{quiet[1]:%H:%M}{mine}"
