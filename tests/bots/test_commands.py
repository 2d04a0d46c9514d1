"""Every command of the bot, for a linked parent (only their own child's data) and for a
chat that is not linked (only linking help); the /settings buttons; the command menu."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from forum.board import Draft, create_announcement
from forum.models import Audience
from hub.db import Database
from hub.journal.inputs import AttendanceInput, GradeInput, StudentRef
from hub.journal.models import AttendanceStatus, Source
from hub.journal.record import record_attendance, record_grades
from hub.notify.channel import ChannelName, NotificationKind
from hub.notify.preferences import Mode, preferences_for, set_schedule
from tests.support.clock import YESTERDAY
from tests.support.school import SchoolBuilder
from tests.support.telegram_api import FakeBotAPI

from .conftest import Family, last_text, link_chat

PARENT_CHAT = 8001
STRANGER_CHAT = 8002


@pytest.fixture
async def journal(db: Database, school: SchoolBuilder, family: Family, tmp_path: Path) -> None:
    """Grades, an absence and a class notice for each of the two children's classes."""
    teacher_a = await school.teacher_of("5А", last_name="Учитель", first_name="Альфа")
    teacher_b = await school.teacher_of("5Б", last_name="Учитель", first_name="Бета")
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [
            GradeInput(StudentRef(family.child.id), "Математика", YESTERDAY, 5, "g-1",
                       work_type="<b>контрольная</b> & тест"),
            GradeInput(StudentRef(family.other_child.id), "Химия", YESTERDAY, 2, "g-2"),
        ], by=None, source=Source.API)
        await record_attendance(session, school.school_id, [
            AttendanceInput(StudentRef(family.child.id), YESTERDAY, AttendanceStatus.SICK,
                            "a-1", subject="Физкультура"),
            AttendanceInput(StudentRef(family.other_child.id), YESTERDAY,
                            AttendanceStatus.ABSENT, "a-2", subject="Биология"),
        ], by=None, source=Source.API)
    for teacher, name, title in ((teacher_a, "5А", "Собрание 5А"),
                                 (teacher_b, "5Б", "Экскурсия 5Б")):
        principal = await school.principal(teacher)
        async with db.transaction() as session:
            await create_announcement(session, principal, Draft(
                title=title, body="Просим прийти родителей.", audience=Audience.CLASSES,
                class_ids=[(await school.school_class(name)).id],
            ), data_dir=tmp_path)


@pytest.fixture
async def linked(hub: TestClient, api: FakeBotAPI, family: Family, journal: None) -> int:
    await link_chat(hub, api, "parent", PARENT_CHAT)
    return PARENT_CHAT


async def test_grades_shows_only_own_children(api: FakeBotAPI, linked: int) -> None:
    await api.send_user_message(linked, "/grades")
    text = last_text(api, linked)
    assert "Петрова Маша" in text and "Математика: 5" in text
    assert "<b>контрольная</b> & тест" in text  # user text is shown as typed, not as markup
    assert "Сидоров" not in text and "Химия" not in text


async def test_attendance_shows_only_own_children(api: FakeBotAPI, linked: int) -> None:
    await api.send_user_message(linked, "/attendance")
    text = last_text(api, linked)
    assert "болела" in text and "Физкультура" in text  # Маша Петрова
    assert "Биология" not in text and "Сидоров" not in text


async def test_board_shows_notices_addressed_to_me(api: FakeBotAPI, linked: int) -> None:
    await api.send_user_message(linked, "/board")
    text = last_text(api, linked)
    assert "Собрание 5А" in text
    assert "Экскурсия 5Б" not in text


async def test_start_help_and_anything_else(api: FakeBotAPI, linked: int) -> None:
    await api.send_user_message(linked, "/start")
    assert "Здравствуйте, Анна" in last_text(api, linked)
    await api.send_user_message(linked, "/help")
    assert "/grades" in last_text(api, linked) and "/settings" in last_text(api, linked)
    await api.send_user_message(linked, "когда собрание?")
    answer = last_text(api, linked)
    assert "форуме класса" in answer and "учител" in answer and "Не понимаю" not in answer
    await api.send_user_message(linked, "/nonsense")
    assert "Такой команды нет" in last_text(api, linked)


@pytest.mark.parametrize(
    "command", ["/start", "/grades", "/attendance", "/board", "/settings", "/help", "привет"]
)
async def test_an_unlinked_chat_gets_only_linking_help(
    hub: TestClient, api: FakeBotAPI, family: Family, journal: None, command: str
) -> None:
    api.chat(STRANGER_CHAT)
    await api.send_user_message(STRANGER_CHAT, command)
    messages = api.messages(STRANGER_CHAT)
    assert len(messages) == 1
    text = messages[0].text
    assert "не привязан" in text and "Профиль → Telegram" in text
    for secret in ("Петрова", "Сидоров", "Математика", "Химия", "Собрание", "Экскурсия"):
        assert secret not in text
    assert messages[0].reply_markup is None  # no settings keyboard either


async def test_settings_buttons_change_preferences(
    api: FakeBotAPI, db: Database, family: Family, linked: int
) -> None:
    await api.send_user_message(linked, "/settings")
    menu = api.messages(linked)[-1]
    assert "Оценки: сразу" in str(menu.reply_markup)
    assert "Тихие часы: 21:00–07:00" in str(menu.reply_markup)

    await api.press_button(linked, menu.message_id, "set:kind:grades")
    async with db.session() as session:
        prefs = await preferences_for(session, family.parent.id)
    assert prefs.mode(NotificationKind.GRADES, ChannelName.TELEGRAM) is Mode.DIGEST
    assert prefs.mode(NotificationKind.GRADES, ChannelName.EMAIL) is Mode.INSTANT
    assert "Оценки: сводкой" in str(api.messages(linked)[-1].reply_markup)

    await api.press_button(linked, menu.message_id, "set:kind:grades")
    await api.press_button(linked, menu.message_id, "set:quiet")
    async with db.session() as session:
        prefs = await preferences_for(session, family.parent.id)
    assert prefs.mode(NotificationKind.GRADES, ChannelName.TELEGRAM) is Mode.OFF
    assert prefs.quiet == (dt.time(22, 0), dt.time(8, 0))
    assert api.callback_answers[-1]["text"] == "Сохранено"


async def test_the_command_menu_is_set_at_start(hub: TestClient, api: FakeBotAPI) -> None:
    menu = next(iter(api.commands.values()))
    assert [c["command"] for c in menu] == [
        "start", "grades", "attendance", "board", "settings", "help", "stop"
    ]
    assert all(c["description"] for c in menu)


async def test_quiet_button_keeps_hours_set_on_the_portal(
    api: FakeBotAPI, db: Database, family: Family, linked: int
) -> None:
    async with db.transaction() as session:
        prefs = await preferences_for(session, family.parent.id)
        await set_schedule(session, family.parent.id, quiet=(dt.time(21, 30), dt.time(6, 45)),
                           digest_at=prefs.digest_at)
    await api.send_user_message(linked, "/settings")
    menu = api.messages(linked)[-1]
    assert "21:30–06:45 (свои)" in str(menu.reply_markup)
    assert "и на e-mail" in menu.text
    await api.press_button(linked, menu.message_id, "set:quiet")
    async with db.session() as session:
        prefs = await preferences_for(session, family.parent.id)
    assert prefs.quiet == (dt.time(21, 30), dt.time(6, 45))
    assert "на портале" in api.callback_answers[-1]["text"]
