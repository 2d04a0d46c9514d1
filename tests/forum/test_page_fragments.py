"""A topic's rendered posts and the board's list are shared between readers of one kind
(hub.http.fragments): no reader ever gets a post, an announcement, a mark or a form that
their role, class or own posts do not give them, whoever's page was remembered first, and
a change shows on the next request."""

from __future__ import annotations

import datetime as dt
import re

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from forum.models import Post
from hub.clock import SetClock
from hub.db import Database
from tests.forum.conftest import Cast
from tests.forum.test_board import announce
from tests.forum.test_forum import class_key, new_topic, open_forum, reply, section_id
from tests.support.web import post_form, sign_in

HELD_TEXT = "Учитель у вас тупой"
_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
_FORM_TOKENS = re.compile(r'name="csrf_token" value="([^"]*)"')


async def topic_as(client: TestClient, login: str, topic: int) -> str:
    await sign_in(client, login)
    response = await client.get(f"/forum/topics/{topic}")
    assert response.status == 200
    return await response.text()


def assert_own_form_tokens(page: str) -> None:
    """Every form on the page carries this reader's token, none another's or a marker."""
    token = _META.search(page)
    assert token is not None
    forms = _FORM_TOKENS.findall(page)
    assert forms and set(forms) == {token.group(1)}


async def test_a_held_post_reaches_its_author_and_moderators_whoever_came_first(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await cast.school.parent_of(cast.student_5a, login="parent5a2")
    await sign_in(client, "teacher5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    await sign_in(client, "parent5a")
    assert (await reply(client, topic, HELD_TEXT)).status == 303  # type: ignore[attr-defined]

    # Another parent of the class (the author's kind of reader) first, then the author,
    # then the other parent again: the held post is the author's alone.
    assert HELD_TEXT not in await topic_as(client, "parent5a2", topic)
    own = await topic_as(client, "parent5a", topic)
    assert HELD_TEXT in own and "на модерации" in own
    assert HELD_TEXT not in await topic_as(client, "parent5a2", topic)
    # A moderator's page shows it; a teacher who reads after the moderator does not get it.
    assert HELD_TEXT in await topic_as(client, "moder", topic)
    teacher = await topic_as(client, "teacher5a", topic)
    assert HELD_TEXT not in teacher and "на модерации" not in teacher
    assert_own_form_tokens(teacher)


async def test_the_edit_link_and_the_report_forms_are_the_readers_own(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await cast.school.parent_of(cast.student_5a, login="parent5a2")
    await sign_in(client, "teacher5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    first = await topic_as(client, "parent5a2", topic)  # remembered before the reply
    await sign_in(client, "parent5a")
    response = await reply(client, topic, "Свежий ответ")
    post_id = int(response.headers["Location"].rsplit("-", 1)[1])  # type: ignore[attr-defined]

    other = await topic_as(client, "parent5a2", topic)
    assert "Свежий ответ" in other and f"/forum/posts/{post_id}/edit" not in other
    author = await topic_as(client, "parent5a", topic)
    assert f"/forum/posts/{post_id}/edit" in author
    again = await topic_as(client, "parent5a2", topic)
    assert f"/forum/posts/{post_id}/edit" not in again
    for page in (first, other, author, again):
        assert_own_form_tokens(page)
    tokens = {_META.search(page).group(1) for page in (other, author)}  # type: ignore[union-attr]
    assert len(tokens) == 2  # two sessions, two tokens, each in its own page's forms


async def test_a_hidden_post_leaves_a_remembered_page_at_once(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "teacher5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    assert (await reply(client, topic, "Спорное сообщение")).status == 303  # type: ignore[attr-defined]
    assert "Спорное сообщение" in await topic_as(client, "student5a", topic)
    assert "Спорное сообщение" in await topic_as(client, "parent5a", topic)

    async with db.transaction() as session:
        await session.execute(update(Post).where(Post.body_source == "Спорное сообщение")
                              .values(hidden=True))
    assert "Спорное сообщение" not in await topic_as(client, "student5a", topic)
    assert "Спорное сообщение" not in await topic_as(client, "parent5a", topic)
    moderator = await topic_as(client, "moder", topic)
    assert "Спорное сообщение" in moderator and "скрыто по жалобам" in moderator


async def board_as(client: TestClient, login: str) -> str:
    await sign_in(client, login)
    response = await client.get("/board")
    assert response.status == 200
    return await response.text()


async def test_the_board_list_is_shared_only_by_readers_with_the_same_rows_and_marks(
    client: TestClient, cast: Cast
) -> None:
    await cast.school.parent_of(cast.student_5a, login="parent5a2")
    await sign_in(client, "teacher5a")
    announcement_id = await announce(client, title="Собрание 5А",
                                     class_ids=str(cast.school.classes["5А"].id))
    ack_form = f'action="/board/{announcement_id}/ack"'

    assert "Собрание 5А" not in await board_as(client, "parent5b")
    first = await board_as(client, "parent5a")
    assert "Собрание 5А" in first and ack_form in first
    assert "Собрание 5А" not in await board_as(client, "parent5b")
    author = await board_as(client, "teacher5a")  # no acknowledging one's own
    assert "Собрание 5А" in author and ack_form not in author

    await sign_in(client, "parent5a")
    assert (await post_form(client, f"/board/{announcement_id}/ack")).status == 303
    acknowledged = await board_as(client, "parent5a")
    assert "Вы ознакомились" in acknowledged and ack_form not in acknowledged
    other = await board_as(client, "parent5a2")
    assert ack_form in other and "Вы ознакомились" not in other
    for page in (first, other):
        assert_own_form_tokens(page)


async def test_an_edit_link_leaves_a_remembered_page_when_its_window_closes(
    client: TestClient, cast: Cast, db: Database, clock: SetClock
) -> None:
    await sign_in(client, "teacher5a")
    await open_forum(client)
    topic = await new_topic(client, await section_id(db, await class_key(cast, "5А")))
    await sign_in(client, "parent5a")
    early = await reply(client, topic, "Первый ответ")
    clock.advance(dt.timedelta(minutes=10))
    late = await reply(client, topic, "Второй ответ")
    early_edit, late_edit = (
        f"/forum/posts/{int(r.headers['Location'].rsplit('-', 1)[1])}/edit"  # type: ignore[attr-defined]
        for r in (early, late)
    )
    page = await topic_as(client, "parent5a", topic)
    assert early_edit in page and late_edit in page

    clock.advance(dt.timedelta(minutes=6))  # the first reply's 15 minutes are over
    page = await (await client.get(f"/forum/topics/{topic}")).text()
    assert early_edit not in page and late_edit in page
