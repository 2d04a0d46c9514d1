"""The audit log: coordinators read it, nobody edits it (not even with SQL)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from hub.db import Database
from moderation.models import AuditEntry
from tests.moderation.conftest import Cast, held
from tests.moderation.fake_target import FakeTarget
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


async def test_coordinator_reads_the_log_and_moderators_do_not(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    await post_form(client, f"/moderation/items/{item_id}/reject",
                    {"canned": "Оскорбление участников"})
    await post_form(client, f"/moderation/items/{item_id}/warn", {"reason": "Первое"})
    assert (await client.get("/moderation/audit")).status == 403
    await sign_in(client, "coord")
    page = await client.get("/moderation/audit")
    html = await page.text()
    assert page.status == 200
    assert "Ольга Модераторова" in html and "отклонено" in html and "ты тупой" in html
    assert "предупреждение" in html and "Анна Родитель1" in html
    html = await (await client.get("/moderation/audit?action=warn")).text()
    assert "Первое" in html and "ты тупой" not in html
    # Read-only: there is no route that changes an entry.
    assert (await post_form(client, "/moderation/audit", {})).status == 405


async def test_database_refuses_to_change_or_delete_entries(
    client: TestClient, db: Database, school: SchoolBuilder, notes: FakeTarget, cast: Cast
) -> None:
    item_id = await held(db, notes, school.school_id, cast.parent.id, "ты тупой")
    await sign_in(client, "mod")
    await post_form(client, f"/moderation/items/{item_id}/approve")
    for statement in (update(AuditEntry).values(text_before="подделка"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(statement)
    async with db.session() as session:
        entry = await session.get_one(AuditEntry, 1)
    assert entry.text_before == "ты тупой"
