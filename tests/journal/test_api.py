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


def attendance_item(student_id: int, status: str, source_id: str, **extra: object) -> dict:
    return {"source_id": source_id, "student_id": student_id, "date": YESTERDAY.isoformat(),
            "status": status, "subject": "Математика", "lesson_number": 3, **extra}


async def titles_for(db: Database, person_id: int) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(
            select(Notification.title).where(Notification.person_id == person_id)
            .order_by(Notification.id)))


async def test_teacher_cannot_rewrite_another_class_grade_through_its_source_id(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    vera_parent = await school.parent_of(journal.vera, login="vera.parent")
    headers = await token(db, school.school_id)
    created = await client.post("/api/v1/grades", headers=headers, json={"items": [
        grade_item(journal.vera.id, 5, "J-5B-319-1", subject="Русский язык")]})
    assert created.status == 200, await created.text()
    async with db.session() as session:
        before = (await session.scalar(select(Grade))).__dict__.copy()
    before.pop("_sa_instance_state")
    told_vera = await titles_for(db, vera_parent.id)
    assert len(told_vera) == 1

    await sign_in(client, "teacher")  # 5А, Математика
    attack = await api(client, "POST", "/api/v1/grades", json={"items": [
        grade_item(journal.alice.id, 2, "J-5B-319-1")]})
    assert attack.status == 200, await attack.text()
    assert (await attack.json())["updated"] == 0  # the teacher's own new grade, nothing else
    async with db.session() as session:
        row = await session.get_one(Grade, before["id"])
        after = {k: getattr(row, k) for k in before}
    assert after == before
    assert await titles_for(db, vera_parent.id) == told_vera
    assert not any("исправлена" in t or "было" in t
                   for t in await titles_for(db, journal.alice_parent.id))


async def test_a_source_id_never_moves_to_another_student(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    vera_parent = await school.parent_of(journal.vera, login="vera.parent")
    headers = await token(db, school.school_id)
    await client.post("/api/v1/grades", headers=headers, json={"items": [
        grade_item(journal.vera.id, 5, "J-5B-319-1", subject="Русский язык")]})
    refused = await client.post("/api/v1/grades", headers=headers, json={"items": [
        grade_item(journal.boris.id, 4, "J-new"),
        grade_item(journal.alice.id, 2, "J-5B-319-1")]})
    assert refused.status == 422
    assert [d["index"] for d in (await refused.json())["details"]] == [1]
    assert await grades_in(db) == [(journal.vera.id, 5)]
    assert len(await titles_for(db, vera_parent.id)) == 1
    assert await titles_for(db, journal.alice_parent.id) == []
    assert await titles_for(db, journal.boris_parent.id) == []


async def test_an_attendance_source_id_never_moves_to_another_student(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    vera_parent = await school.parent_of(journal.vera, login="vera.parent")
    headers = await token(db, school.school_id)
    await client.post("/api/v1/attendance", headers=headers, json={"items": [
        attendance_item(journal.vera.id, "absent", "A-5B-1", subject="Русский язык")]})
    refused = await client.post("/api/v1/attendance", headers=headers, json={"items": [
        attendance_item(journal.alice.id, "late", "A-5B-1")]})
    assert refused.status == 422
    assert [d["index"] for d in (await refused.json())["details"]] == [0]

    await sign_in(client, "teacher")
    answer = await api(client, "POST", "/api/v1/attendance", json={"items": [
        attendance_item(journal.alice.id, "late", "A-5B-1")]})
    assert answer.status == 200 and (await answer.json())["updated"] == 0
    async with db.session() as session:
        rows = sorted(tuple(r) for r in await session.execute(
            select(Attendance.student_id, Attendance.status, Attendance.subject,
                   Attendance.corrected)))
    assert sorted(rows) == sorted([(journal.vera.id, "absent", "Русский язык", False),
                                   (journal.alice.id, "late", "Математика", False)])
    assert len(await titles_for(db, vera_parent.id)) == 1
    assert not any("исправлена" in t for t in await titles_for(db, journal.alice_parent.id))


async def test_two_sources_using_the_same_source_id_do_not_collide(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    first = await token(db, school.school_id)
    second = await token(db, school.school_id)
    for headers, value in ((first, 5), (second, 3)):
        response = await client.post("/api/v1/grades", headers=headers, json={"items": [
            grade_item(journal.alice.id, value, "X-1")]})
        assert (await response.json())["created"] == 1
    again = await client.post("/api/v1/grades", headers=first, json={"items": [
        grade_item(journal.alice.id, 4, "X-1")]})
    assert (await again.json())["updated"] == 1
    assert await grades_in(db) == [(journal.alice.id, 3), (journal.alice.id, 4)]


async def test_the_answer_does_not_tell_whether_a_source_id_exists(
    client: TestClient, db: Database, school: SchoolBuilder, journal: Journal5A
) -> None:
    headers = await token(db, school.school_id)
    await client.post("/api/v1/grades", headers=headers, json={"items": [
        grade_item(journal.vera.id, 5, "J-5B-319-1"), grade_item(journal.alice.id, 5, "J-5A-1")]})
    await sign_in(client, "teacher")

    async def answer(items: list[dict]) -> tuple[int, object]:
        response = await api(client, "POST", "/api/v1/grades", json={"items": items})
        body = await response.json()
        body.pop("ids", None)
        return response.status, body

    # in a class the teacher may not touch: the same refusal, known id or not
    assert await answer([grade_item(journal.vera.id, 2, "J-5B-319-1")]) == await answer(
        [grade_item(journal.vera.id, 2, "never-seen")])
    # in their own class: someone else's id is as good as a new one
    assert await answer([grade_item(journal.boris.id, 2, "J-5A-1")]) == await answer(
        [grade_item(journal.boris.id, 2, "never-seen-2")])
