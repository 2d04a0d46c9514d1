"""The moderators' queue through HTTP: who sees it, highlighting, approve, reject, edit,
claims, races, undo, bulk."""

from __future__ import annotations

import datetime as dt
import re

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from hub import clock
from hub.db import Database
from moderation import audit, queue
from moderation.models import ReviewItem
from tests.moderation.conftest import Cast, held
from tests.moderation.fake_target import FakeTarget
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


async def test_queue_lists_held_message_with_flagged_word_marked(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id,
                         "<p>Учитель <strong>тупой</strong>, ничего не объясняет"
                         "<script>alert(1)</script></p>")
    await sign_in(client, "mod")
    page = await client.get("/moderation/queue")
    html = await page.text()
    assert page.status == 200
    assert f'data-item="{item_id}"' in html
    # The flagged word is marked; the message's markup never reaches the page as HTML.
    assert re.search(r'<mark class="flag"[^>]*>тупой</mark>', html)
    assert "<script>alert" not in html and "<strong>тупой" not in html
    assert "оскорбление" in html
    assert "Родитель1" in html
    # The navigation shows the count of pending items.
    assert re.search(r'Модерация <span class="badge">1</span>', html)


async def test_parents_and_teachers_cannot_open_the_queue(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "parent2")
    assert (await client.get("/moderation/queue")).status == 403
    assert (await client.get(f"/moderation/items/{item_id}")).status == 403
    response = await post_form(client, f"/moderation/items/{item_id}/approve")
    assert response.status == 403
    assert notes.notes[1].state == "held"
    page = await client.get("/profile")
    assert "/moderation/queue" not in await page.text()


