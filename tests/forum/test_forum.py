"""The forum over HTTP: sections, topics, replies, quotes, pages, unread markers,
subscriptions, edits, reports, and the publishing pipeline's three outcomes."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from forum.models import Post, Section, Status, Topic
from hub import clock, events
from hub.db import Database
from hub.http import page_context
from tests.forum.conftest import Capture, Cast, watch_word
from tests.support.web import post_form, sign_in


async def section_id(db: Database, key: str) -> int:
    async with db.session() as session:
        found = await session.scalar(select(Section.id).where(Section.key == key))
    assert found is not None, key
    return found


async def class_key(cast: Cast, name: str) -> str:
    return f"class:{cast.school.classes[name].id}"


async def open_forum(client: TestClient) -> str:
    response = await client.get("/forum")
    assert response.status == 200
    return await response.text()


async def new_topic(client: TestClient, section: int, title: str = "Экскурсия в музей",
                    body: str = "Кто поедет на экскурсию в пятницу?") -> int:
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": title, "body": body})
    assert response.status == 303, await response.text()
    return int(response.headers["Location"].rsplit("/", 1)[1])


async def reply(client: TestClient, topic: int, body: str, **extra: str) -> object:
    return await post_form(client, f"/forum/topics/{topic}/reply", {"body": body, **extra})


async def test_sections_follow_classes_and_roles(client: TestClient, cast: Cast) -> None:
    await sign_in(client, "parent5a")
    page = await open_forum(client)
    assert "Общий раздел школы" in page and "Класс 5А" in page
    assert "Класс 5Б" not in page and "Учительская" not in page

    await sign_in(client, "teacher5b")
    page = await open_forum(client)
    assert "Класс 5Б" in page and "Учительская" in page and "Класс 5А" not in page

    await sign_in(client, "coord")
    page = await open_forum(client)
    assert all(s in page for s in ("Класс 5А", "Класс 5Б", "Учительская"))

    # A class made later gets its section on the next listing.
    await cast.school.school_class("6В")
    assert "Класс 6В" in await open_forum(client)


async def test_class_section_is_closed_to_other_classes(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    section_5a = await section_id(db, await class_key(cast, "5А"))
    topic = await new_topic(client, section_5a)

    await sign_in(client, "parent5b")
    assert (await client.get(f"/forum/sections/{section_5a}")).status == 404
    assert (await client.get(f"/forum/topics/{topic}")).status == 404
    assert (await reply(client, topic, "Можно и мне?")).status == 404  # type: ignore[attr-defined]
    response = await post_form(client, f"/forum/sections/{section_5a}/topics",
                               {"title": "Чужая тема", "body": "текст"})
    assert response.status == 404
    assert (await post_form(client, "/forum/sections/987654/topics",
                            {"title": "Нет раздела", "body": "текст"})).status == 404
    staff = await section_id(db, "staff")
    assert (await post_form(client, f"/forum/sections/{staff}/topics",
                            {"title": "В учительскую", "body": "текст"})).status == 404
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Topic)) == 1
        assert await session.scalar(select(func.count()).select_from(Post)) == 1


async def test_oversight_policy_7_6(client: TestClient, cast: Cast, db: Database) -> None:
    """Teachers of the class, coordinators and administrators read and answer; a
    moderator reads but does not answer there."""
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    for login in ("teacher5a", "coord"):
        await sign_in(client, login)
        assert (await client.get(f"/forum/topics/{topic}")).status == 200
        assert (await reply(client, topic, f"Ответ {login}")).status == 303  # type: ignore[attr-defined]
    await sign_in(client, "moder")
    assert (await client.get(f"/forum/topics/{topic}")).status == 200
    assert (await reply(client, topic, "Модератор пишет")).status == 403  # type: ignore[attr-defined]
    await sign_in(client, "teacher5b")
    assert (await client.get(f"/forum/topics/{topic}")).status == 404


async def test_reply_quote_subscribe_and_unread(
    client: TestClient, cast: Cast, db: Database, captured: Capture
) -> None:
    replies = captured(events.ReplyPosted)
    await sign_in(client, "parent5a")
    await open_forum(client)
    section = await section_id(db, "school")
    topic = await new_topic(client, section)
    async with db.session() as session:
        opening = await session.scalar(select(Post.id).where(Post.topic_id == topic))

    await sign_in(client, "teacher5a")
    page = await (await client.get(f"/forum/topics/{topic}?quote={opening}")).text()
    assert "&gt; Кто поедет на экскурсию в пятницу?" in page  # prefilled quote
    response = await reply(client, topic, "> Кто поедет?\n\nЯ поеду с классом.",
                           quote_of=str(opening))
    assert response.status == 303  # type: ignore[attr-defined]
    assert len(replies) == 1 and replies[0].topic_id == topic  # type: ignore[attr-defined]

    await sign_in(client, "parent5a")  # the author subscribed by starting the topic
    listing = await (await client.get(f"/forum/sections/{section}")).text()
    assert "новое" in listing
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert "<blockquote>" in page and "Я поеду с классом." in page
    assert "Отписаться" in page
    listing = await (await client.get(f"/forum/sections/{section}")).text()
    assert "новое" not in listing

    assert (await post_form(client, f"/forum/topics/{topic}/subscription",
                            {"subscribed": "0"})).status == 303
    assert "Подписаться на тему" in await (await client.get(f"/forum/topics/{topic}")).text()


async def test_a_reply_sent_back_shows_the_menu_with_its_badges(
    client: TestClient, cast: Cast, db: Database
) -> None:
    """A form sent with a mistake is answered with its page: the menu is there, with the
    unread count, as on any page (a POST that redirects builds none of it)."""
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, "school"))
    await sign_in(client, "teacher5a")
    assert (await reply(client, topic, "Я поеду с классом.")).status == 303  # type: ignore[attr-defined]

    await sign_in(client, "parent5a")  # told of the reply: one unread notification
    response = await reply(client, topic, "цитата", quote_of="999999")
    assert response.status == 422  # type: ignore[attr-defined]
    page = await response.text()  # type: ignore[attr-defined]
    assert "Цитируемое сообщение не найдено" in page
    assert re.search(r'href="/notifications">Уведомления <span class="badge">1</span>', page)
    assert 'href="/forum" class="active"' in page


async def test_a_failure_while_rendering_a_sent_form_gets_the_error_page(
    client: TestClient, cast: Cast, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page of a form sent back is rendered inside the middlewares: when building it
    fails, the person gets the hub's error page, not a bare server error."""
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, "school"))

    async def broken(request: object) -> dict[str, object]:
        raise RuntimeError("the badge count failed")

    monkeypatch.setattr(page_context, "common_context", broken)
    response = await reply(client, topic, "цитата", quote_of="999999")
    assert response.status == 500  # type: ignore[attr-defined]
    assert "Что-то пошло не так" in await response.text()  # type: ignore[attr-defined]


