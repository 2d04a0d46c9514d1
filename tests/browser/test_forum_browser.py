"""In a real browser: a clean reply appears on an open topic page without a reload."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from hub.db import Database
from tests.browser.conftest import sign_in_page
from tests.support.school import PASSWORD, SchoolBuilder


async def test_reply_appears_live_on_an_open_topic(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder
) -> None:
    child = await school.student("5А")
    await school.parent_of(child, login="parent", last_name="Петрова", first_name="Мария")
    await school.teacher_of("5А", login="teacher", last_name="Учителева", first_name="Анна")

    parent = await (await chromium.new_context()).new_page()
    await sign_in_page(parent, live_url, "parent", PASSWORD)
    await parent.goto(f"{live_url}/forum")
    await parent.get_by_role("link", name="Класс 5А").click()
    await parent.fill("input[name=title]", "Экскурсия в музей")
    await parent.fill("textarea[name=body]", "Кто поедет в пятницу?")
    await parent.get_by_role("button", name="Создать тему").click()
    await expect(parent.locator("#posts")).to_contain_text("Кто поедет в пятницу?")
    topic_url = parent.url.split("#")[0].split("?")[0]
    await parent.wait_for_load_state("load")
    await parent.evaluate("window.sameDocument = true")  # gone if the page reloads

    teacher = await (await chromium.new_context()).new_page()
    await sign_in_page(teacher, live_url, "teacher", PASSWORD)
    await teacher.goto(topic_url)
    await teacher.fill("#reply-form textarea[name=body]", "Я поеду с классом, сбор в 9:00.")
    await teacher.locator("#reply-form button[type=submit]").click()
    await expect(teacher.locator("#posts")).to_contain_text("сбор в 9:00")

    reply = parent.locator("#posts article", has_text="сбор в 9:00")
    await expect(reply).to_be_visible(timeout=10_000)
    await expect(reply).to_contain_text(re.compile("Анна Учителева"))
    assert await parent.evaluate("window.sameDocument === true")  # no reload happened
