"""The API tokens page and the classes page of the administration."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hub.db import Database
from hub.school import Role, SchoolClass
from tests.support.school import SchoolBuilder
from tests.support.web import post_form, sign_in


async def test_issued_token_is_shown_once_works_and_stops_after_revocation(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    await sign_in(client, "admin")
    response = await post_form(client, "/admin/tokens", {"name": "Журнал", "scopes": "admin"})
    assert response.status == 200
    page = await response.text()
    secret = re.search(r'<code class="secret">(hub_[\w-]+)</code>', page)
    assert secret is not None
    assert secret.group(1) not in await (await client.get("/admin/tokens")).text()

    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    client.session.cookie_jar.clear()
    assert (await client.get("/api/v1/classes", headers=bearer)).status == 200

    await sign_in(client, "admin")
    token_id = re.search(r"/admin/tokens/(\d+)/revoke", page)
    assert token_id is not None
    response = await post_form(client, f"/admin/tokens/{token_id.group(1)}/revoke")
    assert response.status == 303
    client.session.cookie_jar.clear()
    assert (await client.get("/api/v1/classes", headers=bearer)).status == 401


async def test_token_without_scope_is_refused_and_hr_cannot_manage_tokens(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    await school.person(Role.HR, login="kadry")
    await sign_in(client, "admin")
    response = await post_form(client, "/admin/tokens", {"name": "Без прав"})
    assert response.status == 422
    assert "хотя бы одну область" in await response.text()
    await sign_in(client, "kadry")
    assert (await client.get("/admin/tokens")).status == 403
    assert (await post_form(client, "/admin/tokens",
                            {"name": "x", "scopes": "admin"})).status == 403


async def test_classes_are_created_normalised_and_duplicates_refused(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.HR, login="kadry")
    await sign_in(client, "kadry")
    response = await post_form(client, "/admin/classes", {"name": "7 б"})
    assert response.status == 303
    response = await post_form(client, "/admin/classes", {"name": "7Б"})
    assert response.status == 422 and "Класс 7Б уже есть" in await response.text()
    response = await post_form(client, "/admin/classes", {"name": "15Ы"})
    assert response.status == 422
    async with db.session() as session:
        assert list(await session.scalars(select(SchoolClass.name))) == ["7Б"]
    page = await (await client.get("/admin/classes")).text()
    assert "7Б" in page


async def test_nav_shows_admin_items_only_to_those_allowed(
    client: TestClient, school: SchoolBuilder
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    await school.person(Role.PARENT, login="mama")
    await sign_in(client, "admin")
    page = await (await client.get("/profile")).text()
    assert 'href="/admin/people"' in page and 'href="/admin/tokens"' in page
    await sign_in(client, "mama")
    page = await (await client.get("/profile")).text()
    assert 'href="/admin/people"' not in page and 'href="/admin/tokens"' not in page