async def test_pagination(client: TestClient, cast: Cast, db: Database) -> None:
    await sign_in(client, "coord")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, "school"))
    for number in range(1, 25):
        assert (await reply(client, topic, f"Сообщение номер {number:02d}")).status == 303  # type: ignore[attr-defined]
    first = await (await client.get(f"/forum/topics/{topic}")).text()
    second = await (await client.get(f"/forum/topics/{topic}?page=2")).text()
    assert "Сообщение номер 19" in first and "Сообщение номер 20" not in first
    assert "Сообщение номер 20" in second and "Сообщение номер 24" in second
    assert (await client.get(f"/forum/topics/{topic}?page=abc")).status == 400


async def test_held_post_seen_by_author_and_moderators_only(
    client: TestClient, cast: Cast, db: Database, captured: Capture
) -> None:
    held = captured(events.PostHeld)
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    assert (await reply(client, topic, "Учитель у вас тупой")).status == 303  # type: ignore[attr-defined]
    assert len(held) == 1
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert "Учитель у вас тупой" in page and "на модерации" in page

    await sign_in(client, "teacher5a")
    assert "Учитель у вас тупой" not in await (await client.get(f"/forum/topics/{topic}")).text()
    await sign_in(client, "moder")
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert "Учитель у вас тупой" in page and "на модерации" in page


async def test_refused_text_is_kept_in_the_form(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await watch_word(db, cast.school.school_id, "запретка", "refuse")
    await sign_in(client, "parent5a")
    await open_forum(client)
    section = await section_id(db, "school")
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": "Тема", "body": "Тут запретка и мой текст"})
    page = await response.text()
    assert response.status == 422
    assert "не опубликовано" in page and "Тут запретка и мой текст" in page
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Topic)) == 0


