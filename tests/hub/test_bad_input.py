"""Bad input anywhere is a 4xx with a message a person can read, and stores nothing: NUL
characters in any text, bytes that are not UTF-8, JSON nested too deep, numbers too large
for an id, a `next` with a newline, an edit of something that does not exist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from forum.models import Announcement, Post, Section, Topic
from hub.auth.access import TokenScope
from hub.auth.tokens import issue_token
from hub.db import Database
from hub.school import Person, Role
from tests.support.school import PASSWORD, SchoolBuilder
from tests.support.web import browser_multipart, ensure_csrf, post_form, sign_in


def refused(status: int, what: str) -> None:
    assert 400 <= status < 500, f"{what}: {status}"


async def _counts(db: Database) -> tuple[int, ...]:
    async with db.session() as session:
        return tuple([await session.scalar(select(func.count()).select_from(model)) or 0
                      for model in (Person, Topic, Post, Announcement)])


@pytest.fixture
async def admin_headers(db: Database, school: SchoolBuilder) -> dict[str, str]:
    async with db.transaction() as session:
        issued = await issue_token(session, school.school_id, "проверка", [TokenScope.ADMIN])
    return {"Authorization": f"Bearer {issued.secret}"}


async def test_nul_in_any_text_is_refused_and_nothing_is_stored(
    client: TestClient, school: SchoolBuilder, db: Database, admin_headers: dict[str, str]
) -> None:
    await school.school_class("5А")
    await school.teacher_of("5А", login="teacher5a")
    await school.person(Role.COORDINATOR, login="coord")
    await sign_in(client, "coord")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(Section.key == "school"))
    topic_response = await post_form(client, f"/forum/sections/{section}/topics",
                                     {"title": "Тема", "body": "Начало"})
    topic = topic_response.headers["Location"]
    before = await _counts(db)

    answers: dict[str, Any] = {
        "topic": await post_form(client, f"/forum/sections/{section}/topics",
                                 {"title": "Тема\x00", "body": "Текст"}),
        "reply": await post_form(client, f"{topic}/reply", {"body": "Ответ\x00"}),
        "announcement": await post_form(client, "/board/new", {
            "title": "Объявление", "body": "Текст\x00", "audience": "school"}),
        "search": await client.get("/forum/search", params={"q": "a\x00b"}),
        "person (API)": await client.post("/api/v1/people", headers=admin_headers, json={
            "last_name": "Нулев\x00", "first_name": "Пётр", "roles": ["student"]}),
        "CSV": await client.post("/api/v1/people/import", headers={
            **admin_headers, "Content-Type": "text/csv"},
            data="external_id;last_name;first_name;roles\nS-1;Нул\x00ев;Пётр;student\n".encode()),
        "grade comment": await client.post("/api/v1/grades", headers=admin_headers, json={
            "items": [{"source_id": "G-1", "student_id": 1, "subject": "Математика",
                       "date": "2026-11-30", "value": "5", "comment": "хорошо\x00"}]}),
    }
    client.session.cookie_jar.clear()
    answers["sign-in"] = await post_form(client, "/signin",
                                         {"login": "coord\x00", "password": PASSWORD})
    for what, response in answers.items():
        refused(response.status, what)
    assert await _counts(db) == before


async def test_malformed_requests_get_4xx_not_500(
    client: TestClient, school: SchoolBuilder, db: Database, admin_headers: dict[str, str]
) -> None:
    await school.person(Role.COORDINATOR, login="coord")
    await sign_in(client, "coord")
    token = await ensure_csrf(client)
    deep = "[" * 1000 + "]" * 1000
    answers: dict[str, Any] = {
        "deep JSON": await client.post("/api/v1/people", headers={
            **admin_headers, "Content-Type": "application/json"}, data=deep),
        "deep JSON in a field": await client.post("/api/v1/people", headers={
            **admin_headers, "Content-Type": "application/json"},
            data='{"last_name": ' + deep + "}"),
        "2**70 as an id": await client.post("/api/v1/guardianships", headers=admin_headers,
                                            json={"parent_id": 2**70, "child_id": 1}),
        "1e23 as an id": await client.post("/api/v1/guardianships", headers={
            **admin_headers, "Content-Type": "application/json"},
            data='{"parent_id": 1e23, "child_id": 1}'),
        "2**70 in the path": await client.get(f"/api/v1/people/{2**70}",
                                              headers=admin_headers),
        "0xFF in a form": await client.post(
            "/forum/search", data=b"csrf_token=" + token.encode() + b"&q=\xff\xfe",
            headers={"Content-Type": "application/x-www-form-urlencoded"}),
        "0xFF in a sign-in form": await client.post(
            "/signin", data=b"csrf_token=" + token.encode() + b"&login=\xff&password=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"}),
        "edit of a missing announcement": await post_form(
            client, "/board/999999/edit", {"title": "Нет", "body": "Такого нет"}),
        "form of a missing announcement": await client.get("/board/999999/edit"),
    }
    body, content_type = browser_multipart(
        {"csrf_token": token, "title": "Файл", "body": "Текст", "audience": "school"},
        {"files": ("bad\x00name.pdf", b"%PDF-1.4\n")})
    answers["NUL in a file name"] = await client.post(
        "/board/new", data=body, headers={"Content-Type": content_type}, allow_redirects=False)
    for what, response in answers.items():
        refused(response.status, what)
        if what != "0xFF in a form":
            assert response.status != 405, what


async def test_bad_cookies_and_next_get_4xx(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    token = await ensure_csrf(client)
    with_newline = await post_form(client, "/signin", {
        "login": "petrova", "password": PASSWORD, "next": "/profile\r\nSet-Cookie: x=1"})
    assert with_newline.status == 303
    assert "\n" not in with_newline.headers["Location"]
    assert "Set-Cookie: x" not in str(with_newline.headers)

    client.session.cookie_jar.clear()
    raw = await client.get("/profile", headers={"Cookie": "hub_session=\xff\xfe"},
                           allow_redirects=False)
    assert raw.status in (303, 400)
    assert token


async def test_405_says_what_is_allowed(client: TestClient, school: SchoolBuilder) -> None:
    for path in ("/signin", "/api/v1/people"):
        response = await client.request("PATCH", path)
        assert response.status == 405, path
        assert "GET" in response.headers["Allow"], path


async def test_openapi_documents_404_and_409(client: TestClient, school: SchoolBuilder) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    person = document["paths"]["/api/v1/people/{id}"]
    assert "404" in person["get"]["responses"]
    assert "409" in document["paths"]["/api/v1/people"]["post"]["responses"]
    assert json.dumps(document)
