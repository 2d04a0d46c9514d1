"""Concurrent decisions on one item: exactly one wins, the other is told, the database stays
consistent. Live notes reach open queue pages after the commit."""

from __future__ import annotations

import asyncio

from hub.broker import get_broker, live_channel
from hub.db import Database
from moderation import audit, queue
from moderation.models import ItemStatus
from tests.moderation.conftest import Cast, held
from tests.moderation.fake_target import FakeTarget
from tests.support.school import SchoolBuilder


async def test_concurrent_decisions_one_wins(
    db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")

    async def approve() -> str:
        try:
            async with db.transaction() as session:
                await queue.approve(session, school_id=school.school_id, item_id=item_id,
                                    moderator_id=cast.moderator.id)
            return "ok"
        except queue.ItemConflict as exc:
            return exc.message

    async def reject() -> str:
        try:
            async with db.transaction() as session:
                await queue.reject(session, school_id=school.school_id, item_id=item_id,
                                   moderator_id=cast.moderator2.id, reason="Грубость")
            return "ok"
        except queue.ItemConflict as exc:
            return exc.message

    results = await asyncio.gather(approve(), reject())
    assert results.count("ok") == 1
    (lost,) = [r for r in results if r != "ok"]
    assert lost.startswith("Этот пункт уже обработал")
    async with db.session() as session:
        item = await queue.get_item(session, school.school_id, item_id)
        entries = await audit.entries(session, school.school_id, item_id=item_id)
    assert len(entries) == 1
    winner = "approve" if results[0] == "ok" else "reject"
    assert entries[0].action == winner
    assert item.status is (ItemStatus.APPROVED if winner == "approve" else ItemStatus.REJECTED)
    assert notes.notes[1].state == ("published" if winner == "approve" else "rejected")


async def test_queue_pages_hear_of_new_and_decided_items(
    db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    channel = live_channel("queue", school.school_id)
    async with get_broker().subscribe(channel) as messages:
        stream = aiter(messages)
        item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
        _, note = await asyncio.wait_for(anext(stream), 5)
        assert note == {"event": "held", "item": item_id}
        async with db.transaction() as session:
            await queue.approve(session, school_id=school.school_id, item_id=item_id,
                                moderator_id=cast.moderator.id)
        _, note = await asyncio.wait_for(anext(stream), 5)
        assert note == {"event": "decided", "item": item_id}
        # A rolled-back decision says nothing.
        other = await held(db, notes, school.school_id, cast.parent.id, "ты дебил")
        await asyncio.wait_for(anext(stream), 5)
        try:
            async with db.transaction() as session:
                await queue.approve(session, school_id=school.school_id, item_id=other,
                                    moderator_id=cast.moderator.id)
                raise RuntimeError("crash before commit")
        except RuntimeError:
            pass
        async with db.session() as session:
            assert await queue.pending_count(session, school.school_id) == 1
        # The next note is about the next real change, not the rolled-back decision.
        third = await held(db, notes, school.school_id, cast.parent.id, "сам идиот")
        _, note = await asyncio.wait_for(anext(stream), 5)
        assert note == {"event": "held", "item": third}