async def test_edit_own_post_within_window_only(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, "school"))
    response = await reply(client, topic, "Первая версия")
    post_id = int(response.headers["Location"].rsplit("-", 1)[1])  # type: ignore[attr-defined]
    assert (await post_form(client, f"/forum/posts/{post_id}/edit",
                            {"body": "Вторая версия"})).status == 303
    assert "Вторая версия" in await (await client.get(f"/forum/topics/{topic}")).text()

    await sign_in(client, "parent5b")
    assert (await post_form(client, f"/forum/posts/{post_id}/edit",
                            {"body": "Чужая правка"})).status == 403

    async with db.transaction() as session:
        await session.execute(update(Post).where(Post.id == post_id).values(
            created_at=clock.now() - dt.timedelta(hours=1)))
    await sign_in(client, "parent5a")
    response = await post_form(client, f"/forum/posts/{post_id}/edit", {"body": "Поздно"})
    assert response.status == 409 and "Поздно" in await response.text()
    async with db.session() as session:
        assert (await session.get_one(Post, post_id)).body_source == "Вторая версия"


async def test_reports_from_three_people_hide_a_post(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "teacher5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    response = await reply(client, topic, "Спорное сообщение")
    post_id = int(response.headers["Location"].rsplit("-", 1)[1])  # type: ignore[attr-defined]

    second_parent = await cast.school.parent_of(cast.student_5a, login="parent5a2")
    third_parent = await cast.school.parent_of(cast.student_5a, login="parent5a3")
    assert second_parent and third_parent
    for number, login in enumerate(("parent5a", "parent5a2", "parent5a3"), 1):
        await sign_in(client, login)
        response = await post_form(client, f"/forum/posts/{post_id}/report",
                                   {"reason": "Оскорбительно"})
        assert response.status == 200, await response.text()
        if number == 1:  # one report per person
            again = await post_form(client, f"/forum/posts/{post_id}/report",
                                    {"reason": "Ещё раз"})
            assert again.status == 409
            empty = await post_form(client, f"/forum/posts/{post_id}/report", {"reason": " "})
            assert empty.status == 422
    await sign_in(client, "student5a")
    assert "Спорное сообщение" not in await (await client.get(f"/forum/topics/{topic}")).text()
    async with db.session() as session:
        assert (await session.get_one(Post, post_id)).hidden


async def test_double_submission_makes_one_post(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, "school"))
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    data = {"body": "Один ответ", "form_token": token.group(1)}
    first = await post_form(client, f"/forum/topics/{topic}/reply", data)
    second = await post_form(client, f"/forum/topics/{topic}/reply", data)
    assert first.status == second.status == 303
    assert first.headers["Location"] == second.headers["Location"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post).where(
            Post.topic_id == topic, Post.status == Status.PUBLISHED)) == 2


async def test_bad_forum_input(client: TestClient, cast: Cast, db: Database) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    section = await section_id(db, "school")
    for data, message in (
        ({"title": "", "body": "текст"}, "Укажите заголовок"),
        ({"title": "Т" * 201, "body": "текст"}, "Заголовок длиннее"),
        ({"title": "Тема", "body": "   "}, "пуст"),
        ({"title": "Тема", "body": "ы" * 20_001}, "длиннее"),
    ):
        response = await post_form(client, f"/forum/sections/{section}/topics", data)
        assert response.status == 422 and message in await response.text()
    topic = await new_topic(client, section)
    response = await reply(client, topic, "цитата", quote_of="999999")
    assert response.status == 422  # type: ignore[attr-defined]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 1


async def test_search_in_russian(client: TestClient, cast: Cast, db: Database) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    await new_topic(client, await section_id(db, "school"), title="Экскурсии",
                    body="Поедем в музеи города")
    await new_topic(client, await section_id(db, await class_key(cast, "5А")),
                    title="Родительский комитет", body="Собираем деньги на экскурсию")
    page = await (await client.get("/forum/search?q=экскурсия")).text()
    assert "Экскурсии" in page and "Родительский комитет" in page
    page = await (await client.get("/forum/search?q=музей")).text()
    assert "Поедем в музеи города" in page and "Родительский комитет" not in page

    await sign_in(client, "parent5b")  # 5А's section is not theirs
    page = await (await client.get("/forum/search?q=экскурсия")).text()
    assert "Экскурсии" in page and "Родительский комитет" not in page


