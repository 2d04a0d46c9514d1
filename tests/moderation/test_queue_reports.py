"""Readers' reports: one per person, the queue, hiding after several distinct reporters."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from hub.db import Database
from moderation import queue
from moderation.models import ItemSource
from tests.moderation.conftest import Cast
from tests.moderation.fake_target import FakeTarget
from tests.support.school import SchoolBuilder
from tests.support.web import sign_in


async def _report(db: Database, school_id: int, note_id: int, reporter_id: int,
                  reason: str = "Оскорбляет учителя") -> queue.ReviewItem:
    async with db.transaction() as session:
        return await queue.report(session, school_id=school_id, kind="note",
                                  target_id=note_id, reporter_id=reporter_id, reason=reason)


async def test_reports_queue_the_message_and_three_people_hide_it(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    note_id = notes.add(school.school_id, cast.parent.id, "Обычный текст", state="published")
    item = await _report(db, school.school_id, note_id, cast.parent2.id)
    assert item.source is ItemSource.REPORT
    assert notes.notes[note_id].state == "published"  # one report: still visible
    with pytest.raises(queue.ItemConflict, match="уже пожаловались"):
        await _report(db, school.school_id, note_id, cast.parent2.id)
    await _report(db, school.school_id, note_id, cast.parent3.id)
    assert notes.notes[note_id].state == "published"
    await _report(db, school.school_id, note_id, cast.parent4.id, "Спам")
    assert notes.notes[note_id].state == "hidden"
    async with db.session() as session:
        assert await queue.pending_count(session, school.school_id) == 1
    await sign_in(client, "mod")
    html = await (await client.get(f"/moderation/items/{item.id}")).text()
    assert "Жалобы (3)" in html and "Спам" in html and "скрыто по жалобам" in html
    html = await (await client.get("/moderation/queue?source=report")).text()
    assert f'data-item="{item.id}"' in html


async def test_bad_reports_are_refused_and_change_nothing(
    db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    note_id = notes.add(school.school_id, cast.parent.id, "Обычный текст", state="published")
    with pytest.raises(queue.BadInput, match="своё сообщение"):
        await _report(db, school.school_id, note_id, cast.parent.id)
    with pytest.raises(queue.BadInput, match="Укажите"):
        await _report(db, school.school_id, note_id, cast.parent2.id, "  ")
    with pytest.raises(queue.ItemNotFound):
        await _report(db, school.school_id, 999, cast.parent2.id)
    with pytest.raises(queue.ItemNotFound):  # another school's message does not exist here
        await _report(db, school.school_id + 1, note_id, cast.parent2.id)
    async with db.session() as session:
        assert await queue.pending_count(session, school.school_id) == 0


async def test_approved_message_reported_again_returns_to_the_queue(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    note_id = notes.add(school.school_id, cast.parent.id, "Обычный текст", state="published")
    item = await _report(db, school.school_id, note_id, cast.parent2.id)
    async with db.transaction() as session:
        await queue.approve(session, school_id=school.school_id, item_id=item.id,
                            moderator_id=cast.moderator.id)
        assert await queue.pending_count(session, school.school_id) == 0
    await _report(db, school.school_id, note_id, cast.parent3.id)
    async with db.session() as session:
        assert await queue.pending_count(session, school.school_id) == 1
