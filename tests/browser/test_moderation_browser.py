"""In a real browser: a parent's abusive post is held, a moderator rejects it with a reason
in the queue (keyboard and forms, the queue updating live), the author sees the reason."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from hub.db import Database
from hub.school import Role
from tests.browser.conftest import sign_in_page
from tests.support.school import PASSWORD, SchoolBuilder


async def test_abusive_post_held_rejected_author_sees_reason(
    live_url: str, chromium: Any, db: Database, school: SchoolBuilder
) -> None:
    child = await school.student("5А")
    await school.parent_of(child, login="parent", last_name="Иванова", first_name="Анна")
    await school.person(Role.MODERATOR, login="moder", last_name="Строгая", first_name="Ольга")

    parent = await (await chromium.new_context()).new_page()
    moderator = await (await chromium.new_context()).new_page()

    # The parent opens a topic and writes an abusive reply: it is held, marked for them.
    await sign_in_page(parent, live_url, "parent", PASSWORD)
    await parent.goto(f"{live_url}/forum")
    await parent.get_by_role("link", name=re.compile("Общий|Школ")).first.click()
    await parent.fill("input[name=title]", "Экскурсия в музей")
    await parent.fill("textarea[name=body]", "Кто поедет в пятницу?")
    await parent.get_by_role("button", name=re.compile("Создать|Опубликовать|Отправить")).click()
    await expect(parent.locator("body")).to_contain_text("Кто поедет в пятницу?")
    topic_url = parent.url.split("#")[0].split("?")[0]

    # The moderator's queue is open before the post arrives: it must update by itself.
    await sign_in_page(moderator, live_url, "moder", PASSWORD)
    await moderator.goto(f"{live_url}/moderation/queue")
    await expect(moderator.locator("#queue-body")).to_contain_text("Очередь пуста")

    await parent.fill("#reply-form textarea[name=body]", "Ты тупой идиот, всё перепутал")
    await parent.locator("#reply-form button[type=submit]").click()
    await expect(parent.locator("body")).to_contain_text("на модерации")

    entry = moderator.locator("li.entry").first
    await expect(entry).to_contain_text("всё перепутал", timeout=10_000)
    await expect(entry.locator("mark.flag").first).to_have_text("тупой")
    await expect(moderator.locator("header nav .badge")).to_have_text("1")

    # Keyboard: j selects the first item, r jumps to its rejection reason.
    await moderator.keyboard.press("j")
    await expect(entry).to_have_class(re.compile("selected"))
    await moderator.keyboard.press("r")
    await entry.locator("form.act-reject select").select_option("Оскорбление участников")
    await entry.locator("form.act-reject input[name=reason]").fill("Пишите уважительно.")
    await entry.locator("form.act-reject button[type=submit]").click()
    await expect(moderator.locator("#done")).to_contain_text("отклонено")

    # The author sees the reason next to their own message; nobody else sees the message.
    await parent.goto(topic_url)
    await expect(parent.locator("body")).to_contain_text(
        "Оскорбление участников. Пишите уважительно."
    )
    await expect(parent.locator("body")).to_contain_text("Ты тупой идиот, всё перепутал")