async def test_simultaneous_double_submission_makes_one_post(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, "school"))
    data = {"body": "Двойной щелчок", "form_token": "same-form-token-1234"}
    responses = await asyncio.gather(*(
        post_form(client, f"/forum/topics/{topic}/reply", data) for _ in range(3)
    ))
    assert [r.status for r in responses] == [303, 303, 303]
    assert len({r.headers["Location"] for r in responses}) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post).where(
            Post.topic_id == topic, Post.body_source == "Двойной щелчок")) == 1


async def test_held_topic_is_the_authors_until_decided(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    section = await section_id(db, "school")
    topic = await new_topic(client, section, title="Вопрос", body="Вы все тупые идиоты")
    listing = await (await client.get(f"/forum/sections/{section}")).text()
    assert "Вопрос" in listing and "на модерации" in listing
    response = await reply(client, topic, "Дополнение")
    assert response.status == 409  # type: ignore[attr-defined]

    await sign_in(client, "parent5b")
    assert "Вопрос" not in await (await client.get(f"/forum/sections/{section}")).text()
    assert (await client.get(f"/forum/topics/{topic}")).status == 404
    assert "Вопрос" not in await (await client.get("/forum/search?q=вопрос")).text()


async def test_search_follows_edits(client: TestClient, cast: Cast, db: Database) -> None:
    await sign_in(client, "parent5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, "school"))
    response = await reply(client, topic, "Встречаемся у библиотеки")
    post_id = int(response.headers["Location"].rsplit("-", 1)[1])  # type: ignore[attr-defined]
    assert "библиотеки" in await (await client.get("/forum/search?q=библиотека")).text()
    await post_form(client, f"/forum/posts/{post_id}/edit", {"body": "Встречаемся у спортзала"})
    assert "Встречаемся" not in await (await client.get("/forum/search?q=библиотека")).text()
    assert "спортзала" in await (await client.get("/forum/search?q=спортзал")).text()


async def test_sqlite_search_table_is_made_when_missing(
    sqlite_db: Database, settings: object
) -> None:
    """A database migrated rather than made by create_all may lack the FTS5 table."""
    from aiohttp.test_utils import TestServer
    from sqlalchemy import text

    from hub.compose import web_app
    from tests.support.school import SchoolBuilder

    async with sqlite_db.transaction() as session:
        await session.execute(text("DROP TABLE forum_posts_fts"))
    school = await SchoolBuilder(sqlite_db).start()
    await school.student("5А", login="pupil")
    async with TestClient(TestServer(web_app(settings, db=sqlite_db))) as client:  # type: ignore[arg-type]
        await sign_in(client, "pupil")
        await open_forum(client)
        await new_topic(client, await section_id(sqlite_db, "school"), title="Олимпиада",
                        body="Регистрация на олимпиаду по математике")
        page = await (await client.get("/forum/search?q=олимпиада")).text()
        assert "Регистрация на олимпиаду" in page


async def test_a_quote_never_shows_what_the_reader_cannot_see(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "teacher5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    await sign_in(client, "parent5a")
    assert (await reply(client, topic, "Учитель у вас тупой")).status == 303  # type: ignore[attr-defined]
    async with db.session() as session:
        held = await session.scalar(select(Post).where(Post.status == Status.HELD))
    assert held is not None

    # Quoting a held post by its id is refused, and nothing is written.
    await sign_in(client, "student5a")
    refused = await reply(client, topic, "Согласен", quote_of=str(held.id))
    assert refused.status == 422  # type: ignore[attr-defined]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Post).where(
            Post.quote_of_id == held.id)) == 0

    # A reply that quoted a post before it was hidden names no author to other readers.
    assert (await reply(client, topic, "Ответ на всё сразу")).status == 303  # type: ignore[attr-defined]
    async with db.transaction() as session:
        await session.execute(update(Post).where(Post.body_source == "Ответ на всё сразу")
                              .values(quote_of_id=held.id))
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert "Ответ на всё сразу" in page
    assert "Ответ на сообщение" not in page and "Петрова" not in page
    await sign_in(client, "moder")
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert "Ответ на сообщение: Мария Петрова" in page
