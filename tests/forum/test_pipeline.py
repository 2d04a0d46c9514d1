"""The publishing pipeline with the moderators' queue: held items wait, a decision publishes
or rejects them (and the events follow), an undo restores them; attachments; live notes;
personal data."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from forum.models import Announcement, Post, Section, Status
from forum.privacy import PRIVACY
from hub import events
from hub.db import Database
from moderation import queue
from moderation.models import ReviewItem
from tests.forum.conftest import Capture, Cast
from tests.support.web import post_form, sign_in


async def item_for(db: Database, kind: str, target_id: int) -> int:
    async with db.session() as session:
        found = await session.scalar(select(ReviewItem.id).where(
            ReviewItem.kind == kind, ReviewItem.target_id == target_id))
    assert found is not None
    return found


async def test_held_announcement_approved_then_announced(
    client: TestClient, cast: Cast, db: Database, captured: Capture
) -> None:
    published = captured(events.AnnouncementPublished)
    await sign_in(client, "teacher5a")
    response = await post_form(client, "/board/new", {
        "title": "Про учеников", "body": "Ваши дети тупые", "audience": "classes",
        "class_ids": str(cast.school.classes["5А"].id)})
    assert response.status == 303
    announcement_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert "на модерации" in await (await client.get(response.headers["Location"])).text()
    assert published == []
    await sign_in(client, "parent5a")
    assert (await client.get(f"/board/{announcement_id}")).status == 404

    item = await item_for(db, "announcement", announcement_id)
    async with db.transaction() as session:
        await queue.approve(session, school_id=cast.school.school_id, item_id=item,
                            moderator_id=cast.moderator.id, text="Ваши дети молодцы")
    assert len(published) == 1
    page = await (await client.get(f"/board/{announcement_id}")).text()
    assert "Ваши дети молодцы" in page and "тупые" not in page


async def test_rejected_reply_shows_reason_to_author_only(
    client: TestClient, cast: Cast, db: Database, captured: Capture
) -> None:
    replies = captured(events.ReplyPosted)
    await sign_in(client, "parent5a")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(Section.key == "school"))
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": "Вопрос", "body": "Когда каникулы?"})
    topic = response.headers["Location"]
    response = await post_form(client, f"{topic}/reply", {"body": "Директор дурак"})
    post_id = int(response.headers["Location"].rsplit("-", 1)[1])
    item = await item_for(db, "post", post_id)
    async with db.transaction() as session:
        await queue.reject(session, school_id=cast.school.school_id, item_id=item,
                           moderator_id=cast.moderator.id, reason="Оскорбление участников")
    assert replies == []
    page = await (await client.get(topic)).text()
    assert "отклонено: Оскорбление участников" in page
    await sign_in(client, "parent5b")
    assert "Директор дурак" not in await (await client.get(topic)).text()

    # Undone: back in the queue, held again.
    async with db.transaction() as session:
        await queue.undo(session, school_id=cast.school.school_id, item_id=item,
                         actor_id=cast.moderator.id)
        assert (await session.get_one(Post, post_id)).status is Status.HELD
    async with db.transaction() as session:
        await queue.approve(session, school_id=cast.school.school_id, item_id=item,
                            moderator_id=cast.moderator.id)
    assert [e.post_id for e in replies] == [post_id]  # type: ignore[attr-defined]
    assert "Директор дурак" in await (await client.get(topic)).text()


async def test_attachments_checked_stored_and_served_to_readers(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "teacher5a")
    class_id = str(cast.school.classes["5А"].id)
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"

    def form(name: str, data: bytes) -> dict[str, object]:
        return {"title": "Расписание", "body": "См. файл", "audience": "classes",
                "class_ids": class_id, "files": (name, data)}

    def multipart(fields: dict[str, object]) -> object:
        from aiohttp import FormData

        payload = FormData()
        for key, value in fields.items():
            if isinstance(value, tuple):
                payload.add_field(key, value[1], filename=value[0],
                                  content_type="application/octet-stream")
            else:
                payload.add_field(key, str(value))
        return payload

    from tests.support.web import ensure_csrf

    token = await ensure_csrf(client)
    bad = await client.post("/board/new", data=multipart(
        {"csrf_token": token, **form("virus.pdf", b"MZ\x90\x00 not a pdf")}),
        allow_redirects=False)
    assert bad.status == 422 and "не похож" in await bad.text()
    exe = await client.post("/board/new", data=multipart(
        {"csrf_token": token, **form("setup.exe", b"MZ")}), allow_redirects=False)
    assert exe.status == 422
    big = await client.post("/board/new", data=multipart(
        {"csrf_token": token, **form("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))}),
        allow_redirects=False)
    assert big.status == 413
    async with db.session() as session:
        assert await session.scalar(select(Announcement.id)) is None

    good = await client.post("/board/new", data=multipart(
        {"csrf_token": token, **form("Расписание уроков.pdf", pdf)}), allow_redirects=False)
    assert good.status == 303
    page = await (await client.get(good.headers["Location"])).text()
    link = page.split('href="/board/files/', 1)[1].split('"', 1)[0]

    await sign_in(client, "parent5a")
    served = await client.get(f"/board/files/{link}")
    assert served.status == 200 and await served.read() == pdf
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    await sign_in(client, "parent5b")
    assert (await client.get(f"/board/files/{link}")).status == 404


async def test_live_note_reaches_an_open_topic_page(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5a")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(Section.key == "school"))
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": "Живая тема", "body": "Начало"})
    topic_id = int(response.headers["Location"].rsplit("/", 1)[1])

    stream = await client.get(f"/live?c=topic:{topic_id}")
    assert stream.status == 200
    await asyncio.sleep(0.1)
    response = await post_form(client, f"/forum/topics/{topic_id}/reply",
                               {"body": "Новый ответ"})
    post_id = int(response.headers["Location"].rsplit("-", 1)[1])
    note = None
    async with asyncio.timeout(10):
        while note is None:
            line = (await stream.content.readline()).decode()
            if line.startswith("data:"):
                note = json.loads(line[5:])
    stream.close()
    assert note == {"channel": f"topic:{topic_id}", "post": post_id}
    fragment = await (await client.get(f"/forum/topics/{topic_id}/posts?post={post_id}")).text()
    assert "Новый ответ" in fragment and "<html" not in fragment
    await sign_in(client, "parent5b")
    other = await (await client.get(f"/forum/topics/{topic_id}/posts?post={post_id}")).text()
    assert "Новый ответ" in other  # the school-wide section is everyone's


async def test_export_and_erase(client: TestClient, cast: Cast, db: Database) -> None:
    await sign_in(client, "parent5a")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(Section.key == "school"))
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": "Моя тема", "body": "Мой текст"})
    topic = response.headers["Location"]
    async with db.session() as session:
        exported = await PRIVACY.export(session, cast.parent_5a.id)
    assert [t["title"] for t in exported["topics"]] == ["Моя тема"]
    assert [p["text"] for p in exported["posts"]] == ["Мой текст"]
    async with db.transaction() as session:
        await PRIVACY.erase(session, cast.parent_5a.id)
    await sign_in(client, "parent5b")
    page = await (await client.get(topic)).text()
    assert "Мой текст" in page and "удалённый пользователь" in page
    assert "Петрова" not in page
    async with db.session() as session:
        assert (await PRIVACY.export(session, cast.parent_5a.id))["posts"] == []


async def test_file_names_lose_bidi_controls(
    client: TestClient, cast: Cast, db: Database
) -> None:
    """"Счёт\u202egnp.pdf" would show as "Счётfdp.png": the controls go on upload, and names
    stored before are shown and offered for saving without them."""
    from forum.models import Attachment
    from tests.support.web import browser_multipart, ensure_csrf

    await sign_in(client, "teacher5a")
    body, content_type = browser_multipart(
        {"csrf_token": await ensure_csrf(client), "title": "Счёт", "body": "Во вложении",
         "audience": "classes", "class_ids": str(cast.school.classes["5А"].id)},
        {"files": ("Сч\u2067ёт\u202egnp.pdf", b"%PDF-1.4\n")},
    )
    response = await client.post("/board/new", data=body, allow_redirects=False,
                                 headers={"Content-Type": content_type})
    assert response.status == 303, await response.text()
    async with db.transaction() as session:
        attachment = await session.scalar(select(Attachment))
        assert attachment is not None and attachment.filename == "Счётgnp.pdf"
        attachment.filename = "old\u202egnp.pdf"  # stored before names were cleaned
    page = await (await client.get(response.headers["Location"])).text()
    assert "oldgnp.pdf" in page and "\u202e" not in page
    served = await client.get(f"/board/files/{attachment.id}")
    assert "%E2%80%AE" not in served.headers["Content-Disposition"]
    assert "oldgnp.pdf" in served.headers["Content-Disposition"]


async def test_live_channels_are_authorised_one_by_one(
    client: TestClient, cast: Cast, db: Database
) -> None:
    await sign_in(client, "parent5b")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        class_5b = await session.scalar(select(Section.id).where(
            Section.key == f"class:{cast.school.classes['5Б'].id}"))
    response = await post_form(client, f"/forum/sections/{class_5b}/topics",
                               {"title": "Только для 5Б", "body": "Родительское собрание"})
    topic_5b = int(response.headers["Location"].rsplit("/", 1)[1])
    school = cast.school.school_id

    async def status(query: str) -> int:
        response = await client.get(f"/live?{query}")
        response.close()
        return response.status

    await sign_in(client, "parent5a")
    assert await status(f"c=board:{school}") == 200
    assert await status(f"c=topic:{topic_5b}") == 403
    assert await status(f"c=board:{school}&c=queue:{school}") == 403
    assert await status(f"c=board:{school + 1}") == 403
    assert await status("c=secrets:1") == 400
    await sign_in(client, "parent5b")
    assert await status(f"c=topic:{topic_5b}&c=board:{school}") == 200
    await sign_in(client, "moder")
    assert await status(f"c=queue:{school}&c=topic:{topic_5b}") == 200