async def test_approve_publishes_and_is_audited(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    response = await post_form(client, f"/moderation/items/{item_id}/approve")
    assert response.status == 303
    assert notes.notes[1].state == "published"
    page = await client.get(f"/moderation/items/{item_id}")
    assert "одобрено" in (await page.text()).lower()
    async with db.session() as session:
        (entry,) = await audit.entries(session, school.school_id, item_id=item_id)
        assert (entry.action, entry.actor_id, entry.text_before) == (
            "approve", cast.moderator.id, "ты тупой")
        assert await queue.pending_count(session, school.school_id) == 0


async def test_reject_with_reason_tells_the_target_and_keeps_the_text(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    response = await post_form(client, f"/moderation/items/{item_id}/reject", {
        "canned": "Оскорбление участников", "reason": "Пишите уважительно."})
    assert response.status == 303
    note = notes.notes[1]
    assert note.state == "rejected"
    assert note.reason == "Оскорбление участников. Пишите уважительно."
    async with db.session() as session:
        (entry,) = await audit.entries(session, school.school_id, item_id=item_id)
        assert entry.action == "reject" and entry.text_before == "ты тупой"
        assert entry.note == note.reason


async def test_reject_without_reason_is_refused_and_changes_nothing(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    response = await post_form(client, f"/moderation/items/{item_id}/reject",
                               {"canned": "", "reason": "   "})
    assert response.status == 422
    assert "Укажите причину" in await response.text()
    response = await post_form(client, f"/moderation/items/{item_id}/reject",
                               {"canned": "Придуманная причина", "reason": ""})
    assert response.status == 422
    assert notes.notes[1].state == "held"
    async with db.session() as session:
        assert await queue.pending_count(session, school.school_id) == 1
        assert not await audit.entries(session, school.school_id)


async def test_edit_then_approve_stores_the_edited_text(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "Учитель тупой",
                         title="Про уроки")
    await sign_in(client, "mod")
    response = await post_form(client, f"/moderation/items/{item_id}/edit",
                               {"title": "Про уроки", "text": "Учитель объясняет непонятно"})
    assert response.status == 303
    assert notes.notes[1].state == "published"
    assert notes.notes[1].text == "Учитель объясняет непонятно"
    async with db.session() as session:
        (entry,) = await audit.entries(session, school.school_id, item_id=item_id)
    assert entry.action == "edit_approve"
    assert "Учитель тупой" in (entry.text_before or "")
    assert "объясняет непонятно" in (entry.text_after or "")


async def test_second_decision_is_told_who_decided(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    assert (await post_form(client, f"/moderation/items/{item_id}/approve")).status == 303
    await sign_in(client, "mod2")
    response = await post_form(client, f"/moderation/items/{item_id}/reject",
                               {"canned": "Грубость и неуважительный тон"})
    assert response.status == 409
    assert "Этот пункт уже обработал Ольга Модераторова" in await response.text()
    assert notes.notes[1].state == "published"
    async with db.session() as session:
        assert len(await audit.entries(session, school.school_id)) == 1


async def test_claimed_item_cannot_be_decided_by_another_moderator(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    assert (await post_form(client, f"/moderation/items/{item_id}/claim")).status == 303
    await sign_in(client, "mod2")
    page = await (await client.get("/moderation/queue")).text()
    assert "в работе: Ольга Модераторова" in page
    response = await post_form(client, f"/moderation/items/{item_id}/approve")
    assert response.status == 409
    assert "взял в работу Ольга Модераторова" in await response.text()
    response = await post_form(client, f"/moderation/items/{item_id}/claim")
    assert response.status == 409
    assert notes.notes[1].state == "held"
    await sign_in(client, "mod")
    assert (await post_form(client, f"/moderation/items/{item_id}/approve")).status == 303
    assert notes.notes[1].state == "published"


async def test_undo_restores_the_item_for_the_deciding_moderator_only(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    await post_form(client, f"/moderation/items/{item_id}/reject",
                    {"canned": "Грубость и неуважительный тон"})
    await sign_in(client, "mod2")
    response = await post_form(client, f"/moderation/items/{item_id}/undo")
    assert response.status == 409
    assert "только тот, кто его принял" in await response.text()
    assert notes.notes[1].state == "rejected"
    await sign_in(client, "mod")
    page = await (await client.get(f"/moderation/items/{item_id}")).text()
    assert "Отменить решение" in page
    assert (await post_form(client, f"/moderation/items/{item_id}/undo")).status == 303
    assert notes.notes[1].state == "held"
    assert notes.notes[1].reason == ""
    async with db.session() as session:
        assert await queue.pending_count(session, school.school_id) == 1
        actions = [e.action for e in await audit.entries(session, school.school_id)]
    assert actions == ["undo", "reject"]
    # Undone twice: told so, nothing changes.
    response = await post_form(client, f"/moderation/items/{item_id}/undo")
    assert response.status == 409


async def test_coordinator_may_undo_another_moderators_decision(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    await post_form(client, f"/moderation/items/{item_id}/approve")
    await sign_in(client, "coord")
    assert (await post_form(client, f"/moderation/items/{item_id}/undo")).status == 303
    assert notes.notes[1].state == "held"


async def test_bulk_approve_and_reject(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    first = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    second = await held(db, notes, school.school_id, cast.parent2.id, "ты идиот")
    third = await held(db, notes, school.school_id, cast.parent3.id, "сам дебил")
    await sign_in(client, "mod")
    response = await post_form(client, "/moderation/bulk", {"item": [str(first), str(second)],
                                                            "decision": "approve"})
    assert response.status == 200
    assert "Одобрено: 2 из 2" in await response.text()
    assert [n.state for n in notes.notes.values()] == ["published", "published", "held"]
    # Rejecting needs a reason; an already decided item is reported, the rest goes through.
    response = await post_form(client, "/moderation/bulk", {"item": [str(third)],
                                                            "decision": "reject"})
    assert response.status == 422
    response = await post_form(client, "/moderation/bulk", {
        "item": [str(first), str(third)], "decision": "reject", "canned": "Реклама или спам"})
    text = await response.text()
    assert "Отклонено: 1 из 2" in text and "Вы уже обработали этот пункт" in text
    assert [n.state for n in notes.notes.values()] == ["published", "published", "rejected"]


async def test_queue_filters_by_author_and_reason(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    first = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    second = await held(db, notes, school.school_id, cast.parent2.id, "ты идиот")
    await sign_in(client, "mod")
    html = await (await client.get(f"/moderation/queue?author={cast.parent2.id}")).text()
    assert f'data-item="{second}"' in html and f'data-item="{first}"' not in html
    html = await (await client.get("/moderation/queue?source=report")).text()
    assert "Очередь пуста" in html
    html = await (await client.get("/moderation/queue?section=forum:7")).text()
    assert f'data-item="{first}"' in html and f'data-item="{second}"' not in html
    # Oldest first.
    html = await (await client.get("/moderation/queue")).text()
    assert html.index(f'data-item="{first}"') < html.index(f'data-item="{second}"')
    assert (await client.get("/moderation/queue?status=nonsense")).status == 400


async def test_claims_expire_and_undo_has_a_time_limit(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    await post_form(client, f"/moderation/items/{item_id}/claim")
    # The first moderator went away: after the claim's time another one may decide.
    async with db.transaction() as session:
        await session.execute(update(ReviewItem).values(
            claimed_until=clock.now() - dt.timedelta(seconds=1)))
    await sign_in(client, "mod2")
    assert (await post_form(client, f"/moderation/items/{item_id}/approve")).status == 303
    assert notes.notes[1].state == "published"
    async with db.transaction() as session:
        await session.execute(update(ReviewItem).values(
            decided_at=clock.now() - queue.UNDO_WITHIN - dt.timedelta(seconds=1)))
    page = await (await client.get(f"/moderation/items/{item_id}")).text()
    assert "Отменить решение" not in page
    response = await post_form(client, f"/moderation/items/{item_id}/undo")
    assert response.status == 409
    assert "Время на отмену решения прошло" in await response.text()
    assert notes.notes[1].state == "published"


async def test_section_filter_names_sections(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await held(db, notes, school.school_id, cast.parent.id, "ты идиот")
    await sign_in(client, "mod")
    html = await (await client.get("/moderation/queue")).text()
    assert '<option value="forum:7">Заметки</option>' in html
    assert '<option value="board">Доска объявлений</option>' in html
