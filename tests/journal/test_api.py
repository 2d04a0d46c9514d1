"""POST /api/v1/grades and /api/v1/attendance: the school journal pushing in."""

from __future__ import annotations

import asyncio
import datetime as dt

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub.auth.access import TokenScope
from hub.auth.tokens import issue_token
from hub.db import Database
from hub.events import Event
from hub.journal.models import Attendance, Grade
from hub.notify.models import Notification
from tests.journal.conftest import Journal5A
from tests.support.clock import YESTERDAY
from tests.support.school import SchoolBuilder
from tests.support.web import api, sign_in


async def token(db: Database, school_id: int, *scopes: TokenScope) -> dict[str, str]:
    async with db.transaction() as session:
        issued = await issue_token(session, school_id, "журнал", scopes or [TokenScope.JOURNAL])
    return {"Authorization": f"Bearer {issued.secret}"}


def grade_item(student_id: int, value: int, source_id: str, **extra: object) -> dict:
    return {"source_id": source_id, "student_id": student_id, "subject": "Математика",
            "date": YESTERDAY.isoformat(), "value": value, **extra}


async def notified(db: Database) -> list[int]:
    """Who got a notification, once per notification (the pipeline's in-app list)."""
    async with db.session() as session:
        return sorted(await session.scalars(select(Notification.person_id)))


async def grades_in(db: Database) -> list[tuple[int, int]]:
    async with db.session() as session:
        rows = await session.execute(select(Grade.student_id, Grade.value))
        return sorted(tuple(r) for r in rows)


async def test_batch_sent_twice_is_stored_and_notified_once(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A,
    emitted: list[Event],
) -> None:
    headers = await token(db, school.school_id)
    body = {"items": [grade_item(journal.alice.id, 5, "J-1", work_type="контрольная"),
                      grade_item(journal.boris.id, 2, "J-2")]}
    first = await client.post("/api/v1/grades", json=body, headers=headers)
    assert first.status == 200, await first.text()
    answer = await first.json()
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (2, 0, 0)
    again = await client.post("/api/v1/grades", json=body, headers=headers)
    assert (await again.json())["unchanged"] == 2
    assert len(emitted) == 2
    assert await grades_in(db) == sorted([(journal.alice.id, 5), (journal.boris.id, 2)])
    assert await notified(db) == sorted([journal.alice_parent.id, journal.boris_parent.id])

    body["items"][1]["value"] = 3
    corrected = await client.post("/api/v1/grades", json=body, headers=headers)
    assert (await corrected.json())["updated"] == 1
    assert [e.corrected for e in emitted] == [False, False, True]
    assert await notified(db) == sorted(
        [journal.alice_parent.id, journal.boris_parent.id, journal.boris_parent.id])
    async with db.session() as session:
        titles = list(await session.scalars(
            select(Notification.title).order_by(Notification.id.desc()).limit(1)))
    assert titles == ["Исправлена оценка: 2 → 3 по предмету «Математика»"]


