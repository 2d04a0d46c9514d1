"""Personal data (152-ФЗ): export everything about a person, erase it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import compose
from hub.auth.access import TokenScope
from hub.auth.models import Account, WebSession
from hub.auth.tokens import issue_token
from hub.db import Database
from hub.notify.addresses import ContactAddress, set_address
from hub.notify.channel import ChannelName
from hub.school import Consent, Enrolment, Guardianship, Person, Role
from tests.support.school import SchoolBuilder
from tests.support.web import api, post_form, sign_in


class _NotesSource:
    """A feature package's source, as hub.compose.privacy_sources lists them."""

    name = "notes"
    erased: list[int] = []

    async def export(self, session: AsyncSession, person_id: int) -> Any:
        return [{"note": f"note of {person_id}"}]

    async def erase(self, session: AsyncSession, person_id: int) -> None:
        self.erased.append(person_id)


PRIVACY = _NotesSource()


@pytest.fixture(autouse=True)
def _notes_source(monkeypatch: pytest.MonkeyPatch) -> None:
    every_package = compose.privacy_sources()
    monkeypatch.setattr(compose, "privacy_sources", lambda: (*every_package, PRIVACY))
    _NotesSource.erased.clear()


async def _family(school: SchoolBuilder, db: Database) -> tuple[Person, Person]:
    child = await school.student("5А", last_name="Петров", first_name="Пётр")
    parent = await school.parent_of(child, login="petrova", last_name="Петрова",
                                    first_name="Анна", email="petrova@example.org")
    async with db.transaction() as session:
        await set_address(session, parent.id, ChannelName.TELEGRAM, "123456")
    return child, parent


async def test_export_holds_kernel_data_and_every_source(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    child, parent = await _family(school, db)
    await sign_in(client, "petrova")
    await sign_in(client, "admin")
    response = await client.get(f"/admin/people/{parent.id}/export")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(await response.text())
    assert data["person"]["last_name"] == "Петрова"
    assert data["person"]["email"] == "petrova@example.org"
    assert data["roles"] == ["parent"]
    assert data["children"] == [{"id": child.id, "name": "Петров Пётр"}]
    assert {c["purpose"] for c in data["consents"]} == {"processing", "notifications"}
    assert data["account"]["login"] == "petrova" and data["account"]["sessions"] >= 1
    assert "password_hash" not in json.dumps(data)
    assert data["contact_addresses"][0]["address"] == "123456"
    assert data["sources"]["notes"] == [{"note": f"note of {parent.id}"}]


async def test_erase_after_confirmation_anonymises_and_removes_everything(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.SYSADMIN, login="admin")
    child, parent = await _family(school, db)
    await sign_in(client, "admin")

    page = await (await client.get(f"/admin/people/{parent.id}/erase")).text()
    assert "УДАЛИТЬ" in page
    # Without the confirmation word nothing happens.
    response = await post_form(client, f"/admin/people/{parent.id}/erase", {"confirm": "да"})
    assert response.status == 422
    async with db.session() as session:
        assert (await session.get_one(Person, parent.id)).last_name == "Петрова"

    response = await post_form(client, f"/admin/people/{parent.id}/erase",
                               {"confirm": "удалить"})
    assert response.status == 200
    async with db.session() as session:
        person = await session.get_one(Person, parent.id)
        assert "Петрова" not in person.full_name and person.email is None
        assert person.roles == frozenset()
        for model, column in ((Account, Account.person_id), (Consent, Consent.person_id),
                              (ContactAddress, ContactAddress.person_id)):
            count = await session.scalar(
                select(func.count()).select_from(model).where(column == parent.id))
            assert count == 0, model
        assert await session.scalar(select(func.count()).select_from(Guardianship)) == 0
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 1  # admin
        # The child is untouched.
        assert (await session.get_one(Person, child.id)).last_name == "Петров"
        assert await session.get(Enrolment, child.id) is not None
    assert _NotesSource.erased == [parent.id]

    # The erased person can no longer sign in.
    response = await post_form(client, "/signin", {"login": "petrova",
                                                   "password": "correct horse battery"})
    assert response.status == 401


async def test_api_export_and_erase_need_the_sysadmin(
    client: TestClient, school: SchoolBuilder, db: Database
) -> None:
    await school.person(Role.HR, login="kadry")
    await school.person(Role.SYSADMIN, login="admin")
    child, parent = await _family(school, db)
    await sign_in(client, "kadry")
    assert (await api(client, "GET", f"/api/v1/people/{parent.id}/export")).status == 403
    assert (await api(client, "DELETE", f"/api/v1/people/{parent.id}")).status == 403
    async with db.transaction() as session:
        token = await issue_token(session, school.school_id, "x", [TokenScope.ADMIN])
    response = await client.request("DELETE", f"/api/v1/people/{parent.id}",
                                    headers={"Authorization": f"Bearer {token.secret}"})
    assert response.status == 403
    async with db.session() as session:
        assert (await session.get_one(Person, parent.id)).last_name == "Петрова"

    await sign_in(client, "admin")
    response = await api(client, "GET", f"/api/v1/people/{child.id}/export")
    assert response.status == 200
    assert (await response.json())["guardians"] == [{"id": parent.id, "name": parent.full_name}]
    response = await api(client, "DELETE", f"/api/v1/people/{child.id}")
    assert response.status == 200
    async with db.session() as session:
        assert await session.get(Enrolment, child.id) is None
        assert "Петров" not in (await session.get_one(Person, child.id)).full_name
