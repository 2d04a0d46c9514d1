"""In a real browser: a teacher posts an announcement to 5А, a parent of 5А sees and
acknowledges it, a parent of 5Б does not see it."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from hub.db import Database
from tests.browser.conftest import sign_in_page
from tests.support.school import PASSWORD, SchoolBuilder


async def test_teacher_announces_to_5a_parent_acknowledges(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder
) -> None:
    child_a = await school.student("5А")
    child_b = await school.student("5Б")
    await school.parent_of(child_a, login="parent_a", last_name="Петрова", first_name="Мария")
    await school.parent_of(child_b, login="parent_b", last_name="Сидорова", first_name="Ольга")
    await school.teacher_of("5А", login="teacher", last_name="Учителева", first_name="Анна")

    teacher = await (await chromium.new_context()).new_page()
    await sign_in_page(teacher, live_url, "teacher", PASSWORD)
    await teacher.goto(f"{live_url}/board")
    await teacher.get_by_role("link", name="Новое объявление").click()
    await teacher.fill("input[name=title]", "Родительское собрание")
    await teacher.fill("textarea[name=body]", "Собрание в **четверг** в 18:00, кабинет 12.")
    await teacher.get_by_label("5А").check()
    await teacher.select_option("select[name=class_target]", "parents")
    await teacher.get_by_role("button", name="Опубликовать").click()
    await expect(teacher.locator("h1")).to_contain_text("Родительское собрание")

    parent_a = await (await chromium.new_context()).new_page()
    await sign_in_page(parent_a, live_url, "parent_a", PASSWORD)
    await parent_a.goto(f"{live_url}/board")
    card = parent_a.locator("article.announcement", has_text="Родительское собрание")
    await expect(card.locator("strong")).to_have_text("четверг")
    await card.get_by_role("button", name="Подтвердить прочтение").click()
    await expect(parent_a.locator("body")).to_contain_text("Вы ознакомились")

    parent_b = await (await chromium.new_context()).new_page()
    await sign_in_page(parent_b, live_url, "parent_b", PASSWORD)
    await parent_b.goto(f"{live_url}/board")
    await expect(parent_b.locator("main")).to_contain_text("Объявлений пока нет")
    await expect(parent_b.locator("main")).not_to_contain_text("Родительское собрание")

    # The teacher sees who has read it.
    await teacher.get_by_role("link", name="Кто ознакомился").click()
    await expect(teacher.locator("main")).to_contain_text("5А: 1 из 1")


async def test_back_and_submit_again_posts_one_announcement(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder
) -> None:
    await school.teacher_of("5А", login="teacher", last_name="Учителева", first_name="Анна")
    teacher = await (await chromium.new_context()).new_page()
    await sign_in_page(teacher, live_url, "teacher", PASSWORD)
    await teacher.goto(f"{live_url}/board/new")
    await teacher.fill("input[name=title]", "Экскурсия")
    await teacher.fill("textarea[name=body]", "В пятницу едем в музей.")
    await teacher.get_by_label("5А").check()
    await teacher.get_by_role("button", name="Опубликовать").click()
    await expect(teacher.locator("h1")).to_contain_text("Экскурсия")
    await teacher.go_back()
    if await teacher.locator("input[name=title]").input_value() == "":
        await teacher.fill("input[name=title]", "Экскурсия")
        await teacher.fill("textarea[name=body]", "В пятницу едем в музей.")
        await teacher.get_by_label("5А").check()
    await teacher.get_by_role("button", name="Опубликовать").click()
    await expect(teacher.locator("h1")).to_contain_text("Экскурсия")
    await teacher.goto(f"{live_url}/board")
    await expect(teacher.locator("article.announcement")).to_have_count(1)


async def test_opening_an_announcement_reads_its_notification_and_deleting_asks_first(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder
) -> None:
    child = await school.student("5А")
    await school.parent_of(child, login="parent", last_name="Петрова", first_name="Мария")
    await school.teacher_of("5А", login="teacher", last_name="Учителева", first_name="Анна")
    teacher = await (await chromium.new_context()).new_page()
    await sign_in_page(teacher, live_url, "teacher", PASSWORD)
    await teacher.goto(f"{live_url}/board/new")
    await teacher.fill("input[name=title]", "Экскурсия")
    await teacher.fill("textarea[name=body]", "В пятницу едем в музей.")
    await teacher.get_by_label("5А").check()
    await teacher.get_by_role("button", name="Опубликовать").click()
    await expect(teacher.locator("h1")).to_contain_text("Экскурсия")
    announcement_url = teacher.url

    parent = await (await chromium.new_context()).new_page()
    await sign_in_page(parent, live_url, "parent", PASSWORD)
    await parent.goto(f"{live_url}/profile")
    await expect(parent.locator("header nav .badge")).to_have_text("1")
    await parent.goto(announcement_url)
    await parent.goto(f"{live_url}/profile")
    await expect(parent.locator("header nav .badge")).to_have_count(0)

    # Deleting asks first; declined, nothing happens; accepted, the board says so.
    delete = teacher.get_by_role("button", name="Удалить")
    teacher.once("dialog", lambda dialog: dialog.dismiss())
    await delete.click()
    await expect(teacher.locator("h1")).to_contain_text("Экскурсия")
    teacher.once("dialog", lambda dialog: dialog.accept())
    await delete.click()
    await expect(teacher.get_by_role("status")).to_contain_text("Объявление удалено")