async def test_bad_items_listed_by_index_and_nothing_stored(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    headers = await token(db, school.school_id)
    future = (YESTERDAY + dt.timedelta(days=5)).isoformat()
    body = {"items": [
        grade_item(journal.alice.id, 5, "ok"),
        grade_item(journal.alice.id, 7, "seven"),
        grade_item(journal.boris.id, 4, "future", date=future),
        {**grade_item(journal.boris.id, 4, "cls"), "class_name": "9Я"},
        {"source_id": "nobody", "student_external_id": "NO-SUCH", "subject": "Математика",
         "date": YESTERDAY.isoformat(), "value": 4},
    ]}
    response = await client.post("/api/v1/grades", json=body, headers=headers)
    assert response.status == 422
    answer = await response.json()
    assert "Ничего не сохранено" in answer["error"]
    assert [(d["index"], d["field"]) for d in answer["details"]] == [
        (1, "value"), (2, "date"), (3, "class"), (4, "student")]
    assert await grades_in(db) == []


async def test_malformed_item_is_a_422_naming_the_field(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    headers = await token(db, school.school_id)
    body = {"items": [grade_item(journal.alice.id, 5, "a", date="вчера")]}
    response = await client.post("/api/v1/grades", json=body, headers=headers)
    assert response.status == 422
    assert (await response.json())["details"][0]["field"] == "items.0.date"


async def test_token_of_another_school_cannot_touch_these_students(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    other = await SchoolBuilder(db).start("Школа № 2", "school2")
    headers = await token(db, other.school_id)
    response = await client.post(
        "/api/v1/grades", json={"items": [grade_item(journal.alice.id, 5, "x")]},
        headers=headers)
    assert response.status == 422
    assert (await response.json())["details"][0]["message"] == "ученик не найден в этой школе"
    assert await grades_in(db) == []


async def test_batch_over_the_limit_is_refused(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    headers = await token(db, school.school_id)
    items = [grade_item(journal.alice.id, 5, f"g{i}") for i in range(1001)]
    response = await client.post("/api/v1/grades", json={"items": items}, headers=headers)
    assert response.status == 413
    assert "не больше 1000" in (await response.json())["error"]
    assert await grades_in(db) == []


async def test_who_may_push(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    body = {"items": [grade_item(journal.alice.id, 5, "x")]}
    assert (await api(client, "POST", "/api/v1/grades", json=body)).status == 401
    admin_only = await token(db, school.school_id, TokenScope.ADMIN)
    assert (await client.post("/api/v1/grades", json=body, headers=admin_only)).status == 403

    await sign_in(client, "alice.parent")
    assert (await api(client, "POST", "/api/v1/grades", json=body)).status == 403

    await sign_in(client, "teacher5b")  # teaches 5Б; Alice is in 5А
    refused = await api(client, "POST", "/api/v1/grades", json=body)
    assert refused.status == 422
    assert (await refused.json())["details"][0]["field"] == "class"

    await sign_in(client, "teacher")
    assert (await api(client, "POST", "/api/v1/grades", json=body)).status == 200
    assert await grades_in(db) == [(journal.alice.id, 5)]


async def test_attendance_batch(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A,
    emitted: list[Event],
) -> None:
    headers = await token(db, school.school_id)
    items = [
        {"source_id": "A-1", "student_id": journal.alice.id, "date": YESTERDAY.isoformat(),
         "status": "absent", "lesson_number": 1},
        {"source_id": "A-2", "student_external_id": "S-1", "date": YESTERDAY.isoformat(),
         "status": "late", "subject": "Математика", "comment": "10 минут"},
    ]
    response = await client.post("/api/v1/attendance", json={"items": items}, headers=headers)
    assert response.status == 200, await response.text()
    assert (await response.json())["created"] == 2
    again = await client.post("/api/v1/attendance", json={"items": items}, headers=headers)
    assert (await again.json())["unchanged"] == 2
    assert len(emitted) == 2

    unknown = await client.post("/api/v1/attendance", headers=headers, json={"items": [
        {**items[0], "status": "прогулял"}]})
    assert unknown.status == 422
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Attendance)) == 2


async def test_endpoints_are_in_the_openapi_document(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert "post" in document["paths"]["/api/v1/grades"]
    assert "post" in document["paths"]["/api/v1/attendance"]


async def test_the_same_batch_sent_twice_at_once_is_stored_once(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    headers = await token(db, school.school_id)
    body = {"items": [grade_item(journal.alice.id, 5, f"C-{i}") for i in range(50)]}
    responses = await asyncio.gather(
        *(client.post("/api/v1/grades", json=body, headers=headers) for _ in range(3)))
    answers = [await r.json() for r in responses]
    assert [r.status for r in responses] == [200, 200, 200], answers
    assert sorted(a["created"] for a in answers) == [0, 0, 50]
    assert len(await grades_in(db)) == 50
    assert await notified(db) == [journal.alice_parent.id] * 50
