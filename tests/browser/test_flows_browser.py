"""The three main users' flows, on a phone (375 px) and on a desktop: a parent reads the
board, acknowledges, opens their children's grades, notifications and settings; a teacher
posts an announcement and fills a lesson in the journal; a moderator works the queue and
the watched words. Every page visited passes axe (nothing critical or serious), has an h1,
and on a phone nothing is wider than the screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import update

from hub import clock
from hub.auth.access import Principal, TokenScope
from hub.db import Database
from hub.journal.inputs import GradeInput, StudentRef
from hub.journal.models import Source
from hub.journal.record import record_grades
from hub.school import Person, Role
from tests.browser.conftest import sign_in_page
from tests.browser.pagecheck import DESKTOP, PHONE, assert_clean, check_page
from tests.support.school import PASSWORD, SchoolBuilder

SCREENS = pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])


async def _page(chromium: Any, screen: dict[str, int]) -> Any:
    context = await chromium.new_context(viewport=screen, is_mobile=screen is PHONE,
                                         has_touch=screen is PHONE)
    return await context.new_page()


async def _open_menu(page: Any, screen: dict[str, int]) -> None:
    """On a phone the navigation is behind the menu button."""
    if screen is PHONE:
        toggle = page.get_by_role("button", name=re.compile("^Меню"))
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")


async def _family(db: Database, school: SchoolBuilder) -> tuple[Person, Person, Person]:
    await school.school_class("5Б")
    child = await school.student("5А", last_name="Константинова", first_name="Алиса")
    parent = await school.parent_of(child, login="parent", last_name="Константинова",
                                    first_name="Милана")
    teacher = await school.teacher_of("5А", login="teacher", last_name="Учителева",
                                      first_name="Мария")
    async with db.transaction() as session:
        await session.execute(update(Person).where(Person.id == parent.id)
                              .values(middle_name="Константиновна"))
    return child, parent, teacher


@SCREENS
async def test_parent_flow(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder, screen: dict[str, int]
) -> None:
    child, _parent, _teacher = await _family(db, school)
    token = Principal(school_id=school.school_id, person_id=None, token_id=1,
                      token_scopes=frozenset({TokenScope.JOURNAL}))
    async with db.transaction() as session:
        await record_grades(session, school.school_id, [GradeInput(
            student=StudentRef(person_id=child.id), subject="Математика",
            lesson_date=clock.now().date(), value=5, source_id="g-1",
            work_type="контрольная работа с длинным названием для проверки ширины",
            comment="Очень хорошо, так держать! " * 3)], by=token, source=Source.API)
    seen: dict[str, Any] = {}
    page = await _page(chromium, screen)
    await sign_in_page(page, live_url, "parent", PASSWORD)
    await check_page(page, seen)
    await _open_menu(page, screen)
    await page.get_by_role("link", name=re.compile("Оценки|Дети")).first.click()
    await expect(page.locator("h1")).to_contain_text("Оценки и посещаемость")
    await expect(page.locator("table.grades")).to_contain_text("контрольная")
    await check_page(page, seen)
    for path in ("/board", "/notifications", "/notifications/settings", "/forum",
                 "/profile"):
        await page.goto(live_url + path)
        await check_page(page, seen)
    await page.goto(live_url + "/no-such-page")
    await expect(page.locator("h1")).to_contain_text("не найдена")
    await check_page(page, seen)
    assert_clean(seen)


@SCREENS
async def test_teacher_flow(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder, screen: dict[str, int]
) -> None:
    _child, _parent, _teacher = await _family(db, school)
    seen: dict[str, Any] = {}
    page = await _page(chromium, screen)
    await sign_in_page(page, live_url, "teacher", PASSWORD)
    await check_page(page, seen)
    await page.goto(f"{live_url}/board")
    await check_page(page, seen)
    await page.get_by_role("link", name="Новое объявление").click()
    await check_page(page, seen)
    await page.fill("input[name=title]", "Родительское собрание")
    await page.fill("textarea[name=body]", "Собрание в четверг в 18:00.\n\nКабинет 12.")
    await page.get_by_label("5А").check()
    await page.get_by_role("button", name="Опубликовать").click()
    await expect(page.locator("h1")).to_contain_text("Родительское собрание")
    await expect(page.get_by_role("button", name="Подтвердить прочтение")).to_have_count(0)
    await check_page(page, seen)

    await page.goto(f"{live_url}/journal")
    await check_page(page, seen)
    await page.get_by_label("Класс").select_option(label="5А")
    await page.get_by_role("button", name="Открыть урок").click()
    await expect(page.locator("form.lesson-grid h2")).to_contain_text("5А, Математика")
    await page.get_by_role("radio", name="отсутствовал: Константинова Алиса").check()
    await check_page(page, seen)
    await page.get_by_role("button", name="Сохранить").click()
    await expect(page.get_by_role("status")).to_contain_text("Сохранено")
    await check_page(page, seen)
    await page.goto(f"{live_url}/journal/entered")
    await check_page(page, seen)
    assert_clean(seen)


@SCREENS
async def test_moderator_flow(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder, screen: dict[str, int]
) -> None:
    await _family(db, school)
    await school.person(Role.MODERATOR, login="moder", last_name="Строгая", first_name="Ольга")
    await school.person(Role.SYSADMIN, login="admin", last_name="Админова", first_name="Ирина")
    seen: dict[str, Any] = {}

    parent = await _page(chromium, screen)
    await sign_in_page(parent, live_url, "parent", PASSWORD)
    await parent.goto(f"{live_url}/forum")
    await parent.get_by_role("link", name=re.compile("Общий|Школ")).first.click()
    await check_page(parent, seen)
    await parent.fill("input[name=title]", "Экскурсия в музей")
    await parent.fill("textarea[name=body]", "Кто поедет в пятницу?")
    await parent.get_by_role("button", name=re.compile("Создать|Опубликовать|Отправить")).click()
    await parent.fill("#reply-form textarea[name=body]", "Ты тупой идиот, всё перепутал")
    await parent.locator("#reply-form button[type=submit]").click()
    await expect(parent.locator("body")).to_contain_text("на модерации")
    await check_page(parent, seen)

    page = await _page(chromium, screen)
    await sign_in_page(page, live_url, "moder", PASSWORD)
    await check_page(page, seen)
    await page.goto(f"{live_url}/moderation/queue")
    entry = page.locator("li.entry").first
    await expect(entry).to_contain_text("всё перепутал")
    await check_page(page, seen)
    await entry.get_by_role("link").first.click()
    await check_page(page, seen)
    await page.goto(f"{live_url}/moderation/audit")
    await check_page(page, seen)

    admin = await _page(chromium, screen)
    await sign_in_page(admin, live_url, "admin", PASSWORD)
    await admin.goto(f"{live_url}/admin/people")
    await check_page(admin, seen)
    await admin.goto(f"{live_url}/moderation/words?sample=тупой")
    await expect(admin.get_by_label("Текст для проверки")).to_have_value("тупой")
    await check_page(admin, seen)
    assert_clean(seen)
