"""The administration JSON API: tokens and sessions, every kind of bad request, scope."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub.auth.access import TokenScope
from hub.auth.tokens import issue_token
from hub.db import Database
from hub.school import Consent, Guardianship, Person, Role, SchoolClass
from tests.support.school import SchoolBuilder
from tests.support.web import api, send_in_two_parts, sign_in


async def _token(db: Database, school_id: int, *scopes: TokenScope) -> dict[str, str]:
    async with db.transaction() as session:
        issued = await issue_token(session, school_id, "журнал", scopes or [TokenScope.ADMIN])
    return {"Authorization": f"Bearer {issued.secret}"}


async def _snapshot(db: Database) -> tuple[Any, ...]:
    """Everything an administration request could change, to check that nothing did."""
    async with db.session() as session:
        people = (await session.execute(
            select(Person.id, Person.last_name, Person.first_name, Person.email,
                   Person.external_id).order_by(Person.id)
        )).all()
        counts = [await session.scalar(select(func.count()).select_from(m))
                  for m in (SchoolClass, Guardianship, Consent)]
    return tuple(people), tuple(counts)


async def test_token_creates_and_reads_people_and_classes(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    headers = await _token(db, school.school_id)
    response = await client.post("/api/v1/classes", json={"name": "5 а"}, headers=headers)
    assert response.status == 201
    assert (await response.json())["name"] == "5А"

    response = await client.post("/api/v1/people", headers=headers, json={
        "last_name": "Петров", "first_name": "Пётр", "roles": ["student"], "class_name": "5А",
        "external_id": "S-1",
    })
    assert response.status == 201, await response.text()
    child = await response.json()
    assert child["class_name"] == "5А" and child["roles"] == ["student"]

    response = await client.post("/api/v1/people", headers=headers, json={
        "last_name": "Петрова", "first_name": "Анна", "roles": ["parent"],
        "email": "petrova@example.org",
    })
    parent = await response.json()
    response = await client.post("/api/v1/guardianships", headers=headers,
                                 json={"parent_id": parent["id"], "child_id": child["id"]})
    assert response.status == 201
    response = await client.post(f"/api/v1/people/{child['id']}/consents", headers=headers,
                                 json={"purpose": "processing", "given_by_id": parent["id"]})
    assert response.status == 201

    got = await (await client.get(f"/api/v1/people/{child['id']}", headers=headers)).json()
    assert got["guardian_ids"] == [parent["id"]]
    listed = await (await client.get("/api/v1/people?q=петров", headers=headers)).json()
    assert {p["id"] for p in listed["people"]} == {child["id"], parent["id"]}
    classes = await (await client.get("/api/v1/classes", headers=headers)).json()
    assert classes["classes"] == [{"id": classes["classes"][0]["id"], "name": "5А",
                                   "students": 1}]

    response = await client.patch(f"/api/v1/people/{parent['id']}", headers=headers,
                                  json={"email": None, "phone": "+7 900 111-22-33"})
    assert response.status == 200
    body = await response.json()
    assert body["email"] is None and body["phone"] == "+7 900 111-22-33"

    response = await client.request("DELETE", "/api/v1/guardianships", headers=headers,
                                    json={"parent_id": parent["id"], "child_id": child["id"]})
    assert response.status == 200


async def test_bad_requests_get_readable_errors_and_change_nothing(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    headers = await _token(db, school.school_id)
    person = await school.person(Role.PARENT, last_name="Неизменная")
    before = await _snapshot(db)

    response = await client.post("/api/v1/people", headers=headers, data=b"{not json",
                                 skip_auto_headers=["Content-Type"])
    assert response.status == 400
    assert (await response.json())["error"].startswith("Тело запроса — не JSON")

    response = await client.post("/api/v1/people", headers=headers,
                                 json={"last_name": 5, "first_name": "", "roles": ["king"]})
    assert response.status == 422
    fields = {d["field"] for d in (await response.json())["details"]}
    assert {"last_name", "first_name", "roles.0"} <= fields

    response = await client.post("/api/v1/people", headers=headers, json={
        "last_name": "А", "first_name": "Б", "favourite_colour": "red"})
    assert response.status == 422
    assert (await response.json())["details"][0]["field"] == "favourite_colour"

    response = await client.patch(f"/api/v1/people/{person.id}", headers=headers,
                                  json={"email": "no-at-sign"})
    assert response.status == 422

    huge = json.dumps({"last_name": "x" * (2 * 1024 * 1024), "first_name": "y"})
    response = await client.post("/api/v1/people", headers=headers, data=huge,
                                 skip_auto_headers=["Content-Type"])
    assert response.status == 413
    assert "error" in await response.json()

    response = await client.post("/api/v1/classes", headers=headers, json={"name": "13Ж"})
    assert response.status == 422

    response = await client.post("/api/v1/guardianships", headers=headers,
                                 json={"parent_id": person.id, "child_id": 999999})
    assert response.status == 404

    assert (await client.get("/api/v1/people/999999", headers=headers)).status == 404
    assert (await client.get("/api/v1/people/abc", headers=headers)).status == 404
    assert await _snapshot(db) == before


async def test_authentication_and_scope(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    person = await school.person(Role.PARENT, last_name="Неизменная")
    before = await _snapshot(db)
    # No credentials.
    response = await client.get("/api/v1/people")
    assert response.status == 401 and "error" in await response.json()
    # A forged or revoked token.
    response = await client.get("/api/v1/people", headers={"Authorization": "Bearer hub_nope"})
    assert response.status == 401
    # A journal token has no admin scope.
    journal = await _token(db, school.school_id, TokenScope.JOURNAL)
    response = await client.patch(f"/api/v1/people/{person.id}", headers=journal,
                                  json={"last_name": "Взлом"})
    assert response.status == 403
    # An admin token may not grant roles (only the system administrator may).
    admin = await _token(db, school.school_id)
    response = await client.patch(f"/api/v1/people/{person.id}", headers=admin,
                                  json={"roles": ["sysadmin"]})
    assert response.status == 403
    response = await client.post("/api/v1/people", headers=admin, json={
        "last_name": "Новый", "first_name": "Админ", "roles": ["sysadmin"]})
    assert response.status == 403
    assert await _snapshot(db) == before


async def test_token_of_another_school_sees_nothing_here(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    person = await school.person(Role.PARENT, last_name="Наша")
    other = await SchoolBuilder(db).start("Другая", "other")
    headers = await _token(db, other.school_id)
    response = await client.get(f"/api/v1/people/{person.id}", headers=headers)
    assert response.status == 404 and "Наша" not in await response.text()
    listed = await (await client.get("/api/v1/people", headers=headers)).json()
    assert listed == {"people": [], "total": 0, "page": 1}
    response = await client.request("DELETE", f"/api/v1/people/{person.id}", headers=headers)
    assert response.status in (403, 404)


async def test_session_needs_csrf_header_and_role(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.HR, login="kadry")
    child = await school.student("5А")
    await school.parent_of(child, login="mama")
    await sign_in(client, "kadry")
    response = await client.post("/api/v1/classes", json={"name": "6А"})
    assert response.status == 403  # no X-CSRF-Token header
    response = await api(client, "POST", "/api/v1/classes", json={"name": "6А"})
    assert response.status == 201

    await sign_in(client, "mama")
    response = await api(client, "GET", "/api/v1/people")
    assert response.status == 403
    response = await api(client, "GET", f"/api/v1/people/{child.id}")
    assert response.status == 403


async def test_openapi_describes_the_admin_endpoints(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/api/v1/people"]) >= {"get", "post"}
    assert set(paths["/api/v1/people/{id}"]) >= {"get", "patch", "delete"}
    assert "post" in paths["/api/v1/guardianships"] and "delete" in paths["/api/v1/guardianships"]
    assert "get" in paths["/api/v1/people/{id}/export"]
    schema = document["components"]["schemas"]["PersonCreate"]
    assert schema["additionalProperties"] is False
    assert {"last_name", "first_name"} <= set(schema["required"])


async def test_csv_import_over_the_api_is_all_or_nothing(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    headers = {**await _token(db, school.school_id), "Content-Type": "text/csv"}
    bad = ("external_id;last_name;first_name;roles;class\n"
           "S-1;Иванов;Пётр;student;5А\nS-2;;Мария;student;5Б\n")
    before = await _snapshot(db)
    response = await client.post("/api/v1/people/import", data=bad.encode(), headers=headers)
    assert response.status == 422
    assert (await response.json())["details"] == [
        {"line": 3, "message": "пустое поле last_name (фамилия)"}]
    assert await _snapshot(db) == before

    good = bad.replace("S-2;;Мария", "S-2;Иванова;Мария")
    response = await client.post("/api/v1/people/import", data=good.encode(), headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["created"] == 2 and body["classes_created"] == ["5А", "5Б"]


async def test_bodies_arriving_in_two_parts_are_read_whole(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    headers = await _token(db, school.school_id)
    rows = [f"S-{n:03d};Ученик{n};Имя;;student;5А;;;;" for n in range(20)]
    csv_body = ("external_id;last_name;first_name;middle_name;roles;class;subject;email;"
                "phone;guardian_of\n" + "\n".join(rows) + "\n").encode()
    status, answer = await send_in_two_parts(
        client, "POST", "/api/v1/people/import", csv_body,
        {**headers, "Content-Type": "text/csv"})
    assert status == 200, answer
    assert json.loads(answer)["created"] == 20

    person = json.dumps({"last_name": "Долгий", "first_name": "Запрос", "roles": ["student"],
                         "external_id": "X" * 60, "class_name": "5А"}).encode()
    status, answer = await send_in_two_parts(
        client, "POST", "/api/v1/people", person,
        {**headers, "Content-Type": "application/json"})
    assert status == 201, answer

    too_big = b'{"last_name": "' + b"x" * (1024 * 1024) + b'"}'
    status, answer = await send_in_two_parts(
        client, "POST", "/api/v1/people", too_big,
        {**headers, "Content-Type": "application/json"}, pause=0.2)
    assert status == 413, answer
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 21
