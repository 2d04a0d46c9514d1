"""CSRF: the token is bound to the session, so a cookie planted from another site on the
same host is useless; a cross-site Origin is refused even with a good token."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from forum.models import Section, Topic
from hub.db import Database
from hub.school import Role
from tests.support.school import PASSWORD, SchoolBuilder
from tests.support.web import ensure_csrf, post_form, sign_in

PLANTED = "A" * 43


async def test_a_planted_cookie_and_its_value_do_not_pass(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.PARENT, login="petrova")
    await sign_in(client, "petrova")
    assert (await client.get("/forum")).status == 200
    async with db.session() as session:
        section = await session.scalar(select(Section.id).where(Section.key == "school"))
    # What a page on another port of the same host can do: set the cookie, post its value.
    client.session.cookie_jar.update_cookies({"hub_csrf": PLANTED},
                                            response_url=client.make_url("/"))
    forged = await client.post(
        f"/forum/sections/{section}/topics",
        data={"csrf_token": PLANTED, "title": "Подделка", "body": "Написано не мной"},
        allow_redirects=False,
    )
    assert forged.status == 403
    forged_api = await client.post("/api/v1/classes", json={"name": "9Я"},
                                   headers={"X-CSRF-Token": PLANTED})
    assert forged_api.status == 403
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Topic)) == 0
    # The page's own token still works.
    response = await post_form(client, f"/forum/sections/{section}/topics",
                               {"title": "Настоящая", "body": "Написано мной"})
    assert response.status == 303


async def test_a_token_works_only_with_its_own_session(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    await school.person(Role.PARENT, login="sidorov")
    await sign_in(client, "petrova")
    petrova_token = await ensure_csrf(client)
    await sign_in(client, "sidorov")
    assert await ensure_csrf(client) != petrova_token
    response = await client.post("/signout", data={"csrf_token": petrova_token},
                                 allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/profile", allow_redirects=False)).status == 200


async def test_signed_out_forms_refuse_planted_tokens_and_other_origins(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.PARENT, login="petrova")
    client.session.cookie_jar.update_cookies({"hub_csrf": PLANTED},
                                            response_url=client.make_url("/"))
    planted = await client.post("/signin", data={
        "csrf_token": PLANTED, "login": "petrova", "password": PASSWORD},
        allow_redirects=False)
    assert planted.status == 403
    token = await ensure_csrf(client)
    elsewhere = await client.post("/signin", data={
        "csrf_token": token, "login": "petrova", "password": PASSWORD},
        headers={"Origin": f"http://{client.server.host}:1"}, allow_redirects=False)
    assert elsewhere.status == 403
    here = await client.post("/signin", data={
        "csrf_token": token, "login": "petrova", "password": PASSWORD},
        headers={"Origin": f"http://{client.server.host}:{client.server.port}"},
        allow_redirects=False)
    assert here.status == 303
